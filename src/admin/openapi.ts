import { z } from 'zod';
import type { RouteAccess } from './route-table.ts';
import { routeKey } from './route-table.ts';
import type { RouteSchemas } from './route-schemas.ts';
import { OperationOutcome } from './schemas.ts';

type Json = Record<string, unknown>;

/** A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect); transforms described by their input. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const s = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  delete s.$schema;
  return s;
}

/** Query parameters from an object schema, one per property. */
function parameters(schema: z.ZodType | undefined, path: string): Json[] {
  const params: Json[] = [...path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  if (!schema) return params;
  const s = jsonSchema(schema, 'input') as { properties?: Record<string, Json>; required?: string[] };
  for (const [name, prop] of Object.entries(s.properties ?? {})) {
    const { description, ...rest } = prop as { description?: string };
    params.push({ name, in: 'query', required: s.required?.includes(name) ?? false, schema: rest, ...(description ? { description } : {}) });
  }
  return params;
}

const ROLE_TEXT: Record<string, string> = {
  filtered: 'a token limited to a tenant sees only its channels',
  message: "a token limited to a tenant may act only on its channels' messages",
  refused: 'not for tokens limited to a tenant',
};

/**
 * The OpenAPI 3.1 description of the admin API, from the route table (who may call what) and
 * the zod schemas each route parses and answers with.
 */
export function openApiDocument(routes: readonly RouteAccess[], schemas: Readonly<Record<string, RouteSchemas>>, version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  const problem = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/OperationOutcome' } } } });
  for (const route of routes) {
    const s = schemas[routeKey(route)] ?? {};
    const path = route.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const ok = s.text
      ? { description: 'OK', content: { [s.text]: { schema: { type: 'string' } } } }
      : { description: 'OK', content: { 'application/json': { schema: s.answer ? jsonSchema(s.answer, 'output') : {} } } };
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      summary: route.summary,
      description: `Role: ${route.role} or above${route.fullRole ? ` (the whole answer: ${route.fullRole})` : ''}${route.anonymous ? '; without a token, a shorter answer' : ''}. Tenants: ${ROLE_TEXT[route.tenant]}.`,
      'x-role': route.role,
      'x-tenant': route.tenant,
      ...(route.anonymous ? { security: [{}, { bearer: [] }] } : {}),
      parameters: parameters(s.query, route.path),
      ...(s.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(s.body, 'input') } } } } : {}),
      responses: {
        [String(s.status ?? 200)]: ok,
        ...(route.anonymous ? {} : { '401': problem('no usable token (missing, unknown, revoked, expired)') }),
        '403': problem("the token's role or tenant does not allow it"),
        '422': problem('a parameter or the body is not what is expected (which, and what was expected)'),
        '429': problem('over the rate limit (Retry-After, RateLimit-* headers)'),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Conduit admin API',
      version,
      description: 'Messages, deliveries, tokens, the audit trail and the mapping workbench of a Conduit engine. Every route takes `Authorization: Bearer <token>`.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'CONDUIT_ADMIN_TOKEN or a named token (conduit token create)' } },
      schemas: { OperationOutcome: jsonSchema(OperationOutcome, 'output') },
    },
  };
}
