import {
  clip,
  formatIssues,
  InvalidInputError,
  NotFoundError,
  UnsupportedMediaTypeError,
} from "@firebreak/core";
import type { z } from "zod";
import { type HttpEvent, type HttpResult, header, json, rawBody } from "./http";

export type Method = "GET" | "POST" | "PATCH" | "DELETE";

export interface RouteRequest<TQuery, TBody> {
  event: HttpEvent;
  params: Record<string, string>;
  query: TQuery;
  body: TBody;
  /** Who is asking, as timelines record it (`api:<token name>`); `anonymous` on public routes. */
  actor: string;
}

/**
 * One route: its schemas validate the request and, through `openapi.ts`, describe it. The
 * same table serves requests and documents them, so the two cannot disagree.
 */
export interface Route<TQuery = unknown, TBody = unknown> {
  method: Method;
  /** With `{name}` parameters: `/incidents/{id}`. */
  path: string;
  summary: string;
  tags?: string[];
  /** Routes are authenticated unless they say otherwise. */
  public?: boolean;
  params?: z.ZodType<Record<string, string>>;
  query?: z.ZodType<TQuery>;
  body?: z.ZodType<TBody>;
  /** Response schemas by status, for the description. */
  responses?: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
  handle(request: RouteRequest<TQuery, TBody>): Promise<HttpResult>;
}

/** Keeps each route's query and body types tied to its schemas. */
export const route = <TQuery = undefined, TBody = undefined>(definition: Route<TQuery, TBody>) =>
  definition as unknown as Route;

function validate<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (!result.success)
    throw new InvalidInputError(`invalid ${where}: ${formatIssues(result.error)}`);
  return result.data;
}

function readJson(event: HttpEvent): unknown {
  const bytes = rawBody(event);
  if (bytes.length === 0) return undefined;
  const type = header(event, "content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new UnsupportedMediaTypeError("send the body as application/json");
  }
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new InvalidInputError("the body is not valid JSON");
  }
}

const segments = (path: string) => path.split("/").filter(Boolean);

/** Matches a path pattern (`/incidents/{id}`) against a request path, extracting parameters. */
function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = segments(pattern);
  const got = segments(path);
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let index = 0; index < want.length; index++) {
    const expected = want[index] as string;
    const actual = got[index] as string;
    if (expected.startsWith("{") && expected.endsWith("}")) {
      try {
        params[expected.slice(1, -1)] = decodeURIComponent(actual);
      } catch {
        return undefined;
      }
    } else if (expected !== actual) return undefined;
  }
  return params;
}

/** Routes loaded together (one module), on the first request for any of them. */
export type RouteGroup = () => Promise<ReadonlyArray<Route>>;

/** A route table's key, as API Gateway names routes: `GET /incidents/{id}`. */
export type RouteKey = `${Method} /${string}`;

/**
 * Dispatches API Gateway v2 events to routes: 404 for an unknown path, 405 (with `Allow`) for a
 * known path and another method, 400 naming the bad parameter, then the route's handler.
 * `authenticate` runs before any route that is not public, and before validation.
 *
 * The table maps each route's key to the group that serves it, so a request loads only its own
 * group's module (its schemas, and what its handler needs: RE2 for silences, luxon for on-call),
 * and 404 and 405 are answered from the keys alone.
 */
export function createRouter(
  table: Readonly<Record<RouteKey, RouteGroup>>,
  authenticate: (event: HttpEvent) => Promise<string>,
) {
  const entries = Object.entries(table).map(([key, group]) => {
    const [method, path] = key.split(" ") as [Method, string];
    return { key, method, path, group };
  });
  return async (event: HttpEvent): Promise<HttpResult> => {
    // Invoked directly (not through API Gateway) the event may be anything: refuse it, do not crash.
    const method = event.requestContext?.http?.method;
    const path = event.rawPath;
    if (typeof method !== "string" || typeof path !== "string") {
      throw new InvalidInputError("not an API Gateway HTTP API (payload 2.0) request");
    }
    const candidates = entries
      .map((entry) => ({ entry, params: matchPath(entry.path, path) }))
      .filter((candidate) => candidate.params !== undefined);
    if (candidates.length === 0) throw new NotFoundError(`no route for ${clip(path, 200)}`);
    const found = candidates.find((candidate) => candidate.entry.method === method.toUpperCase());
    if (!found) {
      const allow = candidates.map((candidate) => candidate.entry.method).join(", ");
      return json(
        405,
        { error: { code: "method_not_allowed", message: `use ${allow}` } },
        { allow },
      );
    }
    const { entry } = found;
    const chosen = (await entry.group()).find(
      (candidate) => candidate.method === entry.method && candidate.path === entry.path,
    );
    if (!chosen) throw new Error(`the route table names ${entry.key}, which its group lacks`);
    const actor = chosen.public ? "anonymous" : await authenticate(event);
    const params = chosen.params
      ? validate(chosen.params, found.params, "path parameter")
      : (found.params as Record<string, string>);
    const query = chosen.query
      ? validate(chosen.query, event.queryStringParameters ?? {}, "query")
      : undefined;
    const body = chosen.body ? validate(chosen.body, readJson(event), "body") : undefined;
    return chosen.handle({ event, params, query, body, actor });
  };
}
