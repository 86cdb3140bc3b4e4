import type { z } from "zod/mini";
import { apiBase } from "./config";
import {
  CommandWire,
  ErrorWire,
  IncidentDetailWire,
  IncidentPageWire,
  MetricsWire,
  OnCallsWire,
  SilencesWire,
  SilenceWire,
  SummaryWire,
} from "./wire";

/** A request the API refused or could not answer; `status` 0 when it was never reached. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The token was missing, wrong or revoked (401). */
export class UnauthorizedError extends ApiError {
  override name = "UnauthorizedError";
}

export interface IncidentFilters {
  status: string;
  severity: string;
  source: string;
  /** A service's name; "" for every service. */
  service: string;
}

export interface ApiOptions {
  /** The API's origin; `""` for the page's own. */
  base?: string;
  fetch?: typeof fetch;
  /** Told when the API turns the token away, before the error is thrown. */
  onUnauthorized?: (error: UnauthorizedError) => void;
}

/**
 * The incidents API, each reply parsed before anything renders it.
 * @example
 * const api = createApi(token);
 * const { items } = await api.incidents({ status: "open", severity: "", source: "", service: "" }, 50);
 */
export function createApi(token: string, options: ApiOptions = {}) {
  const base = options.base ?? apiBase();
  const fetchFn = options.fetch ?? fetch.bind(globalThis);
  async function call<T>(
    schema: z.ZodMiniType<T>,
    path: string,
    init: { method?: string; body?: unknown; accept?: string } = {},
  ): Promise<T> {
    const response = await send(path, init);
    const body = await readJson(response);
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      throw new ApiError(response.status, "unexpected_reply", `unexpected reply from ${path}`, {
        cause: parsed.error,
      });
    }
    return parsed.data;
  }

  async function send(
    path: string,
    init: { method?: string; body?: unknown; accept?: string },
  ): Promise<Response> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: init.accept ?? "application/json",
    };
    if (init.body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetchFn(`${base}${path}`, {
        method: init.method ?? "GET",
        headers,
        body: init.body === undefined ? null : JSON.stringify(init.body),
        cache: "no-store",
        credentials: "omit",
        referrerPolicy: "no-referrer",
      });
    } catch (error) {
      throw new ApiError(0, "unreachable", `could not reach the API${base ? ` at ${base}` : ""}`, {
        cause: error,
      });
    }
    if (response.ok) return response;
    const failure = ErrorWire.safeParse(await readJson(response).catch(() => null));
    const code = failure.success ? failure.data.error.code : `http_${response.status}`;
    const message = failure.success
      ? failure.data.error.message
      : `the API answered ${response.status} ${response.statusText}`.trim();
    if (response.status === 401) {
      const error = new UnauthorizedError(401, code, message);
      options.onUnauthorized?.(error);
      throw error;
    }
    throw new ApiError(response.status, code, message);
  }

  const id = encodeURIComponent;

  return {
    incidents(filters: IncidentFilters, limit: number) {
      const query = new URLSearchParams({ limit: String(limit) });
      for (const [key, value] of Object.entries(filters)) if (value) query.set(key, value);
      return call(IncidentPageWire, `/incidents?${query}`);
    },
    incident: (incidentId: string) => call(IncidentDetailWire, `/incidents/${id(incidentId)}`),
    /** A CloudWatch incident's alarm metrics, an hour before it to now. */
    metrics: (incidentId: string) => call(MetricsWire, `/incidents/${id(incidentId)}/metrics`),
    acknowledge: (incidentId: string) =>
      call(CommandWire, `/incidents/${id(incidentId)}/acknowledge`, { method: "POST" }),
    resolve: (incidentId: string, note: string) =>
      call(CommandWire, `/incidents/${id(incidentId)}/resolve`, {
        method: "POST",
        body: note.trim() ? { note: note.trim() } : {},
      }),
    note: (incidentId: string, text: string) =>
      call(CommandWire, `/incidents/${id(incidentId)}/notes`, { method: "POST", body: { text } }),
    /** Moves this incident's alerts into `into`; this one resolves. */
    merge: (incidentId: string, into: string) =>
      call(CommandWire, `/incidents/${id(incidentId)}/merge`, { method: "POST", body: { into } }),
    /** Splits one alert off into an incident of its own. */
    split: (incidentId: string, alertId: string) =>
      call(CommandWire, `/incidents/${id(incidentId)}/alerts/${id(alertId)}/split`, {
        method: "POST",
      }),
    approve: (incidentId: string, actionId: string) =>
      call(CommandWire, `/incidents/${id(incidentId)}/actions/${id(actionId)}/approve`, {
        method: "POST",
      }),
    async postmortem(incidentId: string): Promise<string> {
      const response = await send(`/incidents/${id(incidentId)}/postmortem`, {
        accept: "text/markdown",
      });
      return response.text();
    },
    summary(since: string | null) {
      const query = since ? `?${new URLSearchParams({ since })}` : "";
      return call(SummaryWire, `/reports/summary${query}`);
    },
    onCall: () => call(OnCallsWire, "/oncall"),
    silences: () => call(SilencesWire, "/silences"),
    createSilence: (body: { matcher: string; duration: string; reason?: string }) =>
      call(SilenceWire, "/silences", { method: "POST", body }),
    async removeSilence(silenceId: string): Promise<void> {
      await send(`/silences/${id(silenceId)}`, { method: "DELETE" });
    },
  };
}

export type Api = ReturnType<typeof createApi>;

async function readJson(response: Response): Promise<unknown> {
  const type = response.headers.get("content-type") ?? "";
  if (!/\bjson\b/i.test(type)) {
    throw new ApiError(response.status, "unexpected_reply", `expected JSON, got "${type}"`);
  }
  try {
    return await response.json();
  } catch (error) {
    throw new ApiError(response.status, "unexpected_reply", "the reply is not JSON", {
      cause: error,
    });
  }
}
