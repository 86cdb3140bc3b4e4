import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";

/** A Lambda context as the runtime passes it; Powertools reads the names from it. */
export function lambdaContext(functionName: string, timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: "512",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

// Bodies are text unless they look binary; API Gateway base64-encodes what is not text.
const TEXT_TYPES = /^(text\/|application\/(json|x-www-form-urlencoded|xml|.*\+json))/i;

/** A Node request as API Gateway (HTTP API, payload 2.0) would hand it to a function. */
export function toApiGatewayEvent(request: IncomingMessage, body: Buffer): APIGatewayProxyEventV2 {
  const url = new URL(request.url ?? "/", "http://127.0.0.1");
  // As API Gateway does: repeated headers and query keys are joined with commas (Node keeps only
  // the first of some headers, Authorization among them). No prototype, so a key such as
  // `__proto__` is an ordinary key that the routes' strict schemas then refuse.
  const headers: Record<string, string> = Object.create(null);
  for (const [name, values] of Object.entries(request.headersDistinct)) {
    if (values !== undefined) headers[name] = values.join(",");
  }
  const query: Record<string, string> = Object.create(null);
  for (const [name, value] of url.searchParams) {
    query[name] = Object.hasOwn(query, name) ? `${query[name]},${value}` : value;
  }
  const cookies = headers.cookie?.split(";").map((cookie) => cookie.trim());
  const isText = body.length === 0 || TEXT_TYPES.test(headers["content-type"] ?? "");
  const now = new Date();
  const method = (request.method ?? "GET").toUpperCase();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies ? { cookies } : {}),
    headers,
    queryStringParameters: url.search ? query : undefined,
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName: headers.host ?? "127.0.0.1",
      domainPrefix: "local",
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length === 0 ? undefined : isText ? body.toString("utf8") : body.toString("base64"),
    isBase64Encoded: !isText,
  };
}

/** Writes a function's API Gateway result to the Node response. */
export function writeApiGatewayResult(
  response: ServerResponse,
  result: APIGatewayProxyStructuredResultV2,
): void {
  const body = result.body ?? "";
  const bytes = result.isBase64Encoded ? Buffer.from(body, "base64") : Buffer.from(body, "utf8");
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  if (result.cookies?.length) headers["set-cookie"] = result.cookies;
  headers["content-length"] = String(bytes.length);
  response.writeHead(result.statusCode ?? 200, headers);
  response.end(bytes);
}
