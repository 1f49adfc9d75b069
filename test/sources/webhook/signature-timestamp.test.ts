/**
 * Webhook signatures with a timestamp: each platform's scheme (Stripe, Slack, Standard
 * Webhooks), the replay window, reused signatures, and the audit event of every refusal.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { AuditEvent } from '../../../src/audit/event.ts';
import { hmacAuth, signedHeaders } from '../../../src/senders/http/auth/hmac.ts';
import { auditEvent, watchAudit } from '../../support/audit-events.ts';
import { makeEvent } from '../../support/events.ts';
import { startTestEngine, type TestEngine, webhookToMllpChannel } from '../../support/in-process.ts';
import { startSandboxLis } from '../../support/sandbox.ts';

const SECRET = 'test-webhook-secret-0123456789';

type Outcome = { resourceType: string; issue: Array<{ code: string; diagnostics: string; details?: { text: string } }> };

const hmacHex = (content: string) => createHmac('sha256', SECRET).update(content).digest('hex');
const hmacBase64 = (content: string) => createHmac('sha256', SECRET).update(content).digest('base64');
const unixNow = (offsetSeconds = 0) => String(Math.floor(Date.now() / 1000) + offsetSeconds);

/** A webhook channel whose source block ends with `hmac` (YAML lines, indented under source). */
function signedChannel(id: string, port: number, hmac: string): string {
  return webhookToMllpChannel(id, port, undefined, `\n  hmac:\n    secret: $` + `{TEST_SIGNED_SECRET}\n${hmac}`);
}

describe('webhook signatures with a timestamp and a replay window', () => {
  let lis: Awaited<ReturnType<typeof startSandboxLis>>;
  let t: TestEngine;
  let audit: AuditEvent[];
  before(async () => {
    lis = await startSandboxLis();
    process.env.TEST_SIGNED_SECRET = SECRET;
    t = await startTestEngine({
      // Stripe's order ('{timestamp}.{body}', the default with a timestamp), unix seconds, 300 s.
      'stripe.yaml': signedChannel('stripe', lis.mllpPort, '    timestamp:\n      header: X-Timestamp\n'),
      'slack.yaml': signedChannel(
        'slack',
        lis.mllpPort,
        "    header: X-Slack-Signature\n    prefix: 'v0='\n    timestamp:\n      header: X-Slack-Request-Timestamp\n    signedContent: 'v0:{timestamp}:{body}'\n",
      ),
      'svix.yaml': signedChannel(
        'svix',
        lis.mllpPort,
        "    header: webhook-signature\n    prefix: 'v1,'\n    encoding: base64\n    timestamp:\n      header: webhook-timestamp\n    signedContent: '{header:webhook-id}.{timestamp}.{body}'\n",
      ),
      'iso.yaml': signedChannel('iso', lis.mllpPort, '    timestamp:\n      format: iso8601\n      toleranceSeconds: 60\n'),
      'plain.yaml': signedChannel('plain', lis.mllpPort, ''),
    });
    audit = watchAudit(t.engine.audit);
  });
  after(async () => {
    await t.stop();
    await lis.stop();
  });

  async function refused(res: Response): Promise<string> {
    assert.equal(res.status, 401);
    const o = (await res.json()) as Outcome;
    assert.equal(o.issue[0]!.code, 'security');
    assert.equal(o.issue[0]!.details?.text, 'INPUT_BAD_SIGNATURE');
    return o.issue[0]!.diagnostics;
  }

  const auditedReason = (channel: string, reason: string) =>
    auditEvent(audit, (e) => e.action === 'source.signature.refused' && e.actor === `source:${channel}` && e.detail?.reason === reason);

  function stripe(body: string, timestamp = unixNow()): Record<string, string> {
    return { 'x-timestamp': timestamp, 'x-signature': `sha256=${hmacHex(`${timestamp}.${body}`)}` };
  }

  async function storedCount(channel: string): Promise<number> {
    const list = (await (await t.admin(`/api/messages?channel=${channel}`)).json()) as { messages: unknown[] };
    return list.messages.length;
  }

  test('Stripe-like: {timestamp}.{body} signed with a fresh timestamp → 201; a re-signed repeat is a duplicate, not a replay', async () => {
    const body = JSON.stringify(makeEvent('res_TS_STRIPE'));
    // Both timestamps fixed up front: read from the clock at each post, they were the same
    // (hence the same signature, a replay) whenever a second began between the two posts.
    const now = unixNow();
    const first = await t.post('/channels/stripe', body, stripe(body, now));
    assert.equal(first.status, 201);
    // The platform retries with a new timestamp, hence a new signature: intake's idempotency answers it.
    const again = await t.post('/channels/stripe', body, stripe(body, String(Number(now) - 1)));
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { duplicate: boolean }).duplicate, true);
  });

  test('the same signed request twice within the window: the second is refused as reused, and audited', async () => {
    const body = JSON.stringify(makeEvent('res_TS_REPLAY'));
    const headers = stripe(body);
    assert.equal((await t.post('/channels/stripe', body, headers)).status, 201);
    const diagnostics = await refused(await t.post('/channels/stripe', body, headers));
    assert.equal(diagnostics, '(header X-Signature): this signature was already used');
    const e = await auditedReason('stripe', 'replayed');
    assert.equal(e.outcome, 'denied');
    assert.equal(e.target, 'channel:stripe');
    assert.match(e.ip ?? '', /127\.0\.0\.1/);
  });

  test('a stale timestamp → 401 saying how old and the window', async () => {
    const body = JSON.stringify(makeEvent('res_TS_STALE'));
    const diagnostics = await refused(await t.post('/channels/stripe', body, stripe(body, unixNow(-400))));
    assert.match(diagnostics, /^\(header X-Timestamp\): the timestamp is 40\d s old; signatures are accepted within 300 s of the engine's clock/);
    await auditedReason('stripe', 'timestamp-stale');
  });

  test('a timestamp too far in the future → 401 saying by how much and the window', async () => {
    const body = JSON.stringify(makeEvent('res_TS_FUTURE'));
    const diagnostics = await refused(await t.post('/channels/stripe', body, stripe(body, unixNow(900))));
    assert.match(diagnostics, /the timestamp is (899|900|901) s in the future; signatures are accepted within 300 s/);
    await auditedReason('stripe', 'timestamp-future');
  });

  test('a missing or unparseable timestamp → 401 naming the header and the expected format', async () => {
    const body = JSON.stringify(makeEvent('res_TS_MISSING'));
    const { 'x-signature': signature } = stripe(body);
    const missing = await refused(await t.post('/channels/stripe', body, { 'x-signature': signature! }));
    assert.equal(missing, '(header X-Timestamp): missing timestamp; expected Unix time in whole seconds, e.g. 1767225600');
    await auditedReason('stripe', 'timestamp-missing');
    for (const bad of ['yesterday', '1767225600.5', new Date().toISOString()]) {
      const diagnostics = await refused(await t.post('/channels/stripe', body, { 'x-signature': signature!, 'x-timestamp': bad }));
      assert.equal(diagnostics, '(header X-Timestamp): not a timestamp; expected Unix time in whole seconds, e.g. 1767225600');
    }
    await auditedReason('stripe', 'timestamp-malformed');
  });

  test('a timestamp changed after signing (to pass the window) breaks the signature', async () => {
    const body = JSON.stringify(makeEvent('res_TS_SWAPPED'));
    const old = stripe(body, unixNow(-400));
    const diagnostics = await refused(await t.post('/channels/stripe', body, { ...old, 'x-timestamp': unixNow() }));
    assert.match(diagnostics, /does not match \{timestamp\}\.\{body\}/);
    await auditedReason('stripe', 'signature-mismatch');
  });

  test('a request refused after its signature verified (422) is not burnt: the same request is refused again for its body, not as a replay', async () => {
    const body = JSON.stringify({ event: 'result.created', result: { status: 'final' } });
    const headers = stripe(body);
    assert.equal((await t.post('/channels/stripe', body, headers)).status, 422);
    assert.equal((await t.post('/channels/stripe', body, headers)).status, 422);
  });

  test('Slack-like: v0:{timestamp}:{body} with a v0= prefix → 201; the body alone signed → 401', async () => {
    const body = JSON.stringify(makeEvent('res_TS_SLACK'));
    const ts = unixNow();
    const good = await t.post('/channels/slack', body, { 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${hmacHex(`v0:${ts}:${body}`)}` });
    assert.equal(good.status, 201);
    const other = JSON.stringify(makeEvent('res_TS_SLACK_2'));
    const diagnostics = await refused(await t.post('/channels/slack', other, { 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${hmacHex(other)}` }));
    assert.equal(diagnostics, '(header X-Slack-Signature): the HMAC-SHA256 signature does not match v0:{timestamp}:{body}');
  });

  test('Standard Webhooks-like: {header:webhook-id}.{timestamp}.{body}, base64 → 201; without the id, or with another id, → 401', async () => {
    const body = JSON.stringify(makeEvent('res_TS_SVIX'));
    const ts = unixNow();
    const signature = `v1,${hmacBase64(`msg_2KWPBgLlAfxdpx2AI54pPJ85f4W.${ts}.${body}`)}`;
    const good = await t.post('/channels/svix', body, { 'webhook-id': 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', 'webhook-timestamp': ts, 'webhook-signature': signature });
    assert.equal(good.status, 201);
    const noId = await refused(await t.post('/channels/svix', body, { 'webhook-timestamp': ts, 'webhook-signature': signature }));
    assert.equal(noId, '(header webhook-id): missing header webhook-id, which the signature covers');
    await auditedReason('svix', 'signed-header-missing');
    const otherId = await refused(await t.post('/channels/svix', body, { 'webhook-id': 'msg_other', 'webhook-timestamp': ts, 'webhook-signature': signature }));
    assert.match(otherId, /does not match \{header:webhook-id\}\.\{timestamp\}\.\{body\}/);
  });

  test('ISO 8601 timestamps with a 60 s window', async () => {
    const body = JSON.stringify(makeEvent('res_TS_ISO'));
    const ts = new Date().toISOString();
    const good = await t.post('/channels/iso', body, { 'x-timestamp': ts, 'x-signature': `sha256=${hmacHex(`${ts}.${body}`)}` });
    assert.equal(good.status, 201);
    const old = new Date(Date.now() - 120_000).toISOString();
    const stale = await refused(await t.post('/channels/iso', body, { 'x-timestamp': old, 'x-signature': `sha256=${hmacHex(`${old}.${body}`)}` }));
    assert.match(stale, /the timestamp is 1(19|20|21) s old; signatures are accepted within 60 s/);
    const unix = unixNow();
    const wrongFormat = await refused(await t.post('/channels/iso', body, { 'x-timestamp': unix, 'x-signature': `sha256=${hmacHex(`${unix}.${body}`)}` }));
    assert.equal(wrongFormat, '(header X-Timestamp): not a timestamp; expected an ISO 8601 date-time with its offset, e.g. 2026-01-01T00:00:00Z');
  });

  test('without a timestamp the body alone is signed, as before; a missing signature is audited too', async () => {
    const body = JSON.stringify(makeEvent('res_TS_PLAIN'));
    assert.equal((await t.post('/channels/plain', body, { 'x-signature': `sha256=${hmacHex(body)}` })).status, 201);
    // No window without a timestamp: the same request again is a duplicate (intake's idempotency), not a replay.
    assert.equal((await t.post('/channels/plain', body, { 'x-signature': `sha256=${hmacHex(body)}` })).status, 200);
    const diagnostics = await refused(await t.post('/channels/plain', body));
    assert.match(diagnostics, /missing or invalid HMAC-SHA256 signature; expected 'sha256=<hex digest of the raw body>'/);
    await auditedReason('plain', 'signature-missing');
  });

  test("Conduit → Conduit: an HTTP destination's signer with the same timestamp block signs what the webhook source verifies", async () => {
    const signer = hmacAuth.parse({ type: 'hmac', secret: SECRET, timestamp: { header: 'X-Timestamp' } });
    const body = JSON.stringify(makeEvent('res_TS_CONDUIT'));
    const headers = signedHeaders(signer, body);
    assert.deepEqual(Object.keys(headers).sort(), ['x-signature', 'x-timestamp']);
    assert.equal((await t.post('/channels/stripe', body, headers)).status, 201);
  });

  test('refused requests stored nothing', async () => {
    assert.equal(await storedCount('stripe'), 3, 'res_TS_STRIPE, res_TS_REPLAY and res_TS_CONDUIT only');
    assert.equal(await storedCount('svix'), 1);
  });
});
