/**
 * The engine on the PostgreSQL store (--store postgres://…): a webhook channel delivering to an
 * MLLP LIS, its history through the admin API, a restart on the same database, and the server
 * refusing writes (a database made read-only, every connection cut) then taking them again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { Hl7Message } from '../../src/protocols/hl7v2/index.ts';
import { makeEvent } from '../support/events.ts';
import { startTestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { postgresUnavailable, tempDatabase } from '../support/postgres.ts';
import { sandboxMessages, startSandboxLis } from '../support/sandbox.ts';

const skip = await postgresUnavailable();

/** Runs statements on the test database as a separate session (another client of the server). */
async function onDatabase(url: string, ...sql: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const s of sql) await client.query(s);
  } finally {
    await client.end();
  }
}

/** Cuts every connection the engine has to the database (as a server restart does). */
function cutConnections(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  return onDatabase(url, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND pid <> pg_backend_pid()`);
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('webhook → ORU^R01 → MLLP with the store in PostgreSQL: delivered, viewable, kept over a restart, and writes resume after the server refused them', { skip, timeout: 120_000 }, async (t) => {
  const lis = await startSandboxLis();
  t.after(() => lis.stop());
  const url = await tempDatabase(t);
  const channel = { 'to-lis.yaml': webhookToMllpChannel('to-lis', lis.mllpPort) };

  const first = await startTestEngine(channel, { store: url });
  let firstStopped = false;
  t.after(() => (firstStopped ? undefined : first.stop()));
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) {
    const res = await first.post('/channels/to-lis', makeEvent(`res_PG_${i}`));
    assert.equal(res.status, 201);
    ids.push(((await res.json()) as { messageId: string }).messageId);
  }
  await first.drained();
  const view = (await (await first.admin(`/api/messages/${ids[0]}`)).json()) as {
    status: string;
    deliveries: Array<{ controlId: string; payload: string; attempts: Array<{ outcome: string; response: string }> }>;
  };
  assert.equal(view.status, 'acknowledged');
  const d = view.deliveries[0]!;
  assert.match(d.attempts[0]!.response, new RegExp(`MSA\\|AA\\|${d.controlId}`));
  const atLis = (await sandboxMessages(lis)).map((m) => Hl7Message.parse(m));
  assert.equal(atLis.find((m) => m.controlId === d.controlId)?.toString(), d.payload, 'the LIS got exactly the stored bytes');
  const list = (await (await first.admin('/api/messages?channel=to-lis&status=acknowledged&limit=100')).json()) as { messages: unknown[] };
  assert.equal(list.messages.length, 20);
  const health = (await (await first.admin("/health")).json()) as { components: Record<string, string> };
  assert.equal(health.components.database, 'healthy');
  await first.stop();
  firstStopped = true;

  // A second engine on the same database: the history is there, a repeat is a duplicate.
  const second = await startTestEngine(channel, { store: url });
  t.after(() => second.stop());
  const again = await second.post('/channels/to-lis', makeEvent('res_PG_0'));
  assert.equal(again.status, 200);
  assert.deepEqual(await again.json(), { messageId: ids[0], duplicate: true });
  assert.equal(((await (await second.admin(`/api/messages/${ids[19]}`)).json()) as { status: string }).status, 'acknowledged');

  // The server refuses writes: a read-only database, every connection cut so new ones get it.
  const name = new URL(url).pathname.slice(1);
  await onDatabase(url, `ALTER DATABASE ${name} SET default_transaction_read_only = on`);
  await cutConnections(url);
  const refused = await second.post('/channels/to-lis', makeEvent('res_PG_READONLY'));
  assert.equal(refused.status, 503);
  assert.match(JSON.stringify(await refused.json()), /STORE_FAILED/);
  await until('health to show the database degraded', async () => {
    const h = (await (await second.admin("/health")).json()) as { components: Record<string, string>; details?: { database?: { reason: string } } };
    return h.components.database === 'degraded' && /read-only/.test(h.details?.database?.reason ?? '');
  });
  // Lists still work while writes fail; reading one message must first be recorded in the audit
  // trail (in the same read-only database), so it is refused, saying why.
  assert.equal((await second.admin('/api/messages?limit=5')).status, 200);
  const audited = await second.admin(`/api/messages/${ids[3]}`);
  assert.equal(audited.status, 503);
  assert.match(JSON.stringify(await audited.json()), /AUDIT_FAILED/);

  await onDatabase(url, "SET default_transaction_read_only = off", `ALTER DATABASE ${name} RESET default_transaction_read_only`);
  await cutConnections(url);
  await until('writes to work again', async () => {
    const h = (await (await second.admin("/health")).json()) as { components: Record<string, string> };
    return h.components.database === 'healthy';
  });
  const accepted = await second.post('/channels/to-lis', makeEvent('res_PG_READONLY'));
  assert.equal(accepted.status, 201);
  await second.drained();
  assert.ok((await sandboxMessages(lis)).some((m) => m.includes('res_PG_READONLY')), 'delivered once writes worked again');
});
