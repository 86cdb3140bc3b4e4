import type { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { InvalidInputError } from "@firebreak/core";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { errorResult, type HttpEvent, type HttpResult } from "./http";

/**
 * The middy stack every function shares: structured logs with the Lambda context.
 * `logEvent: false` keeps the event out of the logs even with POWERTOOLS_LOGGER_LOG_EVENT set;
 * undefined leaves it to that variable.
 */
export function lambda<TEvent, TResult>(
  logger: Logger,
  handler: (event: TEvent, context: Context) => Promise<TResult>,
  options: { logEvent?: false } = {},
) {
  return middy<TEvent, TResult>()
    .use(injectLambdaContext(logger, { resetKeys: true, ...options }))
    .handler(handler);
}

/**
 * For API Gateway functions: the shared stack, and errors mapped to JSON responses. Their events
 * are never logged: headers carry bearer tokens and signatures, bodies Slack's response_url.
 */
export function httpLambda(
  logger: Logger,
  handler: (event: HttpEvent, context: Context) => Promise<HttpResult>,
) {
  return lambda<HttpEvent, HttpResult>(
    logger,
    async (event, context) => {
      // API Gateway always sends an object; invoked directly, a function may get anything.
      if (typeof event !== "object" || event === null || Array.isArray(event)) {
        throw new InvalidInputError("not an API Gateway HTTP API request");
      }
      return handler(event, context);
    },
    { logEvent: false },
  ).use({
    onError: (request) => {
      request.response = errorResult(request.error, logger);
    },
  });
}
