import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";

/** BatchGetItem's limit: keys a request. */
const BATCH_GET_KEYS = 100;

/**
 * Items by key (each key's `sk` fixed by its `pk`), keyed by `pk`, read consistently with
 * BatchGetItem: 100 keys a request, the requests side by side, keys left unprocessed asked
 * again. A key without an item is absent.
 */
export async function batchGetItems(
  documents: DynamoDBDocumentClient,
  tableName: string,
  keys: ReadonlyArray<{ pk: string; sk: string }>,
): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  const chunks = Array.from({ length: Math.ceil(keys.length / BATCH_GET_KEYS) }, (_, index) =>
    keys.slice(index * BATCH_GET_KEYS, (index + 1) * BATCH_GET_KEYS),
  );
  await Promise.all(
    chunks.map(async (chunk) => {
      let request: ReadonlyArray<Record<string, unknown>> | undefined = chunk;
      while (request?.length) {
        const result: BatchGetCommandOutput = await documents.send(
          new BatchGetCommand({
            RequestItems: { [tableName]: { Keys: [...request], ConsistentRead: true } },
          }),
        );
        for (const item of result.Responses?.[tableName] ?? []) {
          found.set(String(item.pk), item);
        }
        request = result.UnprocessedKeys?.[tableName]?.Keys;
      }
    }),
  );
  return found;
}
