import { ConditionalCheckFailedException, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { Clock, ReplayGuard } from "@firebreak/core";
import { TABLE } from "./table";

/**
 * Replay marks in the table: `pk = KV#<key>`, written only if absent (or expired), with
 * DynamoDB's TTL `expiresAt` so the table forgets them. TTL deletes lazily (up to days later,
 * never in the embedded DynamoDB), so an expired mark counts as absent and may be claimed anew.
 *
 * @example
 * const replays = new DynamoDbReplayGuard(client, tableName, systemClock);
 * if (!(await replays.firstTime(`slack-request#${signature}`, until))) return alreadyHandled;
 */
export class DynamoDbReplayGuard implements ReplayGuard {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {
    this.documents = DynamoDBDocumentClient.from(client);
  }

  async firstTime(key: string, until: number): Promise<boolean> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `KV#${key}`, sk: "KV", [TABLE.ttlAttribute]: Math.ceil(until / 1000) },
          ConditionExpression: "attribute_not_exists(pk) OR #expiresAt <= :now",
          ExpressionAttributeNames: { "#expiresAt": TABLE.ttlAttribute },
          ExpressionAttributeValues: { ":now": Math.floor(this.clock.now() / 1000) },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
