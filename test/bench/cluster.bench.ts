/**
 * Scale-out bench (issue: high availability): the same channel on 1 instance with SQLite, and on
 * 1, 2 and 3 instances sharing one PostgreSQL database, measured in one run. The channel has
 * three MLLP destinations of 2 lanes each (6 lanes to spread over the instances), all to one
 * instant-ACK LIS in this process. For each setup:
 * - closed loop: `events` webhooks with `concurrency` in flight, spread round-robin over the
 *   instances; results/s end to end (every delivery of every event acknowledged);
 * - open loop: `rate` webhooks/s for `seconds`, POST → ACK latency: from when each event was due
 *   to the AA of the last of its three deliveries.
 * Engines run as child processes (conduit start); the figures are printed, never asserted.
 */
import { performance } from 'node:perf_hooks';
import { createWorkspace, type EngineProcess, startEngine } from '../support/engine-process.ts';
import { tempDatabase } from '../support/postgres.ts';
import { startRecordingReceiver } from '../support/recording-receiver.ts';
import { fmt, loadAverage, type Percentiles, percentiles, rssPeak, sleep, table } from './measure.ts';
import { platformWorkload } from './workload.ts';

export interface ClusterBenchOptions {
  events: number;
  concurrency: number;
  rate: number;
  seconds: number;
  patients: number;
}

export interface ClusterBenchResult {
  setup: string;
  store: 'sqlite' | 'postgres';
  instances: number;
  endToEndPerSecond: number;
  openLoop: Percentiles & { rate: number };
  peakRssMiB: number[];
  loadAverage: number;
}

const DESTINATIONS = ['lis-a', 'lis-b', 'lis-c'];
export const LANES_PER_DESTINATION = 2;

function channel(port: number): string {
  const destinations = DESTINATIONS.map(
    (id) => `  - id: ${id}
    mapping: oru-r01-lis
    sender:
      type: mllp
      host: 127.0.0.1
      port: ${port}
      ackTimeoutMs: 10000
    delivery:
      maxAttempts: 10
      initialBackoffMs: 200
      maxBackoffMs: 2000
      lanes: ${LANES_PER_DESTINATION}`,
  );
  return `id: scale\nsource:\n  type: webhook\n  path: /channels/scale\nmapping: platform-result\ndestinations:\n${destinations.join('\n')}\n`;
}

/** One setup, 'sqlite:1' or 'postgres:<instances>'. */
export async function runClusterSetup(setup: string, o: ClusterBenchOptions): Promise<ClusterBenchResult> {
  const [store, count] = setup.split(':') as ['sqlite' | 'postgres', string];
  const instances = Number(count);
  const runId = `c${Date.now().toString(36)}`;
  const work = platformWorkload(runId, o.patients, o.events + Math.ceil(o.rate * o.seconds));
  // When every delivery of an event was acknowledged (a resend counts once), and how many were.
  const acks = new Map<number, number>();
  const allAcked = new Map<number, number>();
  let acked = 0;
  const lis = await startRecordingReceiver({
    record: false,
    onAnswered: (f) => {
      if (f.ackCode !== 'AA' || !f.fillerId) return;
      const i = work.indexOf(f.fillerId);
      if (i < 0 || allAcked.has(i)) return;
      acked++;
      const n = (acks.get(i) ?? 0) + 1;
      acks.set(i, n);
      if (n === DESTINATIONS.length) allAcked.set(i, f.answeredAt ?? performance.now());
    },
  });
  // A PostgreSQL database of its own, dropped at the end.
  const dropped: Array<() => Promise<void>> = [];
  const env: Record<string, string> = store === 'postgres' ? { CONDUIT_STORE: await tempDatabase({ after: async (drop) => void dropped.push(drop) }) } : {};
  const workspace = createWorkspace({ 'scale.yaml': channel(lis.port) });
  const engines: EngineProcess[] = [];
  try {
    for (let i = 0; i < instances; i++) engines.push(await startEngine({ workspace, env, durability: 'full' }));
    // Lanes spread once every instance took its share.
    await sleep(store === 'postgres' ? 3000 : 500);
    let next = 0;
    const post = async (i: number): Promise<void> => {
      for (;;) {
        const e = engines[next++ % engines.length]!;
        const res = await fetch(`${e.url}/channels/scale`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: work.body(i) });
        await res.arrayBuffer();
        if (res.status === 201 || res.status === 200) return;
        await sleep(20);
      }
    };
    // Closed loop.
    const t0 = performance.now();
    let sent = 0;
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        while (sent < o.events) await post(sent++);
      }),
    );
    const wanted = o.events * DESTINATIONS.length;
    while (acked < wanted) await sleep(5);
    const endToEndPerSecond = o.events / ((performance.now() - t0) / 1000);
    // Open loop: event j due at start + j / rate.
    const base = o.events;
    const total = Math.floor(o.rate * o.seconds);
    const due = new Float64Array(total);
    const start = performance.now() + 100;
    const inFlight: Promise<void>[] = [];
    for (let j = 0; j < total; j++) {
      due[j] = start + (j * 1000) / o.rate;
      const wait = due[j]! - performance.now();
      if (wait > 1) await sleep(wait);
      inFlight.push(post(base + j));
    }
    await Promise.all(inFlight);
    const deadline = performance.now() + 120_000;
    while (allAcked.size < o.events + total && performance.now() < deadline) await sleep(10);
    const latencies: number[] = [];
    for (let j = 0; j < total; j++) latencies.push((allAcked.get(base + j) ?? Number.NaN) - due[j]!);
    return {
      setup,
      store,
      instances,
      endToEndPerSecond,
      openLoop: { ...percentiles(latencies), rate: o.rate },
      peakRssMiB: engines.map((e) => Math.round((rssPeak(e.pid) ?? 0) / 2 ** 20)),
      loadAverage: loadAverage(),
    };
  } finally {
    for (const e of engines) await e.stop();
    workspace.remove();
    await lis.close();
    for (const drop of dropped) await drop();
  }
}

export function formatCluster(rows: ClusterBenchResult[]): string {
  return table(
    ['setup', 'results/s end to end', 'open loop rate', 'POST→ACK p50', 'p99', 'p99.9', 'max', 'peak RSS per instance', 'load avg'],
    rows.map((r) => [
      `${r.store} × ${r.instances}`,
      fmt(r.endToEndPerSecond),
      `${fmt(r.openLoop.rate)}/s`,
      `${fmt(r.openLoop.p50, 1)} ms`,
      `${fmt(r.openLoop.p99, 1)} ms`,
      `${fmt(r.openLoop.p999, 1)} ms`,
      `${fmt(r.openLoop.max, 1)} ms`,
      r.peakRssMiB.map((m) => `${m}`).join(' / ') + ' MiB',
      fmt(r.loadAverage, 1),
    ]),
  );
}

