import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type FhirServerPeer, operationOutcome, sequence, startFhirServer } from '../../peers/fhir-server/index.ts';
import { monotonicMs } from '../../../src/util/monotonic.ts';
import { assertOutcome, Cleanup, fhirSender, LAB_REPORT, outbound, send } from './helpers.ts';

const cleanup = new Cleanup();
after(() => cleanup.run());

/** A transaction-response with these entry statuses, for scripted answers. */
function transactionResponse(...statuses: string[]): object {
  return {
    resourceType: 'Bundle',
    type: 'transaction-response',
    entry: statuses.map((status) => ({
      response: { status, ...(status.startsWith('2') ? {} : { outcome: operationOutcome(status.startsWith('5') ? 'exception' : 'processing', `entry failed with ${status}`) }) },
    })),
  };
}

describe('FHIR sender: HTTP statuses, Retry-After and transport failures', () => {
  let fhir: FhirServerPeer;
  before(async () => {
    fhir = cleanup.add(await startFhirServer());
  });

  it('503 is retryable HTTP_SERVER_ERROR; the next attempt succeeds', async () => {
    fhir.script(sequence({ status: 503, body: operationOutcome('transient', 'maintenance') }));
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl });
    const first = await send(sender);
    assertOutcome(first, 'retryable', 'HTTP_SERVER_ERROR');
    assert.equal(first.detail, '503 Service Unavailable: maintenance');
    assert.equal(first.retryAfterMs, undefined);
    assert.match(first.response!, /OperationOutcome/);
    assertOutcome(await send(sender), 'acknowledged');
    assert.deepEqual(fhir.requests.slice(-2).map((r) => r.status), [503, 200]);
  });

  it('a Bundle whose sendBy (its lane lease) has passed is not posted: retryable LEASE_LOST', async () => {
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl });
    const before = fhir.requests.length;
    const late = await sender.send({ ...outbound(LAB_REPORT, 'late'), sendBy: monotonicMs() - 1 }, new AbortController().signal);
    assertOutcome(late, 'retryable', 'LEASE_LOST');
    assert.equal(fhir.requests.length, before, 'nothing reached the server');
    assertOutcome(await sender.send({ ...outbound(LAB_REPORT, 'in-time'), sendBy: monotonicMs() + 60_000 }, new AbortController().signal), 'acknowledged');
  });

  it('429 with Retry-After: 2 is retryable HTTP_TOO_MANY_REQUESTS with retryAfterMs 2000', async () => {
    fhir.script(sequence({ status: 429, headers: { 'retry-after': '2' } }));
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl });
    const outcome = await send(sender);
    assertOutcome(outcome, 'retryable', 'HTTP_TOO_MANY_REQUESTS');
    assert.equal(outcome.retryAfterMs, 2000);
    assert.equal(outcome.detail, '429 Too Many Requests');
  });

  it('503 with an HTTP-date Retry-After gives the time until then', async () => {
    const at = new Date(Date.now() + 120_000);
    fhir.script(sequence({ status: 503, headers: { 'retry-after': at.toUTCString() } }));
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl });
    const outcome = await send(sender);
    assertOutcome(outcome, 'retryable', 'HTTP_SERVER_ERROR');
    // The exact arithmetic is unit-tested with a fixed clock (classify.test.ts).
    assert.ok(outcome.retryAfterMs! > 0 && outcome.retryAfterMs! <= 120_000, String(outcome.retryAfterMs));
  });

  it('408 is retryable HTTP_REQUEST_TIMEOUT; other 4xx are rejected HTTP_CLIENT_ERROR; 403 is AUTH_FORBIDDEN', async () => {
    fhir.script(
      sequence(
        { status: 408 },
        { status: 404, body: operationOutcome('not-found', 'Not found') },
        { status: 422, body: operationOutcome('processing', 'Unknown code system') },
        { status: 403, body: operationOutcome('forbidden', 'Forbidden') },
      ),
    );
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl });
    assertOutcome(await send(sender), 'retryable', 'HTTP_REQUEST_TIMEOUT');
    const notFound = await send(sender);
    assertOutcome(notFound, 'rejected', 'HTTP_CLIENT_ERROR');
    assert.equal(notFound.detail, '404 Not Found: Not found');
    const unprocessable = await send(sender);
    assertOutcome(unprocessable, 'rejected', 'HTTP_CLIENT_ERROR');
    assert.equal(unprocessable.detail, '422 Unprocessable Entity: Unknown code system');
    assertOutcome(await send(sender), 'rejected', 'AUTH_FORBIDDEN');
  });

  it('a redirect is not followed: rejected HTTP_UNEXPECTED_STATUS', async () => {
    fhir.script(sequence({ status: 301, headers: { location: 'http://127.0.0.1:1/elsewhere' } }));
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl });
    const outcome = await send(sender);
    assertOutcome(outcome, 'rejected', 'HTTP_UNEXPECTED_STATUS');
    assert.match(outcome.detail, /^301 Moved Permanently \(redirects are not followed/);
  });

  it('a 200 whose transaction-response holds a 4xx entry is rejected FHIR_ENTRY_REJECTED, a 5xx entry retryable FHIR_ENTRY_FAILED', async () => {
    fhir.script(
      sequence(
        { status: 200, body: transactionResponse('201 Created', '400 Bad Request', '201', '201') },
        { status: 200, body: transactionResponse('201', '201', '503', '200') },
      ),
    );
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl });
    const rejected = await send(sender);
    assertOutcome(rejected, 'rejected', 'FHIR_ENTRY_REJECTED');
    assert.equal(rejected.detail, '4 entries: 3×201 Created, 1×400 Bad Request; entry[1] 400 Bad Request: entry failed with 400 Bad Request');
    const failed = await send(sender);
    assertOutcome(failed, 'retryable', 'FHIR_ENTRY_FAILED');
    assert.equal(failed.detail, '4 entries: 2×201 Created, 1×200 OK, 1×503 Service Unavailable; entry[2] 503 Service Unavailable: entry failed with 503');
  });

  it('a 2xx that is not the expected transaction-response is FHIR_RESPONSE_INVALID (ambiguous: retried)', async () => {
    fhir.script(
      sequence(
        { status: 200, body: '<html>proxy</html>' },
        { status: 200, body: { resourceType: 'Bundle', type: 'batch-response', entry: [] } },
        { status: 200, body: transactionResponse('201', '201') },
        { status: 204 },
      ),
    );
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl });
    const details: string[] = [];
    for (let i = 0; i < 4; i++) {
      const outcome = await send(sender);
      assertOutcome(outcome, 'retryable', 'FHIR_RESPONSE_INVALID');
      details.push(outcome.detail);
    }
    assert.deepEqual(details, [
      'expected a transaction-response Bundle, got no JSON object',
      "expected a transaction-response Bundle, got a Bundle of type 'batch-response'",
      'transaction-response has 2 entries for the 4 sent',
      'expected a transaction-response Bundle, got no JSON object',
    ]);
  });

  it('no answer within timeoutMs: retryable HTTP_TIMEOUT', async () => {
    fhir.script(sequence('hang'));
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl, timeoutMs: 200 });
    const outcome = await send(sender);
    assertOutcome(outcome, 'retryable', 'HTTP_TIMEOUT');
    assert.match(outcome.detail, /within 200 ms/);
  });

  it('the connection dropped after the request: retryable HTTP_CONNECTION_LOST; then delivered', async () => {
    fhir.script(sequence('drop'));
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl });
    assertOutcome(await send(sender), 'retryable', 'HTTP_CONNECTION_LOST');
    assertOutcome(await send(sender), 'acknowledged');
  });

  it("the dispatcher's abort: HTTP_ABORTED, before or during the exchange", async () => {
    fhir.script(sequence('hang'));
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl });
    const controller = new AbortController();
    const pending = send(sender, undefined, controller.signal);
    controller.abort();
    assertOutcome(await pending, 'retryable', 'HTTP_ABORTED');
    assertOutcome(await send(sender, undefined, AbortSignal.abort()), 'retryable', 'HTTP_ABORTED');
  });

  it('connection refused: retryable HTTP_CONNECT_REFUSED', async () => {
    // A port that was just free: listen on port 0, note the port, close.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const sender = fhirSender(cleanup, { baseUrl: `http://127.0.0.1:${port}/fhir` });
    const outcome = await send(sender);
    assertOutcome(outcome, 'retryable', 'HTTP_CONNECT_REFUSED');
    assert.equal(outcome.detail, `connection refused by 127.0.0.1:${port}`);
  });

  it('extra static headers are sent; Content-Type and Accept are the FHIR JSON type', async () => {
    let seen: Record<string, string | string[] | undefined> = {};
    fhir.script((req) => {
      seen = req.headers;
      return 'pass';
    });
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl, headers: { 'X-Tenant': 'lab-east', Prefer: 'return=minimal' } });
    assertOutcome(await send(sender), 'acknowledged');
    fhir.script(undefined);
    assert.equal(seen['x-tenant'], 'lab-east');
    assert.equal(seen['prefer'], 'return=minimal');
    assert.equal(seen['content-type'], 'application/fhir+json');
    assert.equal(seen['accept'], 'application/fhir+json');
  });

  it('close() waits for the sends in progress; later sends are HTTP_ABORTED', async () => {
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl });
    const pending = send(sender);
    await sender.close();
    assertOutcome(await pending, 'acknowledged');
    assertOutcome(await send(sender), 'retryable', 'HTTP_ABORTED');
  });
});
