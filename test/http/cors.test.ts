/** CORS: off unless origins are configured; then only those origins get CORS headers and preflight answers. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readSettings } from '../../src/config/settings.ts';
import { ADMIN_TOKEN, startTestEngine, type TestEngine, webhookToMllpChannel } from '../support/in-process.ts';

const CONSOLE = 'https://console.example.org';
/** A channel, since an engine needs one; nothing is posted to it, so its LIS port is never dialled. */
const CHANNELS = { 'hook.yaml': webhookToMllpChannel('hook', 2575) };

function corsHeaders(res: Response): Record<string, string> {
  return Object.fromEntries([...res.headers].filter(([name]) => name.startsWith('access-control-')));
}

function preflight(t: TestEngine, origin: string): Promise<Response> {
  return fetch(`${t.url}/api/channels`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
  });
}

const apiGet = (t: TestEngine, origin: string) => fetch(`${t.url}/api/channels`, { headers: { origin, authorization: `Bearer ${ADMIN_TOKEN}` } });

describe('CORS not configured (the default)', () => {
  let t: TestEngine;
  before(async () => {
    t = await startTestEngine(CHANNELS);
  });
  after(() => t.stop());

  test('no CORS header on any answer, whatever the Origin', async () => {
    const res = await apiGet(t, CONSOLE);
    assert.equal(res.status, 200);
    assert.deepEqual(corsHeaders(res), {});
    assert.equal(res.headers.get('vary'), null);
  });

  test('a preflight gets no CORS answer', async () => {
    const res = await preflight(t, CONSOLE);
    assert.notEqual(res.status, 204);
    assert.deepEqual(corsHeaders(res), {});
  });
});

describe('CORS with a configured origin', () => {
  let t: TestEngine;
  before(async () => {
    t = await startTestEngine(CHANNELS, { corsOrigins: [CONSOLE, 'http://localhost:5173'] });
  });
  after(() => t.stop());

  test('a request from the configured origin gets Access-Control-Allow-Origin: <origin> and Vary: Origin', async () => {
    const res = await apiGet(t, CONSOLE);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), CONSOLE);
    assert.match(res.headers.get('vary') ?? '', /\bOrigin\b/);
    assert.match(res.headers.get('access-control-expose-headers') ?? '', /Retry-After/);
    assert.equal(res.headers.get('access-control-allow-credentials'), null);
    // Errors carry them too, so the page can read why.
    const denied = await fetch(`${t.url}/api/channels`, { headers: { origin: CONSOLE } });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('access-control-allow-origin'), CONSOLE);
  });

  test('another origin gets no CORS header (only Vary: Origin, for caches)', async () => {
    for (const origin of ['https://evil.example', 'https://console.example.org.evil.example', 'null']) {
      const res = await apiGet(t, origin);
      assert.deepEqual(corsHeaders(res), {}, origin);
      assert.match(res.headers.get('vary') ?? '', /\bOrigin\b/);
    }
  });

  test('a preflight from the configured origin → 204 with methods, headers and max age', async () => {
    const res = await preflight(t, 'http://localhost:5173');
    assert.equal(res.status, 204);
    assert.deepEqual(corsHeaders(res), {
      'access-control-allow-origin': 'http://localhost:5173',
      'access-control-allow-methods': 'GET, POST, PUT, DELETE',
      'access-control-allow-headers': 'Authorization, Content-Type',
      'access-control-max-age': '600',
    });
  });

  test('a preflight from another origin gets no CORS answer', async () => {
    const res = await preflight(t, 'https://evil.example');
    assert.notEqual(res.status, 204);
    assert.deepEqual(corsHeaders(res), {});
  });
});

describe('the corsOrigins setting', () => {
  test('comma-separated from --cors-origins or CONDUIT_CORS_ORIGINS; none by default', () => {
    assert.deepEqual(readSettings({}, {}).corsOrigins, []);
    assert.deepEqual(readSettings({}, { CONDUIT_CORS_ORIGINS: `${CONSOLE}, http://localhost:5173` }).corsOrigins, [CONSOLE, 'http://localhost:5173']);
    assert.deepEqual(readSettings({ '--cors-origins': CONSOLE }, { CONDUIT_CORS_ORIGINS: 'https://other.example' }).corsOrigins, [CONSOLE]);
  });

  test("'*' is refused with a settings error saying to list exact origins", () => {
    assert.throws(
      () => readSettings({ '--cors-origins': '*' }, {}),
      (e: Error & { issues?: Array<{ path: PropertyKey[]; message: string }> }) =>
        e.name === 'ZodError' && e.issues![0]!.path[0] === 'corsOrigins' && /'\*' is not accepted: .*exact origins/.test(e.issues![0]!.message),
    );
  });

  test('anything but an exact origin is refused, naming it', () => {
    for (const bad of [`${CONSOLE}/`, `${CONSOLE}/admin`, 'console.example.org', 'https://Console.example.org', 'https://console.example.org:443', 'ftp://x.example']) {
      assert.throws(
        () => readSettings({}, { CONDUIT_CORS_ORIGINS: bad }),
        (e: Error & { issues?: Array<{ message: string }> }) => e.name === 'ZodError' && e.issues![0]!.message.startsWith(`'${bad}' is not an origin`),
        bad,
      );
    }
  });
});
