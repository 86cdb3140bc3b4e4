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

/** A moment with its offset (ISO 8601), as a route takes it: kept in UTC. */
export const Timestamp = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value).toISOString());

/** The 4xx answers the incidents API's routes describe. */
export const ERRORS = {
  400: { description: "A bad parameter or body", schema: ErrorResponse },
  401: { description: "No valid bearer token", schema: ErrorResponse },
  404: { description: "No such incident, action or silence", schema: ErrorResponse },
};
