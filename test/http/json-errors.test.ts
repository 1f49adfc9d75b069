import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestEngine, type TestEngine, webhookToMllpChannel, ADMIN_TOKEN } from '../support/in-process.ts';
import { parseAnswer, rawRequest } from './raw.ts';

type Outcome = { resourceType: string; issue: Array<{ severity: string; code: string; diagnostics: string }> };

/** A JSON OperationOutcome with no stack trace, source path or HTML in it. */
function assertCleanOutcome(contentType: string | null, text: string, what: string): Outcome {
  assert.match(contentType ?? '', /^application\/json/, what);
  assert.doesNotMatch(text, /<html|<pre|<!DOCTYPE/i, what);
  assert.doesNotMatch(text, /\/work\/|node_modules|\bat [\w.<>]+ \(/, what);
  const o = JSON.parse(text) as Outcome;
  assert.equal(o.resourceType, 'OperationOutcome', what);
  assert.ok(o.issue.length > 0, what);
  return o;
}

describe('every error of the HTTP port is a JSON OperationOutcome: no HTML, no stack traces', () => {
  let t: TestEngine;
  before(async () => {
    t = await startTestEngine({ 'hook.yaml': webhookToMllpChannel('hook', 9) }, { headersTimeoutMs: 300 });
  });
  after(() => t.stop());

  test('a malformed percent-encoding in an admin path → 400 JSON (was express\'s HTML page with absolute paths)', async () => {
    const res = await t.admin('/api/messages/%E0%A4%A');
    assert.equal(res.status, 400);
    const o = assertCleanOutcome(res.headers.get('content-type'), await res.text(), 'malformed id');
    assert.equal(o.issue[0]!.code, 'invalid');
    const resend = await t.admin('/api/messages/%ZZ/resend', { method: 'POST' });
    assert.equal(resend.status, 400);
    assertCleanOutcome(resend.headers.get('content-type'), await resend.text(), 'malformed id on resend');
  });

  test('malformed paths outside /api, unknown routes and methods → JSON', async () => {
    for (const [method, path, status] of [
      ['GET', '/%E0%A4%A', 404],
      ['GET', '/channels/%E0%A4%A', 404],
      ['DELETE', '/health', 404],
      ['PROPFIND', '/api/channels', 404],
      ['PUT', '/channels/hook', 405],
    ] as const) {
      const res = await fetch(t.url + path, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      assert.equal(res.status, status, `${method} ${path}`);
      assertCleanOutcome(res.headers.get('content-type'), await res.text(), `${method} ${path}`);
    }
  });

  test('a bad JSON body to /api/reload is not a crash or an HTML page', async () => {
    const res = await t.admin('/api/reload', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"not json' });
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.doesNotMatch(await res.text(), /<html|\/work\//i);
  });

  test('requests node cannot parse get a JSON answer too: oversized headers, an unknown method, garbage, slow headers', async () => {
    const cases: Array<[string, string, number]> = [
      ['oversized headers', `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`, 431],
      ['an unknown method', 'FROB /health HTTP/1.1\r\nHost: x\r\n\r\n', 501],
      ['a malformed header line', 'GET /health HTTP/1.1\r\nthis is no header\r\n\r\n', 400],
      ['headers that never end', 'GET /health HTTP/1.1\r\nHost: x\r\n', 408],
    ];
    for (const [what, head, status] of cases) {
      const text = await rawRequest(t.engine.port, head).answer;
      const a = parseAnswer(text);
      assert.equal(a.status, status, what);
      assertCleanOutcome(/content-type: ([^\r\n]+)/i.exec(a.headers)?.[1] ?? null, text.slice(text.indexOf('\r\n\r\n') + 4), what);
    }
  });

  test('the engine still answers after all that', async () => {
    const res = await fetch(`${t.url}/health`);
    assert.equal(res.status, 200);
  });
});
