/**
 * Issue 12: the admin API's OpenAPI 3.1 description is generated from the route table and the
 * zod schemas of each route; every route is in it, it validates against the OpenAPI 3.1 schema
 * (swagger-parser), and the engine serves it at /api/openapi.json without a token.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { openApiDocument } from '../../src/admin/openapi.ts';
import { ROUTE_SCHEMAS } from '../../src/admin/route-schemas.ts';
import { ADMIN_ROUTES, routeKey } from '../../src/admin/route-table.ts';
import { startTestEngine } from '../support/in-process.ts';

test('every route of the route table has its schemas, and no schema is left without a route', () => {
  const keys = ADMIN_ROUTES.map(routeKey);
  assert.deepEqual(keys.filter((k) => !(k in ROUTE_SCHEMAS)), [], 'routes without schemas');
  assert.deepEqual(Object.keys(ROUTE_SCHEMAS).filter((k) => !keys.includes(k)), [], 'schemas of no route');
});

test('the description is valid OpenAPI 3.1 and holds every route, its role, parameters and answers', async () => {
  const doc = openApiDocument(ADMIN_ROUTES, ROUTE_SCHEMAS, '0.0.0-test') as {
    openapi: string;
    paths: Record<string, Record<string, { 'x-role': string; parameters: Array<{ name: string; in: string }>; responses: Record<string, unknown>; requestBody?: unknown }>>;
  };
  await SwaggerParser.validate(structuredClone(doc) as never);
  assert.equal(doc.openapi, '3.1.0');
  for (const r of ADMIN_ROUTES) {
    const op = doc.paths[r.path.replace(/:([A-Za-z]+)/g, '{$1}')]?.[r.method.toLowerCase()];
    assert.ok(op, routeKey(r));
    assert.equal(op['x-role'], r.role);
  }
  const list = doc.paths['/api/messages']!.get!;
  assert.deepEqual(
    list.parameters.map((p) => p.name).sort(),
    ['channel', 'controlId', 'cursor', 'limit', 'patient', 'since', 'source', 'status', 'until'],
  );
  assert.ok(doc.paths['/api/tokens']!.post!.requestBody);
  assert.ok(doc.paths['/api/messages/{id}/resend']!.post!.responses['202']);
});

test('the engine serves it at /api/openapi.json, without a token', async (t) => {
  const e = await startTestEngine({ 'inbox.yaml': 'id: inbox\nsource:\n  type: webhook\n' });
  t.after(() => e.stop());
  const res = await fetch(`${e.url}/api/openapi.json`);
  assert.equal(res.status, 200);
  const doc = (await res.json()) as { openapi: string; info: { version: string } };
  assert.equal(doc.openapi, '3.1.0');
});
