import type { z } from "zod";
import { loadEvent } from "../fixtures";

/** Marks a property to delete in {@link breakFixture}. */
export const REMOVE = Symbol("remove");

type Path = readonly (string | number)[];

function isContainer(value: unknown): value is Record<string | number, unknown> {
  return typeof value === "object" && value !== null;
}

/** Sets (or, with {@link REMOVE}, deletes) the value at `path` in a JSON tree, in place. */
export function setAt(root: unknown, path: Path, value: unknown): void {
  const parentPath = path.slice(0, -1);
  const key = path.at(-1);
  let parent: unknown = root;
  for (const step of parentPath) {
    if (!isContainer(parent)) throw new Error(`No container at ${parentPath.join(".")}`);
    parent = parent[step];
  }
  if (!isContainer(parent) || key === undefined) {
    throw new Error(`No container at ${parentPath.join(".")}`);
  }
  if (value === REMOVE) delete parent[key];
  else parent[key] = value;
}

/** A fresh copy of a good fixture with one field broken, as powertools' tests do. */
export function breakFixture(name: string, path: Path, value: unknown): unknown {
  const event = loadEvent(name);
  setAt(event, path, value);
  return event;
}

/** The dotted paths of a failed parse's issues, e.g. `["detail.alarmName"]`. */
export function issuePaths(result: z.ZodSafeParseResult<unknown>): string[] {
  if (result.success) throw new Error("Expected the parse to fail");
  return result.error.issues.map((issue) => issue.path.map(String).join("."));
}
