/**
 * kill -9 of the engine while webhooks are arriving and deliveries are on the wire, then a
 * restart on the same data directory (ARCHITECTURE.md invariants 1 and 2):
 *
 * - every event whose webhook got a 2xx, from either process, reaches the receiver at least once;
 * - per patient, first deliveries come in the order the webhooks were acknowledged;
 * - a resend carries the MSH-10 of the first delivery (and the one the store recorded);
 * - the history never under-reports attempts: a delivery on the wire at the kill has an attempt
 *   'outcome unknown: engine restarted', so every frame the receiver got has its attempt record.
 *
 * The engine runs as a child process (conduit start) on the sample channel
 * platform-to-lis.yaml, pointed at a recording MLLP receiver that delays each ACK a few
 * milliseconds, so a backlog builds up and is cut by the kill.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createWorkspace, type EngineProcess, sampleChannel, startEngine, waitForDrained } from '../support/engine-process.ts';
import { type GeneratedEvent, generateEvents } from '../support/platform-events.ts';
import { postgresUnavailable, tempDatabase } from '../support/postgres.ts';
import { startRecordingReceiver } from '../support/recording-receiver.ts';

const CHANNEL = 'platform-to-lis';
const PATH = '/channels/platform-to-lis';
const EVENTS = 1000;
const PATIENTS = 50;
const IN_FLIGHT = 16;
const KILL_AFTER_ACKS = 400;
/** Delay of every ACK at the receiver: delivery (≤ 250/s) runs well behind intake. */
const ACK_DELAY_MS = 4;

interface Acked {
  event: GeneratedEvent;
  messageId: string;
  status: number;
  /** 1 or 2: which engine process answered. */
  process: number;
}

const postgresSkip = await postgresUnavailable();

for (const store of ['sqlite', 'postgres'] as const) {
  const skip = store === 'postgres' ? postgresSkip : undefined;
  test(`issue: kill -9 mid-flight loses nothing acknowledged, keeps order per patient, resends keep MSH-10 (store: ${store})`, { timeout: 60_000, skip }, async (t) => {
    const receiver = await startRecordingReceiver({ delayMs: ACK_DELAY_MS });
    // Both processes on the same store: the data directory's file, or one PostgreSQL database.
    // On PostgreSQL the restarted process takes the lanes once the killed one's leases run out (2 s here).
    const env: Record<string, string> = store === 'postgres' ? { CONDUIT_STORE: await tempDatabase(t), CONDUIT_LEASE_MS: '2000' } : {};
    const workspace = createWorkspace({ 'platform-to-lis.yaml': sampleChannel({ mllpPort: receiver.port, path: PATH }) });
    const engines: EngineProcess[] = [];
    t.after(async () => {
      for (const e of engines) await e.kill('SIGKILL');
      await receiver.close();
      workspace.remove();
    });

    engines.push(await startEngine({ workspace, env }));
    let current = engines[0]!;
    /** Resolves when the engine after the killed one is listening. */
    let restarted: Promise<void> | undefined;
    let killed = false;
    const acked: Acked[] = [];
    let failedRequests = 0;
    let backpressure = 0;
    let atKill: { acked: number; frames: number; delivered: number; inFlight: number } | undefined;
    let inFlight = 0;

    const kill = (): void => {
      killed = true;
      atKill = {
        acked: acked.length,
        frames: receiver.frames.length,
        delivered: new Set(receiver.frames.map((f) => f.fillerId)).size,
        inFlight,
      };
      restarted = (async () => {
        await engines[0]!.kill('SIGKILL');
        engines.push(await startEngine({ workspace, env }));
        current = engines[1]!;
      })();
    };

    /** POSTs one event until it gets a 2xx: a request cut by the kill is sent again to the next engine, as a platform would. */
    const post = async (event: GeneratedEvent): Promise<void> => {
      for (;;) {
        const engine = current;
        let res: Response;
        inFlight++;
        try {
          res = await fetch(engine.url + PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: event.body });
        } catch (e) {
          inFlight--;
          if (!killed || engine !== engines[0]) throw e;
          failedRequests++;
          await restarted;
          continue;
        }
        inFlight--;
        const body = (await res.json()) as { messageId?: string };
        if (res.status === 503) {
          backpressure++;
          await sleep(50);
          continue;
        }
        assert.ok(res.status === 201 || res.status === 200, `webhook answered ${res.status}: ${JSON.stringify(body)}`);
        acked.push({ event, messageId: body.messageId!, status: res.status, process: engines.indexOf(engine) + 1 });
        if (!killed && acked.length >= KILL_AFTER_ACKS) kill();
        return;
      }
    };

    // Each patient's events go strictly one after another; different patients go concurrently.
    const events = generateEvents({ events: EVENTS, patients: PATIENTS, runId: 'k' });
    const queues = new Map<string, GeneratedEvent[]>();
    for (const e of events) {
      const q = queues.get(e.patientId);
      if (q) q.push(e);
      else queues.set(e.patientId, [e]);
    }
    const ready = [...queues.keys()];
    const worker = async (): Promise<void> => {
      for (;;) {
        const patient = ready.shift();
        if (patient === undefined) return;
        const queue = queues.get(patient)!;
        await post(queue.shift()!);
        if (queue.length > 0) ready.push(patient);
      }
    };
    // With 50 patients and 16 workers a patient is always ready; a worker whose queue ran dry
    // while others still send simply ends.
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    await restarted;
    assert.ok(killed && atKill, 'the engine was killed');
    assert.equal(acked.length, EVENTS, 'every event was acknowledged in the end');

    const engine = current;
    await waitForDrained(engine, CHANNEL, 45_000);

    // The kill must have cut a backlog, else this test proves nothing.
    assert.ok(atKill.delivered < atKill.acked, `there was a backlog at the kill (${atKill.acked} acked, ${atKill.delivered} delivered)`);

    // 1. Every acknowledged event was delivered at least once.
    const byFiller = receiver.byFiller();
    const missing = acked.filter((a) => !byFiller.has(a.event.accession));
    assert.deepEqual(missing.map((a) => a.event.resultId), [], 'acknowledged events never delivered');
    for (const f of receiver.frames) assert.equal(f.messageType, 'ORU^R01');
    const unknown = [...byFiller.keys()].filter((k) => !events.some((e) => e.accession === k));
    assert.deepEqual(unknown, [], 'frames for events never sent');

    // 2. Per patient, first deliveries follow the order of the webhook acknowledgements.
    const ackOrder = new Map<string, Acked[]>();
    for (const a of acked) {
      const list = ackOrder.get(a.event.patientId);
      if (list) list.push(a);
      else ackOrder.set(a.event.patientId, [a]);
    }
    for (const [patient, list] of ackOrder) {
      const firsts = list.map((a) => byFiller.get(a.event.accession)![0]!.n);
      for (let i = 1; i < firsts.length; i++) {
        assert.ok(
          firsts[i - 1]! < firsts[i]!,
          `${patient}: ${list[i]!.event.resultId} (acked #${i + 1}) was first delivered as frame ${firsts[i]}, before ${list[i - 1]!.event.resultId} (frame ${firsts[i - 1]})`,
        );
      }
      for (const f of list) assert.equal(byFiller.get(f.event.accession)![0]!.patientId, patient, 'PID-3 is the patient of the event');
    }

    // 3. Every resend carries the MSH-10 of the first delivery, and that is the stored control id.
    let duplicates = 0;
    let duplicatedMessages = 0;
    for (const [accession, frames] of byFiller) {
      if (frames.length > 1) duplicatedMessages++;
      duplicates += frames.length - 1;
      for (const f of frames) assert.equal(f.controlId, frames[0]!.controlId, `${accession}: resend with another MSH-10`);
    }
    const controlIds = new Set([...byFiller.values()].map((f) => f[0]!.controlId));
    assert.equal(controlIds.size, byFiller.size, 'each message has its own MSH-10');
    const messageIds = [...new Set(acked.map((a) => a.messageId))];
    assert.equal(messageIds.length, EVENTS, 'one stored message per event, also for events retried after the kill');
    const byMessage = new Map(acked.map((a) => [a.messageId, a]));
    const pending = [...messageIds];
    let unknownOutcomes = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (let id = pending.shift(); id !== undefined; id = pending.shift()) {
          const res = await engine.admin(`/api/messages/${id}`);
          assert.equal(res.status, 200);
          const m = (await res.json()) as {
            status: string;
            deliveries: Array<{ controlId: string; status: string; attempts: Array<{ attempt: number; outcome: string; detail?: string }> }>;
          };
          const a = byMessage.get(id)!;
          assert.equal(m.deliveries.length, 1);
          assert.equal(m.deliveries[0]!.status, 'acknowledged');
          const attempts = m.deliveries[0]!.attempts;
          const frames = byFiller.get(a.event.accession)!.length;
          assert.ok(attempts.length >= frames, `${a.event.resultId}: ${frames} frames received, only ${attempts.length} attempts recorded`);
          assert.deepEqual(
            attempts.map((x) => x.attempt),
            attempts.map((_, i) => i + 1),
            `${a.event.resultId}: attempts numbered in order`,
          );
          for (const x of attempts.filter((x) => x.outcome === 'unknown')) {
            assert.match(x.detail ?? '', /^outcome unknown: engine restarted/);
            unknownOutcomes++;
          }
          assert.equal(m.deliveries[0]!.controlId, byFiller.get(a.event.accession)![0]!.controlId, `${a.event.resultId}: stored control id`);
        }
      }),
    );

    const fromSecond = acked.filter((a) => a.process === 2);
    const counts = {
      events: EVENTS,
      acked: acked.length,
      ackedByFirstProcess: acked.length - fromSecond.length,
      ackedBySecondProcess: fromSecond.length,
      repeatsAnswered200: acked.filter((a) => a.status === 200).length,
      requestsCutByKill: failedRequests,
      backpressure503: backpressure,
      atKill,
      framesReceived: receiver.frames.length,
      delivered: byFiller.size,
      duplicates,
      duplicatedMessages,
      unknownOutcomes,
    };
    t.diagnostic(`kill -9 counts (${store}): ${JSON.stringify(counts)}`);
    await engine.stop();
  });
}
