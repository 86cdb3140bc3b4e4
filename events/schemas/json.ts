import * as z from "zod";

/**
 * A string that must hold JSON, piped into `schema`.
 *
 * Providers nest JSON inside JSON (SNS `Message`, CloudWatch `reasonData`, the gunzipped
 * `awslogs.data`). Parsing the text inside zod keeps a bad payload a zod issue at the field's
 * path instead of a `SyntaxError` thrown from the handler. The issue does not echo the input:
 * it may be large, and it ends up in logs.
 *
 * @example
 * ```ts
 * const Body = jsonString(z.object({ id: z.string() }));
 * Body.safeParse('{"id":"a"}'); // success, data = { id: "a" }
 * Body.safeParse("not json");   // issue at [], "Expected a JSON string"
 * ```
 */
export function jsonString<T extends z.ZodType>(schema: T) {
  return z
    .string()
    .transform((text, ctx): unknown => {
      try {
        return JSON.parse(text);
      } catch {
        ctx.addIssue({ code: "custom", message: "Expected a JSON string" });
        return z.NEVER;
      }
    })
    .pipe(schema);
}
