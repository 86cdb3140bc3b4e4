import * as z from "zod";
import type { Route } from "./router";

type JsonSchema = Record<string, unknown>;

/** A schema as JSON Schema, as callers send it (transforms show their input side). */
const jsonSchema = (schema: z.ZodType, io: "input" | "output"): JsonSchema => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
  }) as JsonSchema;
  return rest;
};

/** The `{name}` placeholders of a path, in order. */
const pathParameters = (path: string) =>
  [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] as string);

/**
 * An OpenAPI 3.1 document from the route table: the schemas that validate each request are the
 * ones described, so the description cannot drift from what the API accepts.
 */
export function openApiDocument(
  routes: ReadonlyArray<Route>,
  info: { title: string; version: string },
) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const parameters: unknown[] = [];
    for (const name of pathParameters(route.path)) {
      const shape = route.params
        ? (jsonSchema(route.params, "input").properties as Record<string, JsonSchema>)
        : {};
      parameters.push({
        name,
        in: "path",
        required: true,
        schema: shape?.[name] ?? { type: "string" },
      });
    }
    if (route.query) {
      const query = jsonSchema(route.query, "input");
      const required = new Set((query.required as string[] | undefined) ?? []);
      for (const [name, schema] of Object.entries(
        (query.properties as Record<string, JsonSchema>) ?? {},
      )) {
        parameters.push({
          name,
          in: "query",
          required: required.has(name),
          schema,
          ...(typeof schema.description === "string" ? { description: schema.description } : {}),
        });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(
      route.responses ?? { 200: { description: "OK" } },
    )) {
      responses[status] = {
        description: response.description,
        ...(response.schema
          ? {
              content: {
                [response.contentType ?? "application/json"]: {
                  schema: jsonSchema(response.schema, "output"),
                },
              },
            }
          : {}),
      };
    }
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method.toLowerCase()] = {
      summary: route.summary,
      tags: route.tags ?? [],
      ...(route.public ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { "application/json": { schema: jsonSchema(route.body, "input") } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info,
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "A token from API_TOKENS" },
      },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
