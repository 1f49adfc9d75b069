/**
 * Rows stored as on the wire by their intake (DestinationDispatcher.markAtIntake): while a lane
 * is caught up, an intake commits its delivery as 'sent', so the lane sends it without waiting
 * for a mark of its own. The same rules as for rows marked ahead must hold:
 *
 * - at most MARK_AHEAD rows of a lane are 'sent' at once, the one on the wire included;
 *   the rest of a backlog stays 'queued'; a duplicate, which stores no row, takes no place;
 * - after kill -9, each row that was 'sent' gets an attempt 'outcome unknown: engine restarted'
 *   and is sent again with its stored MSH-10; rows still 'queued' get no such attempt;
 * - every result reaches the LIS, in the order of intake.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { STORE_FILE } from '../../src/engine/data-dir.ts';
import { MARK_AHEAD } from '../../src/engine/dispatcher.ts';
import { createWorkspace, type EngineProcess, sampleChannel, startEngine, waitForDrained } from '../support/engine-process.ts';
import { generateEvents } from '../support/platform-events.ts';
import { startRecordingReceiver } from '../support/recording-receiver.ts';

const CHANNEL = 'platform-to-lis';
const PATH = '/channels/platform-to-lis';
const EVENTS = MARK_AHEAD + 9;

interface DeliveryRow {
  id: number;
  status: string;
  control_id: string;
}

function readStore(dataDir: string, sql: string): unknown[] {
  const db = new DatabaseSync(join(dataDir, STORE_FILE), { readOnly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}

test(`a caught-up lane takes rows marked by their intake: at most ${MARK_AHEAD} on the wire at once, each recovered after kill -9 with an attempt of unknown outcome and its MSH-10`, { timeout: 60_000 }, async (t) => {
  // The first frame is never answered: it stays on the wire and everything after it waits behind it.
  const receiver = await startRecordingReceiver({ script: (n) => (n === 1 ? { kind: 'silence' } : undefined) });
  const workspace = createWorkspace({
    [`${CHANNEL}.yaml`]: sampleChannel({ mllpPort: receiver.port, path: PATH, delivery: { lanes: 1, maxAttempts: 100 }, sender: { ackTimeoutMs: 60_000 } }),
  });
  const engines: EngineProcess[] = [];
  t.after(async () => {
    for (const e of engines) await e.kill('SIGKILL');
    await receiver.close();
    workspace.remove();
  });
  const events = generateEvents({ events: EVENTS, patients: 1, runId: 'mai' });
  const post = async (engine: EngineProcess, body: string, status = 201) => {
    const res = await fetch(engine.url + PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(res.status, status, await res.text());
  };

  const first = await startEngine({ workspace });
  engines.push(first);
  await post(first, events[0]!.body);
  await receiver.waitFor((frames) => frames.length === 1, 10_000);
  const onTheWire = receiver.frames[0]!.controlId;
  // A duplicate stores no row: the place it was promised in the lane is given back.
  await post(first, events[0]!.body, 200);
  // One at a time: each is committed, and handed to the lane, before the next is mapped.
  for (const e of events.slice(1)) await post(first, e.body);

  const before = readStore(workspace.dataDir, 'SELECT id, status, control_id FROM deliveries ORDER BY id') as unknown as DeliveryRow[];
  assert.equal(before.length, EVENTS);
  assert.deepEqual(
    before.map((d) => d.status),
    [...Array<string>(MARK_AHEAD).fill('sent'), ...Array<string>(EVENTS - MARK_AHEAD).fill('queued')],
    'the row on the wire and the 15 after it are marked by their intake, the rest of the backlog stays queued',
  );
  assert.equal(receiver.frames.length, 1, 'nothing else was sent while the first frame waits for its ACK');
  assert.equal(before[0]!.control_id, onTheWire);

  await first.kill('SIGKILL');
  receiver.setScript(undefined);
  const second = await startEngine({ workspace });
  engines.push(second);
  await waitForDrained(second, CHANNEL, 30_000);

  const accepted = receiver.frames.filter((f) => f.ackCode === 'AA');
  assert.deepEqual(
    [...new Set(accepted.map((f) => f.fillerId))],
    events.map((e) => e.accession),
    'every result accepted by the LIS, in the order of intake',
  );
  const controlIds = new Map(before.map((d) => [d.id, d.control_id]));
  const resent = accepted.find((f) => f.fillerId === events[0]!.accession)!;
  assert.equal(resent.controlId, onTheWire, 'the frame on the wire at the kill is sent again with its MSH-10');
  for (const f of accepted) assert.ok([...controlIds.values()].includes(f.controlId!), `MSH-10 ${f.controlId} is a stored control id`);

  const attempts = readStore(workspace.dataDir, 'SELECT delivery_id, outcome, detail FROM attempts ORDER BY delivery_id, attempt') as Array<{ delivery_id: number; outcome: string; detail: string | null }>;
  for (const [k, d] of before.entries()) {
    const mine = attempts.filter((a) => a.delivery_id === d.id);
    const expected = k < MARK_AHEAD ? ['unknown', 'acknowledged'] : ['acknowledged'];
    assert.deepEqual(
      mine.map((a) => a.outcome),
      expected,
      `delivery ${k + 1} (${d.status} at the kill): attempts ${expected.join(', ')}`,
    );
    if (k < MARK_AHEAD) assert.equal(mine[0]!.detail, 'outcome unknown: engine restarted');
  }
});
