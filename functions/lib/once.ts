/**
 * Builds a value on first use and keeps it: clients and config are made once per cold start,
 * not per invocation. A failed build is not cached, so the next invocation tries again.
 */
export function once<T>(build: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= build().catch((error: unknown) => {
      value = undefined;
      throw error;
    });
    return value;
  };
}
