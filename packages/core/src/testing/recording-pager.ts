import type { DeliveryOutcome, PageDelivery, Pager } from "../paging/pager";

/** A pager that sends every page and keeps each delivery, in the order they were made. */
export class RecordingPager implements Pager {
  readonly delivered: PageDelivery[] = [];
  async followUp(): Promise<void> {}
  async deliver(delivery: PageDelivery): Promise<DeliveryOutcome> {
    this.delivered.push(delivery);
    return { status: "sent", detail: "ok" };
  }
}
