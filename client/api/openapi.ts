import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { z } from 'zod';
import { DEFAULT_PER_PAGE, MAX_PER_PAGE } from './pagination';

// The OpenAPI 3.1 document of the whole API, assembled by @fastify/swagger from each route's `schema`. The route
// schemas are written in zod and converted with z.toJSONSchema (JSON Schema 2020-12, which OpenAPI 3.1 uses). They
// describe; they do not validate: the handlers read parameters in Grape's terms (clamped pages, last value of a
// repeated key, GitLab's messages), which a JSON Schema validator cannot express. So the routes' validator compiler
// accepts everything and the serializer is plain JSON.stringify (a response schema must never drop a field).

export const OPENAPI_PATH = '/api/v4/openapi.json';

/** A zod schema as the JSON Schema 2020-12 a route schema holds (the request side: what a client sends). */
export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' });
  return rest;
}

/** page and per_page, as every list endpoint reads them (readPagination). */
export const paginationQuery = z.object({
  page: z.int().default(1).optional().describe('Page number (a page below 1 is page 1)'),
  per_page: z
    .int()
    .default(DEFAULT_PER_PAGE)
    .optional()
    .describe(
      `Items per page; above ${MAX_PER_PAGE} gives ${MAX_PER_PAGE}, 0 is refused, a negative value is the default`,
    ),
});

const messageError = z
  .object({ message: z.union([z.string(), z.object({ error: z.string() })]) })
  .describe("GitLab's render_api_error! body");
const validationError = z
  .object({ error: z.string() })
  .describe('A parameter refused by validation, in Grape\'s format: "<param> is invalid"');

/** The error answers every authenticated route may give. */
export const commonErrors = {
  400: jsonSchema(z.union([validationError, messageError]).describe('Bad parameter or malformed body')),
  401: jsonSchema(messageError.describe('No token, or a bad one')),
  404: jsonSchema(messageError.describe("Not found, or not the caller's")),
};

export const paginationHeaders = {
  'X-Total': { type: 'integer' },
  'X-Total-Pages': { type: 'integer' },
  'X-Page': { type: 'integer' },
  'X-Per-Page': { type: 'integer' },
  'X-Next-Page': { type: 'string' },
  'X-Prev-Page': { type: 'string' },
  Link: { type: 'string' },
} as const;

/** A route schema: summary, tags, parameters and the answers, each a zod schema. */
export function routeSchema(options: {
  summary: string;
  tags: string[];
  params?: z.ZodObject;
  querystring?: z.ZodObject;
  body?: z.ZodType;
  response: Record<number, z.ZodType | Record<string, unknown>>;
  /** false for the routes open to anyone. */
  authenticated?: boolean;
  description?: string;
}): FastifySchema {
  const response = Object.fromEntries(
    Object.entries(options.response).map(([status, schema]) => [
      status,
      schema instanceof z.ZodType ? jsonSchema(schema) : schema,
    ]),
  );
  return {
    summary: options.summary,
    description: options.description,
    tags: options.tags,
    ...(options.params ? { params: jsonSchema(options.params) } : {}),
    ...(options.querystring ? { querystring: jsonSchema(options.querystring) } : {}),
    ...(options.body ? { body: jsonSchema(options.body) } : {}),
    response: options.authenticated === false ? response : { ...commonErrors, ...response },
    ...(options.authenticated === false ? { security: [] } : {}),
  };
}

/** Registers @fastify/swagger (before any route, so that it sees them all) and the schema-only compilers. */
export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'gitlab-temporal-background API',
        version,
        description:
          "GitLab's offline transfer exports and security-attribute bulk updates, run as Temporal workflows. " +
          "Modelled on GitLab's REST API v4; see docs/api.md for where it differs.",
      },
      components: {
        securitySchemes: {
          privateToken: { type: 'apiKey', in: 'header', name: 'PRIVATE-TOKEN' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ privateToken: [] }, { bearer: [] }],
    },
  });
}

/** GET /api/v4/openapi.json, open to anyone. */
export function openApiRoute(app: FastifyInstance): void {
  app.get(
    OPENAPI_PATH,
    {
      schema: routeSchema({
        summary: 'This document: the OpenAPI 3.1 description of the API',
        tags: ['meta'],
        authenticated: false,
        response: { 200: { type: 'object', description: 'An OpenAPI 3.1 document' } },
      }),
    },
    async () => app.swagger(),
  );
}
