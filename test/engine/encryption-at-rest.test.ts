/**
 * Encryption at rest, end to end (issue 11, item 3): an engine with a data key stores a patient's
 * result (and its PDF), and nothing of either can be found in any file of the data directory,
 * during the run (database, write-ahead log) or after it; without a key the same search finds
 * them. On PostgreSQL the same, checked with SQL. A wrong key stops the start with a specific
 * error and an audit event; a payload that cannot be opened is recorded dead, not sent, and the
 * admin API answers its message with a 500 OperationOutcome.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { type TestContext, test } from 'node:test';
import pg from 'pg';
import { loadConfiguration } from '../../src/config/load.ts';
import { EngineSettings } from '../../src/config/settings.ts';
import { Engine } from '../../src/engine/engine.ts';
import { ConduitError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { connectionConfig } from '../../src/store/postgres/connection.ts';
import { parseKeyFile } from '../../src/store/sealing/keyring.ts';
import { SqliteStore } from '../../src/store/sqlite/store.ts';
import { sampleEvent } from '../support/events.ts';
import { ADMIN_TOKEN, startTestEngine, type TestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { postgresUnavailable, tempDatabase } from '../support/postgres.ts';
import { answer, startRecordingReceiver } from '../support/recording-receiver.ts';

const FAMILY = 'Quillfeather';
/** A PDF whose text names the patient; its base64 travels in the raw input and the ORU^R01's OBX. */
const PDF = Buffer.from(`%PDF-1.4\n1 0 obj <</Type/Catalog>> endobj\n% Lab report of Zebediah ${FAMILY}\ntrailer <</Root 1 0 R>>\n%%EOF\n`);
const PDF_BASE64 = PDF.toString('base64');

/** The sample full-form event, about our distinctive patient and carrying our PDF. */
function patientEvent(resultId: string) {
  const e = sampleEvent('full-bmp-panel');
  e.id = `evt_${resultId}`;
  const r = e.result as Record<string, unknown> & { patient: Record<string, unknown> };
  r.id = resultId;
  r.patient.family = FAMILY;
  r.patient.given = ['Zebediah'];
  r.documents = [{ content_type: 'application/pdf', title: 'Lab report', data_base64: PDF_BASE64 }];
  return e;
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-sealed-engine-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A key file with fresh keys under these ids (the first seals). */
function keyFile(dir: string, ...ids: string[]): string {
  const file = join(dir, 'data.keys');
  writeFileSync(file, ids.map((id) => `${id} ${randomBytes(32).toString('base64')}\n`).join(''), { mode: 0o600 });
  return file;
}

/** Files of the data directory holding `needle` as bytes. */
function filesHolding(dataDir: string, needle: string): string[] {
  return readdirSync(dataDir).filter((f) => readFileSync(join(dataDir, f)).includes(Buffer.from(needle)));
}

/** Stores the patient's event through an engine: the LIS answers AE quoting the name once, then AA. */
async function storePatient(overrides: Partial<EngineSettings>, dataDir: string) {
  const lis = await startRecordingReceiver({ script: { 1: answer.ack('AE', 0, `patient ${FAMILY} not yet registered`) } });
  const engine = await startTestEngine(
    { 'to-lis.yaml': webhookToMllpChannel('to-lis', lis.port, 'maxAttempts: 3\n      initialBackoffMs: 20\n      maxBackoffMs: 50') },
    { dataDir, ...overrides },
  );
  const res = await engine.post('/channels/to-lis', patientEvent(`res_${randomBytes(3).toString('hex')}`));
  assert.equal(res.status, 201);
  const { messageId } = (await res.json()) as { messageId: string };
  await engine.drained();
  assert.equal(lis.count, 2, 'AE, then AA');
  const view = (await (await engine.admin(`/api/messages/${messageId}`)).json()) as { rawInput: string; deliveries: Array<{ payload: string; attempts: Array<{ response: string }> }> };
  assert.match(view.rawInput, new RegExp(FAMILY), 'the admin API shows the content in plaintext');
  assert.match(view.deliveries[0]!.payload, new RegExp(`${FAMILY}\\^Zebediah`));
  assert.match(view.deliveries[0]!.attempts[0]!.response, new RegExp(FAMILY));
  return { engine, lis, messageId };
}

test('with a data key no file of the data directory holds the patient name or the PDF, during the run or after; without one they do', async (t) => {
  const dir = tempDir(t);
  const sealedData = join(dir, 'sealed');
  const { engine, lis } = await storePatient({ dataKeyFile: keyFile(dir, 'k-test') }, sealedData);
  assert.ok(readdirSync(sealedData).includes('conduit.db-wal'), 'the write-ahead log is searched too');
  assert.deepEqual(filesHolding(sealedData, FAMILY), [], 'the name, while running');
  assert.deepEqual(filesHolding(sealedData, PDF_BASE64.slice(0, 40)), [], 'the PDF, while running');
  assert.equal(engine.logs.filter((l) => l.includes('message content is encrypted at rest')).length, 1);
  assert.equal(engine.logs.filter((l) => l.includes('unencrypted')).length, 0);
  await engine.stop();
  await lis.close();
  assert.deepEqual(filesHolding(sealedData, FAMILY), [], 'the name, after the stop');
  assert.deepEqual(filesHolding(sealedData, PDF_BASE64.slice(0, 40)), [], 'the PDF, after the stop');

  const plainData = join(dir, 'plain');
  const plain = await storePatient({}, plainData);
  await plain.engine.stop();
  await plain.lis.close();
  assert.ok(filesHolding(plainData, FAMILY).length > 0, 'the search finds the name in a store without a key');
  assert.ok(filesHolding(plainData, PDF_BASE64.slice(0, 40)).length > 0, 'and the PDF');
  const warnings = plain.engine.logs.filter((l) => l.includes('message content is stored unencrypted; set CONDUIT_DATA_KEY_FILE'));
  assert.equal(warnings.length, 1, 'one warning at start');
  assert.equal((JSON.parse(warnings[0]!) as { level: number }).level, 40);
});

test('PostgreSQL: with a data key no content column holds the patient name or the PDF; without one they do', { skip: await postgresUnavailable() }, async (t) => {
  const dir = tempDir(t);
  const count = async (url: string, needle: string): Promise<number> => {
    const c = new pg.Client(connectionConfig(url));
    await c.connect();
    try {
      const like = `%${needle}%`;
      const r = await c.query(
        `SELECT (SELECT count(*) FROM messages WHERE raw_input LIKE $1 OR canonical LIKE $1)
              + (SELECT count(*) FROM deliveries WHERE payload LIKE $1)
              + (SELECT count(*) FROM attempts WHERE detail LIKE $1 OR response LIKE $1) AS n`,
        [like],
      );
      return Number((r.rows[0] as { n: string }).n);
    } finally {
      await c.end();
    }
  };
  for (const keyed of [true, false]) {
    const url = await tempDatabase(t);
    const { engine, lis } = await storePatient({ store: url, ...(keyed ? { dataKeyFile: keyFile(dir, 'k-test') } : {}) }, join(dir, keyed ? 'sealed' : 'plain'));
    await engine.stop();
    await lis.close();
    if (keyed) {
      assert.equal(await count(url, FAMILY), 0, 'the name, sealed');
      assert.equal(await count(url, PDF_BASE64.slice(0, 40)), 0, 'the PDF, sealed');
    } else {
      assert.ok((await count(url, FAMILY)) >= 3, 'raw input, payload and answer hold the name without a key');
      assert.ok((await count(url, PDF_BASE64.slice(0, 40))) >= 2, 'and the PDF');
    }
  }
});

test('a wrong data key (a known id, other bytes) stops the start with STORE_KEY_MISMATCH, recorded in the audit trail', async (t) => {
  const dir = tempDir(t);
  const dataDir = join(dir, 'data');
  const first = await storePatient({ dataKeyFile: keyFile(dir, 'k-test') }, dataDir);
  await first.engine.stop();
  await first.lis.close();
  const settings = EngineSettings.parse({ port: 0, dataDir, channelsDir: join(dir, 'none'), mappingsDir: join(dir, 'none'), watch: false, dataKeyFile: keyFile(dir, 'k-test') });
  const log = createLogger('silent');
  assert.throws(
    () => new Engine({ settings, configuration: loadConfiguration(settings), log, adminToken: ADMIN_TOKEN }),
    (e: unknown) => e instanceof ConduitError && e.code === 'STORE_KEY_MISMATCH' && /data key k-test of .*data\.keys is not the key k-test that sealed rows/.test(e.message),
  );
  const events = await auditRows(join(dataDir, 'access.db'), 'store.key.mismatch');
  assert.equal(events.length, 1);
  assert.equal(events[0]!.outcome, 'failure');
  assert.match(String(events[0]!.detail), /"keyId":"k-test"/);
});

/** Audit rows of an action in the access database, once the audit trail's batch landed (it is written behind the refusal). */
async function auditRows(file: string, action: string): Promise<Array<Record<string, unknown>>> {
  for (let i = 0; i < 100; i++) {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      const rows = db.prepare('SELECT outcome, detail FROM audit WHERE action = ?').all(action) as Array<Record<string, unknown>>;
      if (rows.length > 0) return rows;
    } finally {
      db.close();
    }
    await sleep(20);
  }
  return [];
}

test('a payload that cannot be opened is recorded dead (STORE_SEAL_INVALID), never sent; the lane goes on; its message is a 500 OperationOutcome', async (t) => {
  const dir = tempDir(t);
  const dataDir = join(dir, 'data');
  const keys = keyFile(dir, 'k-test');
  // A pending row whose payload was altered on disk (here: another column's sealed value).
  const store = new SqliteStore(join(dataDir, 'conduit.db'), { keyring: parseKeyFile(readFileSync(keys, 'utf8'), keys), synchronous: 'normal' });
  const id = 'MSG-ALTERED-1';
  await store.insertMessage({
    id,
    channelId: 'to-lis',
    sourceId: 'res_altered',
    sourceVersion: '1',
    receivedAt: new Date().toISOString(),
    rawInput: '{}',
    inputFormat: 'json',
    partitionKey: 'patient:p1',
    deliveries: [{ destinationId: 'lis', lane: 0, controlId: 'CTRL-ALTERED', payload: `MSH|^~\\&|PID|||${FAMILY}\r`, contentType: 'application/hl7-v2' }],
  });
  await store.close();
  const db = new DatabaseSync(join(dataDir, 'conduit.db'));
  db.exec('UPDATE deliveries SET payload = (SELECT raw_input FROM messages WHERE seq = deliveries.message_seq)');
  db.close();
  const lis = await startRecordingReceiver();
  const engine: TestEngine = await startTestEngine({ 'to-lis.yaml': webhookToMllpChannel('to-lis', lis.port) }, { dataDir, dataKeyFile: keys });
  t.after(async () => {
    await engine.stop();
    await lis.close();
  });
  const res = await engine.post('/channels/to-lis', patientEvent('res_after'));
  assert.equal(res.status, 201);
  await engine.drained();
  assert.equal(lis.count, 1, 'only the readable message reached the LIS');
  assert.notEqual(lis.frames[0]!.controlId, 'CTRL-ALTERED');
  const answer500 = await engine.admin(`/api/messages/${id}`);
  assert.equal(answer500.status, 500);
  const outcome = (await answer500.json()) as { resourceType: string; issue: Array<{ code: string; diagnostics: string; details: { text: string } }> };
  assert.equal(outcome.resourceType, 'OperationOutcome');
  assert.equal(outcome.issue[0]!.details.text, 'STORE_SEAL_INVALID');
  assert.match(outcome.issue[0]!.diagnostics, /^deliveries row \d+ is sealed with data key k-test: its payload does not open/);
  const row = new DatabaseSync(join(dataDir, 'conduit.db'), { readOnly: true });
  const dead = row.prepare(`SELECT d.status, a.code, a.detail FROM deliveries d JOIN attempts a ON a.delivery_id = d.id WHERE d.control_id = 'CTRL-ALTERED'`).get() as Record<string, string>;
  row.close();
  assert.equal(dead.status, 'dead');
  assert.equal(dead.code, 'STORE_SEAL_INVALID');
  assert.ok(engine.logs.some((l) => l.includes('the payload could not be opened: the delivery is recorded dead, not sent')));
});
