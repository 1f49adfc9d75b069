/**
 * The `http` destination against a scripted loopback peer: request plans, saved values and
 * placeholders, resuming after a failure, response rules, transport failures, multipart bodies.
 */
import assert from 'node:assert/strict';
import { after, beforeEach, describe, test } from 'node:test';
import type { Logger } from 'pino';
import { createLogger } from '../../src/log.ts';
import { type PlannedRequest, REQUEST_PLAN_CONTENT_TYPE } from '../../src/protocols/http/request-plan.ts';
import { httpDestinationConfig, HttpSender } from '../../src/senders/http/destination/index.ts';
import type { OutboundMessage, SendOutcome } from '../../src/senders/types.ts';
import { monotonicMs } from '../../src/util/monotonic.ts';
import { sequence } from '../peers/fhir-server/script.ts';
import { type PeerAnswer, type PeerRequest, parseMultipart, startHttpPeer } from '../peers/partners/http-peer.ts';

type Handler = (req: PeerRequest) => PeerAnswer;
let handler: Handler = () => ({ status: 200, body: {} });
const peer = await startHttpPeer(
  ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].flatMap((method) =>
    ['/api/:a', '/api/:a/:b', '/api/:a/:b/:c', '/'].map((pattern) => ({ method, pattern, handle: (req: PeerRequest) => handler(req) })),
  ),
);
after(() => peer.close());
beforeEach(() => {
  peer.requests.length = 0;
  peer.script(undefined);
  handler = () => ({ status: 200, body: {} });
});

function captureLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger('trace', { write: (line: string) => lines.push(line) }), lines };
}

function sender(config: Record<string, unknown> = {}, log: Logger = captureLog().log): HttpSender {
  return new HttpSender(httpDestinationConfig.parse({ baseUrl: `${peer.url}/api`, timeoutMs: 2000, ...config }), { log });
}

let seq = 0;
function message(plan: PlannedRequest[] | string, id = `m${++seq}`, contentType = REQUEST_PLAN_CONTENT_TYPE): OutboundMessage {
  return { messageId: id, destinationId: 'partner', payload: typeof plan === 'string' ? plan : JSON.stringify(plan), contentType, controlId: `C-${id}`, attempt: 1 };
}

const send = (s: HttpSender, m: OutboundMessage): Promise<SendOutcome> => s.send(m, new AbortController().signal);

describe('request plans', () => {
  test('requests go in order; saveAs values fill later paths (URL-encoded) and bodies (typed); the idempotency key is per request', async () => {
    handler = (req) => (req.url.pathname === '/api/patients' ? { status: 201, body: { id: 'P 1/2', number: 7 } } : { status: 201, body: { ok: true } });
    const s = sender({ idempotencyKeyHeader: 'Idempotency-Key', headers: { 'X-Tenant': 'north' } });
    const outcome = await send(s, message([
      { step: 'patient', method: 'POST', path: '/patients', body: { name: 'A' }, saveAs: { patientId: 'id', n: 'number', created: '$status' } },
      { step: 'test', method: 'POST', path: '/patients/{{patientId}}/tests', body: { patientId: '{{patientId}}', n: '{{n}}', note: 'for {{patientId}} ({{created}})' } },
    ], 'plan1'));
    assert.equal(outcome.status, 'acknowledged', JSON.stringify(outcome));
    assert.equal(outcome.detail, '2 requests: patient POST 201, test POST 201');
    const [a, b] = peer.requests;
    assert.equal(b!.path, '/api/patients/P%201%2F2/tests');
    assert.deepEqual(b!.json, { patientId: 'P 1/2', n: 7, note: 'for P 1/2 (201)' });
    assert.equal(a!.headers['idempotency-key'], 'C-plan1-1');
    assert.equal(b!.headers['idempotency-key'], 'C-plan1-2');
    assert.equal(a!.headers['content-type'], 'application/json');
    assert.equal(a!.headers['accept'], 'application/json');
    assert.equal(a!.headers['x-tenant'], 'north');
    const response = JSON.parse((outcome as { response: string }).response);
    assert.deepEqual(response[0], { step: 'patient', method: 'POST', path: '/patients', status: 201, outcome: 'ok', body: { id: 'P 1/2', number: 7 } });
  });

  test('no request is made once the lane lease ends (sendBy), before the first or between two', async () => {
    const past = await send(sender(), { ...message([{ step: 'one', method: 'POST', path: '/one', body: {} }]), sendBy: monotonicMs() - 1 });
    assert.equal(past.status === 'retryable' && past.code, 'LEASE_LOST');
    assert.equal(peer.requests.length, 0);
    // The first answer comes after the lease ended (the peer runs on this thread: it holds the clock back by spinning).
    const sendBy = monotonicMs() + 200;
    handler = () => {
      while (monotonicMs() <= sendBy);
      return { status: 201, body: {} };
    };
    const plan: PlannedRequest[] = [
      { step: 'first', method: 'POST', path: '/first', body: {} },
      { step: 'second', method: 'POST', path: '/second', body: {} },
    ];
    const late = await send(sender(), { ...message(plan), sendBy });
    assert.equal(late.status === 'retryable' && late.code, 'LEASE_LOST', JSON.stringify(late));
    assert.match(late.status === 'retryable' ? late.detail : '', /^request 2\/2 \(second\)/);
    assert.deepEqual(peer.requests.map((r) => r.path), ['/api/first']);
  });

  test('skipIfSaved skips a create when a search found the record', async () => {
    handler = (req) =>
      req.method === 'GET' ? { status: 200, body: { data: req.url.searchParams.get('q') === 'known' ? [{ id: 'P9' }] : [] } } : { status: 201, body: { id: 'P10' } };
    const plan = (q: string): PlannedRequest[] => [
      { step: 'find', method: 'GET', path: `/patients?q=${q}`, saveAs: { patientId: 'data[0].id' } },
      { step: 'create', method: 'POST', path: '/patients', body: {}, saveAs: { patientId: 'id' }, skipIfSaved: ['patientId'] },
      { step: 'test', method: 'POST', path: '/tests', body: { patientId: '{{patientId}}' } },
    ];
    const found = await send(sender(), message(plan('known')));
    assert.equal(found.detail, '3 requests: find GET 200, create POST skipped, test POST 201');
    assert.deepEqual(peer.requests.at(-1)!.json, { patientId: 'P9' });
    const created = await send(sender(), message(plan('new')));
    assert.equal(created.detail, '3 requests: find GET 200, create POST 201, test POST 201');
    assert.deepEqual(peer.requests.at(-1)!.json, { patientId: 'P10' });
  });

  test('a failure part-way is retryable and the next attempt resumes at the failed request with the saved values', async () => {
    handler = (req) => ({ status: 201, body: { id: `id-for-${req.url.pathname}` } });
    peer.script((r) => (r.path === '/api/tests' && r.index === 1 ? { status: 503, headers: { 'retry-after': '7' }, body: { message: 'maintenance' } } : undefined));
    const s = sender();
    const m = message([
      { step: 'patient', method: 'POST', path: '/patients', body: {}, saveAs: { patientId: 'id' } },
      { step: 'test', method: 'POST', path: '/tests', body: { patientId: '{{patientId}}' } },
    ]);
    const first = await send(s, m);
    assert.equal(first.status, 'retryable');
    assert.equal((first as { code: string }).code, 'HTTP_SERVER_ERROR');
    assert.equal((first as { retryAfterMs: number }).retryAfterMs, 7000);
    assert.equal(first.detail, 'request 2/2 (test) POST /tests: 503 Service Unavailable: maintenance');
    const second = await send(s, { ...m, attempt: 2 });
    assert.equal(second.status, 'acknowledged');
    assert.equal(second.detail, 'resumed after 1 request(s) done in an earlier attempt; 1 request: test POST 201');
    assert.deepEqual(peer.requests.map((r) => r.path), ['/api/patients', '/api/tests', '/api/tests']);
    assert.deepEqual(peer.requests[2]!.json, { patientId: 'id-for-/api/patients' });
  });

  test('a broken connection part-way keeps the progress too; a fresh sender (a restart) starts over', async () => {
    handler = () => ({ status: 201, body: { id: 'X' } });
    peer.script((r) => (r.index === 1 ? 'drop' : undefined));
    const config = httpDestinationConfig.parse({ baseUrl: `${peer.url}/api`, timeoutMs: 2000 });
    const m = message([
      { step: 'one', method: 'POST', path: '/a', body: {}, saveAs: { id: 'id' } },
      { step: 'two', method: 'POST', path: '/b', body: { id: '{{id}}' } },
    ]);
    const first = await send(new HttpSender(config, { log: captureLog().log }), m);
    assert.equal((first as { code: string }).code, 'HTTP_CONNECTION_LOST');
    assert.match(first.detail ?? '', /^request 2\/2 \(two\) POST \/b: the connection to 127\.0\.0\.1:\d+ broke/);
    // Another lane of the same destination shares the progress.
    assert.equal((await send(new HttpSender(config, { log: captureLog().log }), m)).status, 'acknowledged');
    assert.deepEqual(peer.requests.map((r) => r.path), ['/api/a', '/api/b', '/api/b']);
    // A new configuration (a restart, a reload) knows nothing: everything is sent again.
    peer.requests.length = 0;
    peer.script(undefined);
    assert.equal((await send(sender(), m)).status, 'acknowledged');
    assert.deepEqual(peer.requests.map((r) => r.path), ['/api/a', '/api/b']);
  });

  test('a value an answer did not hold: HTTP_RESPONSE_INVALID, and the next attempt starts over', async () => {
    let calls = 0;
    handler = (req) => (req.url.pathname === '/api/a' ? { status: 201, body: ++calls === 1 ? {} : { id: 'late' } } : { status: 201, body: {} });
    const s = sender();
    const m = message([
      { step: 'one', method: 'POST', path: '/a', body: {}, saveAs: { id: 'id' } },
      { step: 'two', method: 'POST', path: '/b/{{id}}', body: {} },
    ]);
    const first = await send(s, m);
    assert.equal(first.status, 'retryable');
    assert.equal((first as { code: string }).code, 'HTTP_RESPONSE_INVALID');
    assert.equal(first.detail, 'request 2/2 (two) POST /b/{{id}}: no value saved for {{id}}; the earlier answers did not hold it');
    assert.equal((await send(s, m)).status, 'acknowledged');
    assert.deepEqual(peer.requests.map((r) => r.path), ['/api/a', '/api/a', '/api/b/late']);
  });

  test('an empty plan is acknowledged without a request; an unreadable one is rejected', async () => {
    assert.equal((await send(sender(), message([]))).status, 'acknowledged');
    const bad = await send(sender(), message('{"not":"a plan"}'));
    assert.equal(bad.status, 'rejected');
    assert.equal((bad as { code: string }).code, 'HTTP_PAYLOAD_INVALID');
    assert.equal(peer.requests.length, 0);
  });

  test('any other payload is one POST of it to baseUrl, with its own content type', async () => {
    const outcome = await send(sender({ baseUrl: `${peer.url}/` }), message('MSH|^~\\&|...', 'raw', 'application/hl7-v2'));
    assert.equal(outcome.status, 'acknowledged');
    assert.equal(peer.requests[0]!.path, '/');
    assert.equal(peer.requests[0]!.headers['content-type'], 'application/hl7-v2');
    assert.equal(peer.requests[0]!.body.toString(), 'MSH|^~\\&|...');
  });

  test('a form is sent as multipart/form-data: files decoded from base64, text fields filled', async () => {
    handler = (req) => (req.url.pathname === '/api/doc' ? { status: 201, body: { id: 'D1' } } : { status: 201, body: {} });
    const pdf = Buffer.from('%PDF-1.4\n\u00e9\u0000binary\r\n--not-a-boundary\n%%EOF', 'latin1');
    const outcome = await send(sender(), message([
      { step: 'doc', method: 'POST', path: '/doc', body: {}, saveAs: { docId: 'id' } },
      { step: 'upload', method: 'POST', path: '/upload', form: { note: 'doc {{docId}}', file: { filename: 'r "1".pdf', contentType: 'application/pdf', base64: pdf.toString('base64') } } },
    ]));
    assert.equal(outcome.status, 'acknowledged', JSON.stringify(outcome));
    const upload = peer.requests[1]!;
    const parts = parseMultipart(upload.headers['content-type'], upload.body);
    assert.deepEqual(
      parts.map((p) => ({ ...p, data: p.data.toString('latin1') })),
      [
        { name: 'note', data: 'doc D1' },
        { name: 'file', filename: 'r %221%22.pdf', contentType: 'application/pdf', data: pdf.toString('latin1') },
      ],
    );
  });
});

describe('response rules', () => {
  const one: PlannedRequest[] = [{ step: 'create', method: 'POST', path: '/things', body: { a: 1 }, saveAs: { id: '$exists(id) ? id : existingId' } }];

  test('a configured duplicate status is acknowledged, and saveAs reads its body', async () => {
    handler = () => ({ status: 409, body: { error: 'DUPLICATE', message: 'already exists', existingId: 'E1' } });
    const outcome = await send(sender({ responses: { duplicateStatuses: [409] } }), message([...one, { step: 'next', method: 'PUT', path: '/things/{{id}}', body: {} }]));
    assert.equal(outcome.status, 'acknowledged');
    assert.equal(outcome.detail, '2 requests: create POST 409 (duplicate), next PUT 409 (duplicate)');
    assert.equal(peer.requests[1]!.path, '/api/things/E1');
  });

  test('with a body pattern, only matching answers are duplicates; others are refused with the API message', async () => {
    const s = sender({ responses: { duplicateStatuses: [409], duplicateBodyPattern: 'result already submitted' } });
    handler = () => ({ status: 409, body: { title: 'Conflict', detail: 'result already submitted for test T1: negative' } });
    assert.equal((await send(s, message(one))).status, 'acknowledged');
    handler = () => ({ status: 409, body: { title: 'Conflict', detail: 'conflicting result for test T1: it already has result negative' } });
    const conflict = await send(s, message(one));
    assert.equal(conflict.status, 'rejected');
    assert.equal((conflict as { code: string }).code, 'HTTP_CLIENT_ERROR');
    assert.equal(conflict.detail, 'request 1/1 (create) POST /things: 409 Conflict: Conflict: conflicting result for test T1: it already has result negative');
    // Without a rule, a 409 is a refusal like any 4xx.
    assert.equal((await send(sender(), message(one))).status, 'rejected');
  });

  test('4xx: rejected, with the API message and the field errors; the raw body kept in the response', async () => {
    handler = () => ({ status: 400, body: { error: 'VALIDATION_ERROR', message: 'the request body is not valid', errors: [{ field: 'dateOfBirth', message: 'expected YYYY-MM-DD' }] } });
    const outcome = await send(sender(), message(one));
    assert.equal(outcome.status, 'rejected');
    assert.equal(outcome.detail, 'request 1/1 (create) POST /things: 400 Bad Request: VALIDATION_ERROR: the request body is not valid; dateOfBirth: expected YYYY-MM-DD');
    assert.equal(JSON.parse((outcome as { response: string }).response)[0].body.errors[0].field, 'dateOfBirth');
  });

  test('403: AUTH_FORBIDDEN with the API message; 401 with a fixed credential: AUTH_UNAUTHORIZED', async () => {
    handler = () => ({ status: 403, body: { error: 'FORBIDDEN', message: "this integration lacks the 'Create Patients' permission (patients:create)" } });
    const forbidden = await send(sender(), message(one));
    assert.deepEqual([forbidden.status, (forbidden as { code: string }).code], ['rejected', 'AUTH_FORBIDDEN']);
    assert.match(forbidden.detail ?? '', /403 Forbidden: FORBIDDEN: this integration lacks the 'Create Patients' permission \(patients:create\)$/);
    handler = () => ({ status: 401, body: 'Unauthorized' });
    const unauthorized = await send(sender({ auth: { type: 'bearer', token: 't' } }), message(one));
    assert.deepEqual([unauthorized.status, (unauthorized as { code: string }).code], ['rejected', 'AUTH_UNAUTHORIZED']);
    assert.equal(peer.requests.length, 2, 'a fixed token is not tried twice');
  });

  test('429 and 5xx are retryable, with Retry-After (seconds or HTTP-date); 3xx is not followed', async () => {
    const at = new Date(Date.now() + 60_000).toUTCString();
    handler = () => ({ status: 429, body: { message: 'slow down' }, headers: { 'retry-after': at } });
    const limited = await send(sender(), message(one));
    assert.deepEqual([limited.status, (limited as { code: string }).code], ['retryable', 'HTTP_TOO_MANY_REQUESTS']);
    const wait = (limited as { retryAfterMs: number }).retryAfterMs;
    assert.ok(wait > 55_000 && wait <= 60_000, String(wait));
    handler = () => ({ status: 502, body: '<html>Bad gateway</html>' });
    const failed = await send(sender(), message(one));
    assert.deepEqual([failed.status, (failed as { code: string }).code, failed.detail], ['retryable', 'HTTP_SERVER_ERROR', 'request 1/1 (create) POST /things: 502 Bad Gateway']);
    handler = () => ({ status: 302, headers: { location: 'http://elsewhere.invalid/' } });
    const moved = await send(sender(), message(one));
    assert.deepEqual([moved.status, (moved as { code: string }).code], ['rejected', 'HTTP_UNEXPECTED_STATUS']);
  });

  test('transport failures: refused, timed out', async () => {
    const closed = await startHttpPeer([]);
    await closed.close();
    const refused = await send(sender({ baseUrl: `${closed.url}/api` }), message(one));
    assert.deepEqual([refused.status, (refused as { code: string }).code], ['retryable', 'HTTP_CONNECT_REFUSED']);
    peer.script(sequence('hang'));
    const hung = await send(sender({ timeoutMs: 200 }), message(one));
    assert.deepEqual([hung.status, (hung as { code: string }).code], ['retryable', 'HTTP_TIMEOUT']);
  });
});

describe('logs and configuration', () => {
  test('logs carry steps, statuses and codes, never paths, bodies or credentials', async () => {
    const { log, lines } = captureLog();
    handler = () => ({ status: 400, body: { message: 'bad MRN-777123 for Nguyen' } });
    await send(
      sender({ auth: { type: 'api-key-headers', headers: { 'x-api-key': 'k-secret-123' } } }, log),
      message([{ step: 'find', method: 'GET', path: '/patients?mrn=MRN-777123', saveAs: { id: 'id' } }]),
    );
    const text = lines.join('\n');
    assert.match(text, /"step":"find"/);
    assert.match(text, /"code":"HTTP_CLIENT_ERROR"/);
    for (const leak of ['MRN-777123', 'Nguyen', 'k-secret-123', '/patients']) assert.ok(!text.includes(leak), leak);
  });

  test('bad configurations are refused with a clear message', () => {
    const problems = (c: Record<string, unknown>) => {
      const r = httpDestinationConfig.safeParse({ baseUrl: 'https://api.example/v1', ...c });
      assert.ok(!r.success);
      return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    assert.deepEqual(problems({ auth: { type: 'api-key' } }), [
      "auth.type: expected auth.type 'none', 'bearer', 'api-key-headers', 'oauth2-client-credentials', 'smart-backend' or 'hmac'",
    ]);
    assert.deepEqual(problems({ auth: { type: 'api-key-headers', headers: {} } }), [`auth.headers: expected at least one header, e.g. x-api-key: $\{PARTNER_API_KEY}`]);
    assert.deepEqual(problems({ auth: { type: 'hmac', secret: 'short' } }), [`auth.secret: expected a secret of at least 16 characters (reference it as $\{ENV_NAME})`]);
    assert.deepEqual(problems({ headers: { Authorization: 'Bearer x' } }), ["headers.Authorization: header 'Authorization' cannot be set here: set credentials with auth"]);
    assert.match(problems({ responses: { duplicateStatuses: [409], duplicateBodyPattern: '(' } })[0]!, /^responses\.duplicateBodyPattern: not a valid regular expression/);
    assert.deepEqual(problems({ responses: { duplicateStatuses: [200] } }), ['responses.duplicateStatuses.0: Too small: expected number to be >=400']);
  });
});
