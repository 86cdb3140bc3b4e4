import * as z from "zod";
import { RollbackTargetSchema } from "../actions/schema";

const Text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\p{Cc}\u2028\u2029]+$/u, "no control characters or line breaks");

/**
 * Something that changed a service: a deploy (CodeDeploy, ECS, a Lambda alias update) or what
 * a pipeline reported through `POST /changes`. `target` is what `rollback: "last-change"`
 * acts on: set it back to `previousVersion`.
 */
export const ChangeSchema = z.object({
  /** Derived from the source's own id (the event id, or the body for `POST /changes`). */
  id: z.string().min(1).max(128),
  service: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/i),
  version: Text(256),
  previousVersion: Text(256).nullable(),
  target: RollbackTargetSchema.nullable(),
  commit: Text(128).nullable(),
  author: Text(256).nullable(),
  url: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .nullable(),
  /** When it was deployed. */
  at: z.iso.datetime(),
  /** Where it came from: `codedeploy`, `ecs`, `lambda`, or `api`. */
  origin: z.enum(["codedeploy", "ecs", "lambda", "api"]),
  /** The account it happened in, when known. */
  account: z
    .string()
    .regex(/^\d{12}$/)
    .nullable(),
});
export type Change = z.infer<typeof ChangeSchema>;
