import type { Logger } from "@aws-lambda-powertools/logger";
import { ClientError, InvalidInputError, PayloadTooLargeError } from "@firebreak/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

/** Larger bodies are refused with 413 before anything reads them. */
export const MAX_BODY_BYTES = 256 * 1024;

const BASE_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};

/** A header by name, whatever case the client or API Gateway used. */
export function header(event: HttpEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    // API Gateway sends strings; a directly invoked event may hold anything.
    if (key.toLowerCase() === wanted) return typeof value === "string" ? value : undefined;
  }
  return undefined;
}

/** The body as the client sent it, bytes intact (API Gateway may hand it over base64). */
export function rawBody(event: HttpEvent): Buffer {
  const body: unknown = event.body ?? "";
  // API Gateway always sends a string; an event invoked directly may hold anything.
  if (typeof body !== "string") throw new InvalidInputError("the body is not a string");
  const bytes = event.isBase64Encoded ? Buffer.from(body, "base64") : Buffer.from(body, "utf8");
  if (bytes.length > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(`request body is over ${MAX_BODY_BYTES / 1024} KB`);
  }
  return bytes;
}

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResult {
  return {
    statusCode: status,
    headers: { ...BASE_HEADERS, "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(body),
  };
}

export function text(status: number, body: string, contentType: string): HttpResult {
  return { statusCode: status, headers: { ...BASE_HEADERS, "content-type": contentType }, body };
}

/**
 * The error as the caller sees it: a client error's own message and status; anything else a
 * bare 500 (the details go to the log, never to the caller).
 */
export function errorResult(error: unknown, logger: Logger): HttpResult {
  if (error instanceof ClientError) {
    return json(error.status, { error: { code: error.code, message: error.message } });
  }
  logger.error("request failed", error as Error);
  return json(500, { error: { code: "internal", message: "internal error" } });
}
