import { parseIncidentId } from "@firebreak/core";
import * as z from "zod";

/** What every route answers on a 4xx, as the OpenAPI document describes it. */
export const ErrorResponse = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});

/** An incident id as people type it (any case, Crockford's look-alikes), canonical after. */
export const IncidentId = z.string().transform((value, ctx) => {
  const id = parseIncidentId(value);
  if (!id) {
    ctx.addIssue({
      code: "custom",
      message: "an incident id is 7 letters and digits, like K7Q2XPD",
    });
    return z.NEVER;
  }
  return id;
});

/** `{id}` in a route's path. */
export const IncidentParams = z.object({ id: IncidentId });
