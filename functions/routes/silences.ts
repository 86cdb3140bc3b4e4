import {
  type ApiDeps,
  DurationSchema,
  NotFoundError,
  newSilence,
  parseMatcher,
  SilenceIdPattern,
  SilenceMatchSchema,
  SilenceSchema,
} from "@firebreak/core";
import * as z from "zod";
import { json } from "../lib/http";
import { ERRORS } from "../lib/params";
import { type Route, route } from "../lib/router";

const SilenceParams = z.object({
  id: z
    .string()
    .transform((value) => value.toUpperCase())
    .pipe(z.string().regex(SilenceIdPattern, "a silence id such as S4K2PX")),
});

const SilenceBody = z
  .strictObject({
    /** `alarmName=api-* source=cloudwatch`, as in Slack; or `match`, as in a rule. */
    matcher: z.string().min(1).max(500).optional(),
    match: SilenceMatchSchema.optional(),
    duration: DurationSchema.refine(
      (ms) => ms >= 60_000 && ms <= 30 * 86_400_000,
      "between 1m and 30d",
    ),
    reason: z.string().trim().max(500).optional(),
  })
  .refine((body) => (body.matcher === undefined) !== (body.match === undefined), {
    message: "give exactly one of matcher (text) or match (object)",
    path: ["matcher"],
  });

/** A match object written back as the matcher text people type. */
function matcherText(match: Record<string, unknown>): string {
  return Object.entries(match)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(",") : String(value)}`)
    .join(" ");
}

/** Silences: listed, made (as in Slack, or as a rule's match), ended. */
export function silenceRoutes(deps: () => Promise<ApiDeps>): Route[] {
  return [
    route({
      method: "GET",
      path: "/silences",
      summary: "Silences in force",
      tags: ["silences"],
      responses: {
        200: { description: "Silences", schema: z.object({ items: z.array(SilenceSchema) }) },
        ...ERRORS,
      },
      handle: async () => {
        const { silences, clock } = await deps();
        return json(200, { items: await silences.listActive(clock.now()) });
      },
    }),
    route<undefined, z.output<typeof SilenceBody>>({
      method: "POST",
      path: "/silences",
      summary: "Silence matching signals for a while: recorded, counted, nothing responds",
      tags: ["silences"],
      body: SilenceBody,
      responses: { 201: { description: "The silence", schema: SilenceSchema }, ...ERRORS },
      handle: async ({ body, actor }) => {
        const { silences, clock } = await deps();
        const match = body.match ?? parseMatcher(body.matcher as string);
        const silence = newSilence({
          match,
          matcher: body.matcher ?? matcherText(match),
          reason: body.reason || null,
          createdBy: actor,
          duration: body.duration,
          now: clock.now(),
        });
        await silences.put(silence);
        return json(201, silence);
      },
    }),
    route({
      method: "DELETE",
      path: "/silences/{id}",
      summary: "End a silence now",
      tags: ["silences"],
      params: SilenceParams,
      responses: {
        200: { description: "Removed", schema: z.object({ removed: z.string() }) },
        ...ERRORS,
      },
      handle: async ({ params }) => {
        const { silences } = await deps();
        if (!(await silences.delete(params.id as string)))
          throw new NotFoundError(`no silence ${params.id}`);
        return json(200, { removed: params.id });
      },
    }),
  ];
}
