/**
 * Open-loop benchmark: events submitted on a fixed schedule (event i is due at t0 + i / rate),
 * whatever the engine does. The latency of an event is its delivery at the destination minus
 * the time it was *due*, not when it was actually sent: a stalled sender or a queue of
 * requests waiting for a socket counts against the engine, so a stall cannot hide behind
 * fewer samples (coordinated omission). A 503 is retried after 20 ms, the clock still running.
 *
 * The schedule starts with a warm-up at the same rate (default 10 s: connections opened, code
 * compiled by the JIT) whose events are delivered and checked like the others but kept out of
 * the percentiles; its worst latency is printed on its own (`cold max`), so a slow start is
 * shown, not hidden, and does not stand for the steady state. The measured schedule starts once
 * every warm-up event is delivered: a backlog left by the cold start would otherwise be counted
 * against the first measured second.
 *
 *   node test/bench/open-loop.bench.ts [--path webhook-mllp|webhook-fhir|mllp-mllp] [--rate 1000] [--duration 60] [--warm-up 10]
 *                                      [--lanes 1] [--durability full|normal] [--fhir-peer medplum|instant]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { cpuSeconds, fmt, loadAverage, mib, now, type Percentiles, percentiles, rssNow, rssPeak, sleep, table } from './measure.ts';
import { type FhirPeerKind, PATH_KINDS, type PathKind, type PathOptions, type PathRun, type Submitted, startPath } from './paths.ts';

export interface OpenLoopOptions extends Omit<PathOptions, 'connections' | 'events'> {
  /** Events per second. */
  rate: number;
  durationS: number;
  /** Seconds at the same rate before the measured ones (default 10). */
  warmUpS?: number;
  /**
   * Webhook sockets or MLLP connections; submissions beyond them wait (their clock running).
   * Default 256 sockets, or 64 MLLP connections (the listener takes 100 by default).
   */
  connections?: number;
  /** Give up waiting for the deliveries this long after the last event was due. Default 300 s. */
  timeoutMs?: number;
  /** Called every `progressEveryMs` while the run lasts (the soak prints memory with it). */
  onProgress?: (p: OpenLoopProgress) => void;
  progressEveryMs?: number;
}

export interface OpenLoopProgress {
  elapsedMs: number;
  due: number;
  accepted: number;
  delivered: number;
  engineRssBytes: number | undefined;
  engineRssPeakBytes: number | undefined;
  /** The engine's store (database file and write-ahead log), bytes. */
  storeBytes: number;
}

export interface OpenLoopResult {
  label: string;
  kind: PathKind;
  /** The FHIR peer of a webhook-fhir run. */
  fhirPeer: FhirPeerKind | undefined;
  lanes: number;
  /** Events per second asked for. */
  rate: number;
  durationS: number;
  warmUpS: number;
  /** Measured events (after the warm-up). */
  events: number;
  accepted: number;
  /** 503 answers (each retried). */
  busy: number;
  /** Other refusals and transport errors, with the last one. */
  errors: number;
  lastError: string | undefined;
  /** Accepted per second over the schedule's length (≈ rate when intake keeps up). */
  achievedPerSecond: number;
  /** Delivered per second of the measured events, first one's due time → last delivery. */
  deliveredPerSecond: number;
  /** Due time → delivery at the destination, ms. */
  latencyMs: Percentiles;
  /** Due time → 2xx / AA from the engine, ms. */
  intakeLatencyMs: Percentiles;
  /** The worst latency (due → delivery) of the warm-up's events, ms. */
  warmUpMaxMs: number;
  /** The worst latency of the events due in each second of the measured run, ms: where a stall was. */
  maxBySecondMs: number[];
  /** The same for due → 2xx/AA from the engine: a stall of intake shows in both, one of delivery only in the first. */
  maxIntakeBySecondMs: number[];
  /** This process's (the load generator's) event-loop delay during the measured run, ms: its own stalls send events late. */
  generatorLoopDelayMs: { p99: number; max: number };
  duplicates: number;
  engineCpuSeconds: number;
  engineRssPeakBytes: number | undefined;
  loadAverageAtStart: number;
}

export async function runOpenLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const warmUpS = o.warmUpS ?? 10;
  const warm = Math.round(o.rate * warmUpS);
  const measured = Math.max(1, Math.round(o.rate * o.durationS));
  const n = warm + measured;
  const interval = 1000 / o.rate;
  const loadAverageAtStart = loadAverage();
  const run = await startPath({ ...o, events: n, connections: o.connections ?? (o.kind === 'mllp-mllp' ? 64 : 256) });
  try {
    const answeredAt = new Float64Array(n);
    const engineCpu0 = cpuSeconds(run.pid);
    let accepted = 0;
    let busy = 0;
    let errors = 0;
    let lastError: string | undefined;
    // When each event was due: the warm-up's from t0, the measured ones' from when it drained.
    const due = new Float64Array(n);
    const dueAt = (i: number): number => due[i]!;
    const fire = async (i: number): Promise<void> => {
      for (;;) {
        let answer: Submitted;
        try {
          answer = await run.submit(i);
        } catch (e) {
          errors++;
          lastError = (e as Error).message;
          return;
        }
        if (answer === 'busy') {
          busy++;
          await sleep(20);
          continue;
        }
        if (answer === 'accepted') {
          accepted++;
          answeredAt[i] = now();
        } else {
          errors++;
          lastError = run.lastRefusal;
        }
        return;
      }
    };
    const t0 = now() + 20;
    const progress = o.onProgress ? startProgress(run, o, t0, () => ({ due: countDue(due, n), accepted })) : undefined;
    // Counted rather than kept: a soak fires a million of them.
    let inFlight = 0;
    let allAnswered = (): void => {};
    let i = 0;
    let end = 0;
    const settle = (): void => {
      inFlight--;
      if (inFlight === 0 && i === end) allAnswered();
    };
    /** Fires events i … last - 1 on a schedule from `start`; resolves when all are answered. */
    const schedule = async (start: number, last: number): Promise<void> => {
      const first = i;
      end = last;
      const answered = new Promise<void>((resolve) => {
        allAnswered = resolve;
      });
      for (let k = first; k < last; k++) due[k] = start + (k - first) * interval;
      while (i < last) {
        const t = now();
        while (i < last && due[i]! <= t) {
          inFlight++;
          void fire(i++).finally(settle);
        }
        if (i < last) await sleep(Math.max(0, due[i]! - now()));
      }
      if (inFlight > 0) await answered;
    };
    if (warm > 0) {
      await schedule(t0, warm);
      await run.settled(accepted, o.timeoutMs ?? 300_000);
    }
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    loopDelay.enable();
    await schedule(now() + 20, n);
    loopDelay.disable();
    try {
      await run.settled(accepted, o.timeoutMs ?? 300_000);
    } finally {
      clearInterval(progress);
    }
    const engineCpuSeconds = o.inProcess ? Number.NaN : cpuSeconds(run.pid) - engineCpu0;
    const engineRssPeakBytes = rssPeak(run.pid);
    const { at, lastAt, duplicates } = run.deliveries;
    let deliveredMeasured = 0;
    for (let k = warm; k < n; k++) if (at[k]! > 0) deliveredMeasured++;
    const latency = (k: number): number => (at[k]! > 0 ? at[k]! - dueAt(k) : Number.NaN);
    const measuredOnes = <T>(f: (k: number) => T): T[] => Array.from({ length: measured }, (_, j) => f(warm + j));
    let warmUpMaxMs = 0;
    for (let k = 0; k < warm; k++) warmUpMaxMs = Math.max(warmUpMaxMs, latency(k) || 0);
    const maxBySecondMs: number[] = [];
    const maxIntakeBySecondMs: number[] = [];
    for (let j = 0; j < measured; j++) {
      const second = Math.floor((j * interval) / 1000);
      maxBySecondMs[second] = Math.max(maxBySecondMs[second] ?? 0, latency(warm + j) || 0);
      const answered = answeredAt[warm + j]!;
      maxIntakeBySecondMs[second] = Math.max(maxIntakeBySecondMs[second] ?? 0, answered > 0 ? answered - dueAt(warm + j) : 0);
    }
    return {
      label: run.label,
      kind: o.kind,
      fhirPeer: o.kind === 'webhook-fhir' ? (o.fhirPeer ?? 'medplum') : undefined,
      lanes: o.lanes,
      rate: o.rate,
      durationS: o.durationS,
      warmUpS,
      events: measured,
      accepted,
      busy,
      errors,
      lastError,
      achievedPerSecond: (accepted * 1000) / (n * interval),
      deliveredPerSecond: deliveredMeasured === 0 ? 0 : (deliveredMeasured * 1000) / (lastAt - dueAt(warm)),
      latencyMs: percentiles(measuredOnes(latency)),
      intakeLatencyMs: percentiles(measuredOnes((k) => (answeredAt[k]! > 0 ? answeredAt[k]! - dueAt(k) : Number.NaN))),
      warmUpMaxMs,
      maxBySecondMs,
      maxIntakeBySecondMs,
      generatorLoopDelayMs: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
      duplicates,
      engineCpuSeconds,
      engineRssPeakBytes,
      loadAverageAtStart,
    };
  } finally {
    await run.stop();
  }
}

/** Events whose due time has come (the measured ones have none until the warm-up drained). */
function countDue(due: Float64Array, n: number): number {
  const t = now();
  let k = 0;
  while (k < n && due[k]! > 0 && due[k]! <= t) k++;
  return k;
}

function startProgress(run: PathRun, o: OpenLoopOptions, t0: number, counts: () => { due: number; accepted: number }): NodeJS.Timeout {
  return setInterval(() => {
    o.onProgress!({ elapsedMs: now() - t0, ...counts(), delivered: run.deliveries.count, engineRssBytes: rssNow(run.pid), engineRssPeakBytes: rssPeak(run.pid), storeBytes: run.storeBytes() });
  }, o.progressEveryMs ?? 10_000);
}

/** The second of the measured run with the worst latency, as "12 s: 48.1 ms". */
export function worstSecond(maxBySecondMs: number[]): string {
  let at = 0;
  for (let k = 1; k < maxBySecondMs.length; k++) if (maxBySecondMs[k]! > maxBySecondMs[at]!) at = k;
  return `at ${at} s: ${fmt(maxBySecondMs[at] ?? Number.NaN, 1)} ms`;
}

/** The results as a table, one row per run. */
export function formatOpenLoop(results: OpenLoopResult[]): string {
  return table(
    ['run', 'rate/s', 's', 'cold max ms', 'accepted/s', 'delivered/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'intake p99 ms', 'generator loop max ms', '503s', 'errors', 'dups', 'engine CPU s', 'engine peak RSS', 'load avg'],
    results.map((r) => [
      r.label,
      fmt(r.rate),
      fmt(r.durationS),
      fmt(r.warmUpMaxMs, 1),
      fmt(r.achievedPerSecond),
      fmt(r.deliveredPerSecond),
      fmt(r.latencyMs.p50, 1),
      fmt(r.latencyMs.p99, 1),
      fmt(r.latencyMs.p999, 1),
      fmt(r.latencyMs.max, 1),
      fmt(r.intakeLatencyMs.p99, 1),
      fmt(r.generatorLoopDelayMs.max, 1),
      String(r.busy),
      String(r.errors),
      String(r.duplicates),
      fmt(r.engineCpuSeconds, 1),
      mib(r.engineRssPeakBytes),
      fmt(r.loadAverageAtStart, 1),
    ]),
  );
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      path: { type: 'string', default: 'webhook-mllp' },
      rate: { type: 'string', default: '1000' },
      duration: { type: 'string', default: '60' },
      'warm-up': { type: 'string', default: '10' },
      lanes: { type: 'string', default: '1' },
      durability: { type: 'string', default: 'full' },
      patients: { type: 'string', default: '500' },
      'fhir-peer': { type: 'string', default: 'medplum' },
    },
    strict: true,
  });
  const kind = PATH_KINDS.find((k) => k === values.path);
  if (!kind) throw new Error(`--path must be one of ${PATH_KINDS.join(', ')}`);
  const result = await runOpenLoop({
    kind,
    rate: Number(values.rate),
    durationS: Number(values.duration),
    warmUpS: Number(values['warm-up']),
    lanes: Number(values.lanes),
    durability: values.durability === 'normal' ? 'normal' : 'full',
    patients: Number(values.patients),
    fhirPeer: values['fhir-peer'] === 'instant' ? 'instant' : 'medplum',
    runId: `o${Date.now().toString(36)}`,
  });
  console.log(formatOpenLoop([result]));
  if (result.lastError) console.log(`last error: ${result.lastError}`);
}
