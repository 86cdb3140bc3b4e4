import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  MAX_ONCALL_RANGE_MS,
  type OverrideStore,
  type ScheduleOverride,
  ScheduleOverrideSchema,
} from "@firebreak/core";
import { TABLE } from "./table";

/** Overrides are kept this long after they end, for calendars that look back; then TTL. */
const KEEP_AFTER_END_S = 30 * 86_400;

const partition = (schedule: string) => `SCHED#${schedule}`;
const sortKey = (override: Pick<ScheduleOverride, "from" | "id">) =>
  `OVR#${override.from}#${override.id}`;

/**
 * Overrides in the table: one partition per schedule (`SCHED#<name>`), sorted by start
 * (`OVR#<from>#<id>`). An override lasts at most `MAX_ONCALL_RANGE_MS`, so those overlapping a
 * range all start within that much before it: one Query reads them, whatever the history.
 */
export class DynamoDbOverrideStore implements OverrideStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client);
  }

  async put(override: ScheduleOverride): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: partition(override.schedule),
          sk: sortKey(override),
          overrideId: override.id,
          endsAt: override.to,
          [TABLE.ttlAttribute]: Math.ceil(Date.parse(override.to) / 1000) + KEEP_AFTER_END_S,
          data: JSON.stringify(override),
        },
      }),
    );
  }

  async delete(schedule: string, id: string): Promise<boolean> {
    // The id alone does not make the key: find its start first (few overrides per schedule).
    const items = await this.query(schedule, "OVR#", "OVR$", { id });
    const found = items[0];
    if (!found) return false;
    const { Attributes } = await this.documents.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: partition(schedule), sk: sortKey(found) },
        ReturnValues: "ALL_OLD",
      }),
    );
    return Attributes !== undefined;
  }

  async list(schedule: string, from: number, to: number): Promise<ScheduleOverride[]> {
    const earliest = new Date(Math.max(0, from - MAX_ONCALL_RANGE_MS)).toISOString();
    const latest = new Date(to).toISOString();
    // BETWEEN is inclusive, yet "OVR#<to>" sorts before "OVR#<to>#<id>": an override starting
    // at `to` is left out, as it should be.
    return this.query(schedule, `OVR#${earliest}`, `OVR#${latest}`, { endsAfter: from });
  }

  private async query(
    schedule: string,
    low: string,
    high: string,
    filter: { id?: string; endsAfter?: number },
  ): Promise<ScheduleOverride[]> {
    const found: ScheduleOverride[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk AND sk BETWEEN :low AND :high",
          FilterExpression: filter.id ? "overrideId = :id" : "endsAt > :after",
          ExpressionAttributeValues: {
            ":pk": partition(schedule),
            ":low": low,
            ":high": high,
            ...(filter.id
              ? { ":id": filter.id }
              : { ":after": new Date(filter.endsAfter ?? 0).toISOString() }),
          },
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
      );
      for (const item of result.Items ?? []) {
        found.push(ScheduleOverrideSchema.parse(JSON.parse(String(item.data))));
      }
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return found;
  }
}
