/**
 * Fault suite of several instances on one PostgreSQL store (issue: high availability). Three
 * engine processes with the same channel files share one database; webhooks arrive at 500/s
 * spread over the live ones while a fault is applied:
 *   (a) kill -9 of the instance holding a lane, 10 times (restarted each time);
 *   (b) SIGSTOP of a lane's owner for 30 s, then SIGCONT: once awake it must not send on the
 *       lanes it lost;
 *   (c) PostgreSQL restarted mid-load;
 *   (d) the LIS down for 2 minutes.
 * Every time: every event answered 2xx is delivered, duplicates only with their original
 * MSH-10, no order violation per patient; the failover time (last AA before the fault → first
 * AA after it, on the lanes it hit) is printed. Sizes from the environment for longer runs:
 * CONDUIT_FAULT_KILLS, CONDUIT_FAULT_PAUSE_MS, CONDUIT_FAULT_PAUSES, CONDUIT_FAULT_LIS_DOWN_MS,
 * CONDUIT_FAULT_RATE, CONDUIT_FAULT_LEASE_MS. Run: npm run test:cluster (PostgreSQL on 127.0.0.1:5432, see README).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { describe, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitForDrained } from '../support/engine-process.ts';
import type { GeneratedEvent } from '../support/platform-events.ts';
import { POSTGRES_URL, postgresUnavailable } from '../support/postgres.ts';
import { type ReceivedFrame, type RecordingReceiver, startRecordingReceiver } from '../support/recording-receiver.ts';
import { CHANNEL, type Cluster, failoverMs, Load, laneOfEvent, longestPauseMs, startCallbackReceiver, startCluster, verdict } from './support.ts';

const number = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const RATE = number('CONDUIT_FAULT_RATE', 500);
const KILLS = number('CONDUIT_FAULT_KILLS', 10);
const PAUSE_MS = number('CONDUIT_FAULT_PAUSE_MS', 30_000);
const PAUSES = number('CONDUIT_FAULT_PAUSES', 1);
const LIS_DOWN_MS = number('CONDUIT_FAULT_LIS_DOWN_MS', 120_000);
const LEASE_MS = number('CONDUIT_FAULT_LEASE_MS', 3000);
const INSTANCES = 3;
const LANES = 6;
const PATIENTS = 200;

const skip = await postgresUnavailable();

interface Run {
  callbacks: Awaited<ReturnType<typeof startCallbackReceiver>>;
  cluster: Cluster;
  receivers: RecordingReceiver[];
  load: Load;
  byAccession: Map<string, GeneratedEvent>;
}

/** Three instances, a LIS answering after 1 ms, a receiver of status callbacks, and the load running. */
async function begin(t: TestContext, runId: string, events: number): Promise<Run> {
  const receiver = await startRecordingReceiver({ delayMs: 1 });
  const receivers = [receiver];
  const callbacks = await startCallbackReceiver();
  t.after(async () => {
    for (const r of receivers) await r.close();
    await callbacks.close();
  });
  const cluster = await startCluster(t, { instances: INSTANCES, mllpPort: receiver.port, lanes: LANES, leaseMs: LEASE_MS, callbackUrl: callbacks.url });
  await cluster.settled();
  const load = new Load(cluster, runId, events, PATIENTS);
  load.start(RATE);
  return { callbacks, cluster, receivers, load, byAccession: new Map(load.events.map((e) => [e.accession, e])) };
}

function frames(run: Run): ReceivedFrame[] {
  return run.receivers.flatMap((r) => r.frames);
}

function laneOfFrame(run: Run): (f: ReceivedFrame) => number | undefined {
  return (f) => {
    const e = f.fillerId === undefined ? undefined : run.byAccession.get(f.fillerId);
    return e && laneOfEvent(e, LANES);
  };
}

/** Stops the load, waits for every delivery, checks the invariants and prints the figures. */
async function finish(t: TestContext, run: Run, name: string, failovers: Array<number | undefined>, extra: Record<string, unknown> = {}): Promise<void> {
  await run.load.stop();
  const live = run.cluster.engines.find((_, slot) => !run.cluster.down.has(slot))!;
  await waitForDrained(live, CHANNEL, 300_000, 200);
  const v = verdict(run.load.acked, frames(run));
  // Every result delivered brought its status callback, whichever instance recorded the outcome.
  const noCallback = run.load.acked.filter((a) => !run.callbacks.delivered.has(a.event.resultId)).map((a) => a.event.resultId);
  const shown = failovers.map((f) => (f === undefined ? '-' : `${f} ms`)).join(', ');
  t.diagnostic(
    `${name}: ${v.acked} events answered 2xx, ${v.delivered} delivered, ${v.duplicates} duplicate frames, ${v.missing.length} missing, ${v.controlIdChanged.length} with a changed MSH-10, ${v.orderViolations.length} order violations; failover ${shown}; retried requests ${run.load.retries}; ${run.callbacks.received} status callbacks, ${noCallback.length} results without one; ${JSON.stringify(extra)}`,
  );
  assert.deepEqual(v.missing, [], 'events answered 2xx but never delivered');
  assert.deepEqual(v.controlIdChanged, [], 'duplicates must carry the MSH-10 of the first delivery');
  assert.deepEqual(v.orderViolations, [], 'patients whose results came out of order');
  assert.deepEqual(noCallback, [], 'results delivered without their status callback');
}

/**
 * Pauses (SIGSTOP) the instance delivering `lane` for PAUSE_MS, wakes it (SIGCONT) and watches
 * it for 5 s: `late` counts the frames it sent after waking on the connections it was delivering
 * its lanes on, before it took a lease again (a send without its lease); `lost`, the leases it
 * noticed it had lost.
 */
async function pauseOwnerOfLane(run: Run, lane: number): Promise<{ failover: number | undefined; late: number; lost: number }> {
  // Not while lanes move: the connections below must be the paused instance's.
  const view = await run.cluster.balanced();
  const slot = run.cluster.ownerOf(lane, view)!;
  const paused = run.cluster.engines[slot]!;
  const lanes = await lanesOf(run.cluster, slot);
  const laneOf = laneOfFrame(run);
  // The connections it delivers its lanes on: those of their last frames (earlier ones may be
  // another instance's, which delivered a lane before it moved here).
  const recent = Date.now() - 500;
  const connections = new Set(
    frames(run)
      .filter((f) => f.at >= recent && lanes.has(laneOf(f) ?? -1))
      .map((f) => f.connectionId),
  );
  run.cluster.down.add(slot);
  const faultAt = performance.now();
  paused.child.kill('SIGSTOP');
  await sleep(PAUSE_MS);
  const wokeAt = Date.now();
  const logsBefore = paused.logs.length;
  paused.child.kill('SIGCONT');
  run.cluster.down.delete(slot);
  await sleep(5000);
  // Until it takes a lease again (rebalancing), it must not send.
  const reacquired = paused.logs
    .slice(logsBefore)
    .map((l) => JSON.parse(l) as { msg?: string; time?: number })
    .find((l) => l.msg?.startsWith('lane lease acquired'))?.time;
  const late = frames(run).filter((f) => connections.has(f.connectionId) && f.at >= wokeAt && f.at < (reacquired ?? Number.POSITIVE_INFINITY)).length;
  const lost = paused.logs.slice(logsBefore).filter((l) => l.includes('lane lease lost')).length;
  return { failover: failoverMs(frames(run), laneOf, lanes, faultAt), late, lost };
}

/** The lanes a slot holds now. */
async function lanesOf(cluster: Cluster, slot: number): Promise<Set<number>> {
  const view = await cluster.view();
  return new Set(Array.from({ length: LANES }, (_, lane) => lane).filter((lane) => cluster.ownerOf(lane, view) === slot));
}

describe('several instances on one PostgreSQL store under faults', { skip, timeout: 900_000 }, () => {
  test(`(a) kill -9 of the instance holding a lane, ${KILLS} times`, async (t) => {
    const run = await begin(t, 'ka', RATE * (KILLS * (LEASE_MS / 1000 + 4) + 10));
    const failovers: Array<number | undefined> = [];
    const faults: Array<{ at: number; lanes: Set<number> }> = [];
    for (let i = 0; i < KILLS; i++) {
      await sleep(1500);
      const view = await run.cluster.settled();
      const slot = run.cluster.ownerOf(i % LANES, view)!;
      const lanes = await lanesOf(run.cluster, slot);
      run.cluster.down.add(slot);
      faults.push({ at: performance.now(), lanes });
      await run.cluster.engines[slot]!.kill('SIGKILL');
      await run.cluster.settled(LEASE_MS * 5);
      await run.cluster.start(slot);
    }
    await sleep(1500);
    for (const f of faults) failovers.push(failoverMs(frames(run), laneOfFrame(run), f.lanes, f.at));
    await finish(t, run, `kill -9 ×${KILLS}`, failovers);
  });

  test(`(b) SIGSTOP of a lane's owner for ${PAUSE_MS / 1000} s, then SIGCONT${PAUSES > 1 ? `, ${PAUSES} times` : ''}: it does not send on the lanes it lost`, async (t) => {
    const run = await begin(t, 'sb', RATE * PAUSES * (PAUSE_MS / 1000 + 10) + RATE * 5);
    const failovers: Array<number | undefined> = [];
    const problems: string[] = [];
    let late = 0;
    let lost = 0;
    try {
      for (let i = 0; i < PAUSES; i++) {
        await sleep(2000);
        const pause = await pauseOwnerOfLane(run, i % LANES);
        failovers.push(pause.failover);
        late += pause.late;
        lost += pause.lost;
        // Its lanes moved while it was paused (a transaction it left open must not hold them).
        if (pause.failover === undefined || pause.failover >= PAUSE_MS) problems.push(`pause ${i + 1}: failover ${pause.failover} ms, pause ${PAUSE_MS} ms`);
        if (pause.lost === 0) problems.push(`pause ${i + 1}: the paused instance did not notice it lost its leases`);
      }
    } finally {
      // Also when a pause failed: the load stops and what was accepted is checked.
      await finish(t, run, `SIGSTOP ${PAUSE_MS / 1000} s${PAUSES > 1 ? ` ×${PAUSES}` : ''}`, failovers, { lanesLost: lost, sentAfterWaking: late });
    }
    assert.equal(late, 0, 'frames sent by a paused instance after it woke without its lease');
    assert.deepEqual(problems, []);
  });

  const cluster = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql').sort().at(-1) : undefined;
  const local = /@(127\.0\.0\.1|localhost)(:5432)?\//.test(POSTGRES_URL);
  test('(c) PostgreSQL restarted mid-load', { skip: cluster && local ? false : 'needs the local Debian PostgreSQL cluster (pg_ctlcluster)' }, async (t) => {
    const run = await begin(t, 'pc', RATE * 25);
    await sleep(3000);
    const faultAt = performance.now();
    // Not execFileSync: the load (this process) goes on while the server restarts.
    await promisify(execFile)('pg_ctlcluster', ['--skip-systemctl-redirect', cluster!, 'main', 'restart']);
    const restartedMs = Math.round(performance.now() - faultAt);
    await sleep(8000);
    // The LIS connections outlive the restart: the figure is how long no AA came at all.
    const pause = longestPauseMs(frames(run), faultAt, performance.now());
    await finish(t, run, 'PostgreSQL restart', [pause], { restartMs: restartedMs, failoverIs: 'the longest time without an AA after the restart began' });
  });

  test(`(d) the LIS down for ${LIS_DOWN_MS / 1000} s`, async (t) => {
    const run = await begin(t, 'ld', RATE * (LIS_DOWN_MS / 1000 + 10));
    await sleep(2000);
    const first = run.receivers[0]!;
    await first.close();
    await sleep(LIS_DOWN_MS);
    const backAt = performance.now();
    const second = await startRecordingReceiver({ delayMs: 1, port: first.port });
    run.receivers.push(second);
    await sleep(3000);
    const answered = (r: RecordingReceiver) => r.frames.filter((f) => f.ackCode === 'AA').map((f) => f.answeredAt!);
    const lastBefore = Math.max(...answered(first));
    const firstAfter = Math.min(...answered(second));
    await finish(t, run, `LIS down ${LIS_DOWN_MS / 1000} s`, [Math.round(firstAfter - lastBefore)], { firstAaAfterLisBackMs: Math.round(firstAfter - backAt) });
  });
});
