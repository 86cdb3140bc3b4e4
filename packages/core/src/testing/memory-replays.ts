import type { Clock, ReplayGuard } from "../ports";

/** A replay guard in memory, with the DynamoDB one's rules: a key is free again once expired. */
export class MemoryReplayGuard implements ReplayGuard {
  readonly remembered = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  async firstTime(key: string, until: number): Promise<boolean> {
    const expiresAt = this.remembered.get(key);
    if (expiresAt !== undefined && expiresAt > this.clock.now()) return false;
    this.remembered.set(key, until);
    return true;
  }
}
