import type { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { errorResult, type HttpEvent, type HttpResult } from "./http";

/** The middy stack every function shares: structured logs with the Lambda context. */
export function lambda<TEvent, TResult>(
  logger: Logger,
  handler: (event: TEvent, context: Context) => Promise<TResult>,
) {
  return middy<TEvent, TResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(handler);
}

/** For API Gateway functions: the shared stack, and errors mapped to JSON responses. */
export function httpLambda(
  logger: Logger,
  handler: (event: HttpEvent, context: Context) => Promise<HttpResult>,
) {
  return lambda<HttpEvent, HttpResult>(logger, handler).use({
    onError: (request) => {
      request.response = errorResult(request.error, logger);
    },
  });
}
