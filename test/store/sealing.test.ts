/**
 * Encryption at rest in both stores: content columns sealed on write and opened on read, the key
 * id of each row, plaintext rows still read, the check of the keys at open, rows that cannot be
 * opened, and retention.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConduitError } from '../../src/errors.ts';
import { rekey } from '../../src/store/sealing/rekey.ts';
import type { Store } from '../../src/store/types.ts';
import { keys, type SealedTemp, eachSealedStore, reordered } from './sealing-support.ts';
import { attempt, delivery, message } from './support.ts';

const PATIENT = 'Quillfeather^Zebediah';

/** A message about PATIENT in every content column: raw input, canonical, payload; its attempt's answer and detail. */
async function patientMessage(store: Store, opts: { settle?: boolean } = {}) {
  const m = message({
    rawInput: `{"patient": "${PATIENT}"}`,
    canonical: JSON.stringify({ patient: PATIENT }),
    deliveries: [delivery({ payload: `MSH|^~\\&|PID|||MRN-1||${PATIENT}\r` })],
  });
  await store.insertMessage(m);
  const [row] = (await store.pendingDeliveries(m.channelId, 'lis', 0, 100)).filter((d) => d.messageId === m.id);
  if (opts.settle ?? true) {
    store.recordAttempt(attempt(row!.id, { outcome: 'rejected', status: 'rejected', code: 'HL7_APPLICATION_REJECT', detail: `AR: ${PATIENT} unknown`, response: `MSA|AR|${row!.controlId}|${PATIENT}\r` }));
  }
  await store.flush();
  return { m, deliveryId: row!.id };
}

/** Rows whose content columns hold `text` as it is, in any of the three tables. */
async function rowsHolding(temp: SealedTemp, text: string): Promise<number> {
  const like = `%${text}%`;
  const [a] = await temp.sql('SELECT count(*) AS n FROM messages WHERE raw_input LIKE ? OR canonical LIKE ?', [like, like]);
  const [b] = await temp.sql('SELECT count(*) AS n FROM deliveries WHERE payload LIKE ?', [like]);
  const [c] = await temp.sql('SELECT count(*) AS n FROM attempts WHERE detail LIKE ? OR response LIKE ?', [like, like]);
  return Number(a!.n) + Number(b!.n) + Number(c!.n);
}

/** The error of opening a store (SQLite: the constructor; PostgreSQL: the first wait on its opening). */
async function openingError(open: () => Store): Promise<ConduitError> {
  try {
    await open().recoverInFlight();
  } catch (e) {
    assert.ok(e instanceof ConduitError, String(e));
    return e;
  }
  assert.fail('the store opened');
}

await eachSealedStore((temp) => {
  test('with a key, every content column is sealed, with the key id on each row; reads give the plaintext back', async (t) => {
    const tmp = await temp(t);
    const ring = keys('k-a');
    const store = tmp.open(ring);
    const { m, deliveryId } = await patientMessage(store);
    const view = (await store.getMessage(m.id))!;
    assert.equal(view.rawInput, m.rawInput);
    assert.deepEqual(view.canonical, { patient: PATIENT });
    assert.equal(view.deliveries[0]!.payload, m.deliveries[0]!.payload);
    assert.equal(view.deliveries[0]!.attempts[0]!.detail, `AR: ${PATIENT} unknown`);
    assert.match(view.deliveries[0]!.attempts[0]!.response!, /Quillfeather/);
    assert.equal(await rowsHolding(tmp, 'Quillfeather'), 0, 'no content column holds the name');
    assert.equal(await rowsHolding(tmp, 'MSH|'), 0, 'nor the HL7 v2 payload');
    for (const table of ['messages', 'deliveries', 'attempts']) {
      assert.deepEqual(await tmp.sql(`SELECT DISTINCT key_id FROM ${table}`), [{ key_id: 'k-a' }], table);
    }
    const [check] = await tmp.sql('SELECT key_id, check_value FROM key_checks');
    assert.equal(check!.key_id, 'k-a');
    assert.match(String(check!.check_value), /^[0-9a-f]{64}$/);
    // A pending row (a resend) is read back with its payload in plaintext.
    await store.requeue(m.id);
    const [pending] = await store.pendingDeliveries('ch', 'lis', 0, 10);
    assert.equal(pending!.id, deliveryId);
    assert.equal(pending!.payload, m.deliveries[0]!.payload);
    assert.equal(pending!.unreadable, undefined);
  });

  test('a follow-up stored with an outcome is sealed too', async (t) => {
    const tmp = await temp(t);
    const store = tmp.open(keys('k-a'));
    const m = message();
    await store.insertMessage(m);
    const [row] = await store.pendingDeliveries('ch', 'lis', 0, 10);
    store.recordAttempt(
      attempt(row!.id, { followUp: { destinationId: 'status-callback:lis', lane: 0, controlId: 'evt-1', payload: `{"patient":"${PATIENT}"}`, contentType: 'application/json' } }),
    );
    await store.flush();
    assert.equal(await rowsHolding(tmp, 'Quillfeather'), 0);
    const [callback] = await store.pendingDeliveries('ch', 'status-callback:lis', 0, 10);
    assert.equal(callback!.payload, `{"patient":"${PATIENT}"}`);
  });

  test('without a key content is stored as it is (key id NULL), and stays readable once a key is configured', async (t) => {
    const tmp = await temp(t);
    const plain = tmp.open();
    const before = await patientMessage(plain);
    assert.equal(await rowsHolding(tmp, 'Quillfeather'), 3, 'the test finds the name when it is there: message, delivery, attempt');
    assert.deepEqual(await tmp.sql('SELECT key_id FROM messages'), [{ key_id: null }]);
    await plain.close();
    const sealed = tmp.open(keys('k-a'));
    const after = await patientMessage(sealed);
    assert.equal((await sealed.getMessage(before.m.id))!.rawInput, before.m.rawInput);
    assert.equal((await sealed.getMessage(after.m.id))!.rawInput, after.m.rawInput);
    assert.deepEqual(await tmp.sql('SELECT key_id FROM messages ORDER BY seq'), [{ key_id: null }, { key_id: 'k-a' }]);
  });

  test('a key file with a known key id but other bytes is refused at open (STORE_KEY_MISMATCH); no key check is stored before a first seal', async (t) => {
    const tmp = await temp(t);
    const first = tmp.open(keys('k-a'));
    await first.recoverInFlight();
    assert.deepEqual(await tmp.sql('SELECT key_id FROM key_checks'), [], 'a key that sealed nothing left no check');
    await patientMessage(first);
    await first.close();
    const e = await openingError(() => tmp.open(keys('k-b', 'k-a')));
    assert.equal(e.code, 'STORE_KEY_MISMATCH');
    assert.match(e.message, /data key k-a of test\.keys is not the key k-a that sealed rows of .*: put back the key file that holds the original k-a/);
    assert.equal(e.context.keyId, 'k-a');
  });

  test('a row sealed with a key not in the keyring: reads fail with STORE_KEY_UNKNOWN naming the table, row and key; the store still opens', async (t) => {
    const tmp = await temp(t);
    const a = keys('k-a');
    const first = tmp.open(a);
    const { m } = await patientMessage(first);
    await first.close();
    const absent: string[] = [];
    const store = tmp.open(keys('k-b'), (ids) => absent.push(...ids));
    await store.recoverInFlight();
    assert.deepEqual(absent, ['k-a'], 'told at open');
    await assert.rejects(store.getMessage(m.id), (e: unknown) => {
      assert.ok(e instanceof ConduitError);
      assert.equal(e.code, 'STORE_KEY_UNKNOWN');
      assert.equal(e.message, `messages row ${m.id} is sealed with data key k-a: that key is not in the keyring`);
      assert.deepEqual(e.context, { table: 'messages', row: m.id, keyId: 'k-a' });
      return true;
    });
    const noKey = tmp.open();
    await assert.rejects(noKey.getMessage(m.id), /no data key is configured \(CONDUIT_DATA_KEY_FILE\)/);
  });

  test('pending deliveries sealed with a key the keyring lacks: the store refuses to open (STORE_KEY_UNKNOWN), with or without keys', async (t) => {
    const tmp = await temp(t);
    const first = tmp.open(keys('k-a'));
    await patientMessage(first, { settle: false });
    await first.close();
    const e = await openingError(() => tmp.open(keys('k-b')));
    assert.equal(e.code, 'STORE_KEY_UNKNOWN');
    assert.match(e.message, /pending deliveries of .* are sealed with keys not in the keyring \(test\.keys\): 1 with key k-a\. Add those keys to the key file/);
    const none = await openingError(() => tmp.open());
    assert.match(none.message, /and no data key is configured \(CONDUIT_DATA_KEY_FILE\): 1 with key k-a/);
  });

  test('a value that does not authenticate (moved from another column): STORE_SEAL_INVALID at read; a lane gets the row marked unreadable, the rows behind it intact', async (t) => {
    const tmp = await temp(t);
    const store = tmp.open(keys('k-a'));
    const bad = message();
    const good = message();
    await store.insertMessage(bad);
    await store.insertMessage(good);
    await store.flush();
    const [badRow] = await tmp.sql('SELECT seq, raw_input FROM messages WHERE id = ?', [bad.id]);
    await tmp.sql('UPDATE deliveries SET payload = ? WHERE message_seq = ?', [badRow!.raw_input as string, badRow!.seq as number]);
    const [deliveryRow] = await tmp.sql('SELECT id FROM deliveries WHERE message_seq = ?', [badRow!.seq as number]);
    await assert.rejects(store.getMessage(bad.id), (e: unknown) => {
      assert.ok(e instanceof ConduitError);
      assert.equal(e.code, 'STORE_SEAL_INVALID');
      assert.match(e.message, new RegExp(`^deliveries row ${deliveryRow!.id} is sealed with data key k-a: its payload does not open`));
      return true;
    });
    const [first, second] = await store.pendingDeliveries('ch', 'lis', 0, 10);
    assert.equal(first!.unreadable?.code, 'STORE_SEAL_INVALID');
    assert.equal(first!.payload, '');
    assert.equal(second!.messageId, good.id);
    assert.equal(second!.payload, good.deliveries[0]!.payload);
    assert.equal(second!.unreadable, undefined);
  });

  test('retention removes the content and its key ids; an attempt keeps its sealed detail (and key id), readable', async (t) => {
    const tmp = await temp(t);
    const store = tmp.open(keys('k-a'));
    const { m } = await patientMessage(store);
    const r = await store.prune('ch', 'content', '2100-01-01T00:00:00.000Z', undefined, 100);
    assert.equal(r.changed, 1);
    assert.deepEqual(await tmp.sql('SELECT raw_input, canonical, key_id FROM messages'), [{ raw_input: '', canonical: null, key_id: null }]);
    assert.deepEqual(await tmp.sql('SELECT payload, key_id FROM deliveries'), [{ payload: '', key_id: null }]);
    assert.deepEqual(await tmp.sql('SELECT response, key_id FROM attempts'), [{ response: null, key_id: 'k-a' }]);
    const view = (await store.getMessage(m.id))!;
    assert.equal(view.rawInput, '');
    assert.equal(view.deliveries[0]!.attempts[0]!.detail, `AR: ${PATIENT} unknown`);
  });

  test('rekey: rows of key A and plaintext rows are sealed with key B, readable with B alone; a rerun has nothing to do', async (t) => {
    const tmp = await temp(t);
    await patientMessage(tmp.open());
    const ab = keys('k-a', 'k-b');
    const withA = tmp.open(ab);
    const { m } = await patientMessage(withA);
    await patientMessage(withA, { settle: false });
    await withA.close();
    const ba = reordered(ab, 'k-b', 'k-a');
    const first = await tmp.rekey(ba);
    assert.deepEqual(first.tables.messages.resealed, { plaintext: 1, 'k-a': 2 });
    assert.deepEqual(first.tables.deliveries.resealed, { plaintext: 1, 'k-a': 2 });
    assert.deepEqual(first.tables.attempts.resealed, { plaintext: 1, 'k-a': 1 });
    assert.equal(first.tables.messages.changedMeanwhile + first.tables.messages.unreadable, 0);
    assert.deepEqual(first.retired, ['k-a'], 'no row is sealed with k-a any more');
    for (const table of ['messages', 'deliveries', 'attempts']) {
      assert.deepEqual(await tmp.sql(`SELECT DISTINCT key_id FROM ${table}`), [{ key_id: 'k-b' }], table);
    }
    assert.equal(await rowsHolding(tmp, 'Quillfeather'), 0);
    const onlyB = tmp.open(reordered(ab, 'k-b'));
    assert.equal((await onlyB.getMessage(m.id))!.rawInput, m.rawInput);
    assert.equal((await onlyB.getMessage(m.id))!.deliveries[0]!.attempts[0]!.detail, `AR: ${PATIENT} unknown`);
    const again = await tmp.rekey(ba);
    for (const table of ['messages', 'deliveries', 'attempts'] as const) assert.deepEqual(again.tables[table].resealed, {}, table);
    assert.deepEqual(again.retired, []);
  });

  test('rekey writes nothing over a row the engine changed meanwhile (compare-and-set), and counts it', async (t) => {
    const tmp = await temp(t);
    const ab = keys('k-a', 'k-b');
    const store = tmp.open(ab);
    const { deliveryId } = await patientMessage(store);
    const ba = reordered(ab, 'k-b', 'k-a');
    let readDeliveries = false;
    let changed = false;
    const report = await tmp.withRekeyConnection((c) =>
      rekey(
        {
          ...c,
          all: (sql, params) => {
            if (/ FROM deliveries\s+WHERE id > /.test(sql)) readDeliveries = true;
            return c.all(sql, params);
          },
          // Between the read of the deliveries and their write, the engine replaces the payload.
          transaction: async (work) => {
            if (readDeliveries && !changed) {
              changed = true;
              await c.transaction((run) => run(`UPDATE deliveries SET payload = 'replaced', key_id = NULL WHERE id = ${c.dialect === 'sqlite' ? '?' : '$1'}`, [deliveryId]));
            }
            return c.transaction(work);
          },
        },
        ba,
      ),
    );
    assert.ok(changed, 'the change happened between the read and the write');
    assert.equal(report.tables.deliveries.changedMeanwhile, 1);
    assert.deepEqual(await tmp.sql('SELECT payload, key_id FROM deliveries'), [{ payload: 'replaced', key_id: null }], 'the newer content stays');
    const rerun = await tmp.rekey(ba);
    assert.deepEqual(rerun.tables.deliveries.resealed, { plaintext: 1 }, 'a rerun seals it');
  });

  test('rekey reports rows it cannot open and leaves them; it refuses a mismatched key', async (t) => {
    const tmp = await temp(t);
    const first = tmp.open(keys('k-a'));
    const { m } = await patientMessage(first);
    await first.close();
    const report = await tmp.rekey(keys('k-b'));
    assert.equal(report.tables.messages.unreadable, 1);
    assert.match(report.tables.messages.unreadableRows[0]!, new RegExp(`^messages row ${m.id}: STORE_KEY_UNKNOWN$`));
    assert.deepEqual(report.retired, []);
    await assert.rejects(tmp.rekey(keys('k-c', 'k-a')), { code: 'STORE_KEY_MISMATCH' });
  });
});
