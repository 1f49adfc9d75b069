/**
 * Closed-loop end-to-end benchmark: N events, C submissions in flight (each sender waits for
 * its answer before the next), through one of the paths of paths.ts, every message durably
 * stored before it is acknowledged.
 *
 * Measured, all on this process's clock (performance.now()):
 * - end to end: N / (last first delivery at the destination - first submission);
 * - intake: N / (last 2xx or AA - first submission);
 * - delivered during intake: first deliveries before the last submission was answered, also
 *   as a percentage of the intake rate (100 % = delivery kept pace with intake);
 * - latency per event: submission → its delivery at the destination;
 * - CPU seconds of the engine (from /proc/<pid>/stat) and of this process;
 * - the engine's peak RSS (VmHWM from /proc/<pid>/status), read just before it is stopped.
 *
 *   node test/bench/e2e.bench.ts [--path webhook-mllp|webhook-fhir|mllp-mllp] [--events N] [--concurrency C]
 *                                [--lanes L] [--durability full|normal] [--lis-delay ms] [--fhir-peer medplum|instant]
 *                                [--in-process]
 */
import { parseArgs } from 'node:util';
import { cpuSeconds, fmt, loadAverage, mib, now, type Percentiles, percentiles, rssPeak, sleep, table } from './measure.ts';
import { type FhirPeerKind, PATH_KINDS, type PathKind, type PathOptions, startPath } from './paths.ts';

export interface ClosedLoopOptions extends Omit<PathOptions, 'connections'> {
  /** Submissions in flight. */
  concurrency: number;
  /** Give up waiting for the deliveries after this long. Default 300 s. */
  timeoutMs?: number;
}

export interface ClosedLoopResult {
  label: string;
  kind: PathKind;
  /** The FHIR peer of a webhook-fhir run. */
  fhirPeer: FhirPeerKind | undefined;
  lanes: number;
  lisDelayMs: number;
  events: number;
  concurrency: number;
  /** Results per second, first submission → last first delivery. */
  endToEndPerSecond: number;
  /** Submissions per second, first submission → last 2xx / AA. */
  intakePerSecond: number;
  /** Results delivered while submissions were still being answered. */
  deliveredDuringIntake: number;
  /** Delivery rate during intake over the intake rate, in % (≥ 90 % is the target of issue 9). */
  keptPacePercent: number;
  /** Delivery rate once intake had ended: the backlog left, over the time it took to drain. */
  drainPerSecond: number;
  /** Submission → delivery at the destination, ms. */
  latencyMs: Percentiles;
  /** Deliveries beyond the first of an event (resends). */
  duplicates: number;
  /** 503 answers (pushback), each retried after 20 ms. */
  backpressure: number;
  /** Submissions refused otherwise (never expected), with the last refusal. */
  refused: number;
  lastRefusal: string | undefined;
  engineCpuSeconds: number;
  loadCpuSeconds: number;
  engineRssPeakBytes: number | undefined;
  loadAverageAtStart: number;
}

export async function runClosedLoop(o: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const n = o.events;
  const loadAverageAtStart = loadAverage();
  const run = await startPath({ ...o, connections: o.concurrency });
  try {
    const sentAt = new Float64Array(n);
    const cpu0 = process.cpuUsage();
    const engineCpu0 = cpuSeconds(run.pid);
    let next = 0;
    let backpressure = 0;
    let refused = 0;
    let lastIntakeAt = 0;
    const t0 = now();
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        for (let i = next++; i < n; i = next++) {
          sentAt[i] = now();
          for (;;) {
            const answer = await run.submit(i);
            if (answer === 'busy') {
              backpressure++;
              await sleep(20);
              continue;
            }
            if (answer === 'refused') refused++;
            break;
          }
          lastIntakeAt = now();
        }
      }),
    );
    const deliveredDuringIntake = run.deliveries.count;
    await run.settled(n - refused, o.timeoutMs ?? 300_000);
    const loadCpu = process.cpuUsage(cpu0);
    const engineCpuSeconds = o.inProcess ? (loadCpu.user + loadCpu.system) / 1e6 : cpuSeconds(run.pid) - engineCpu0;
    const engineRssPeakBytes = rssPeak(run.pid);
    const { at, lastAt, duplicates } = run.deliveries;
    const totalMs = lastAt - t0;
    const intakeMs = lastIntakeAt - t0;
    return {
      label: run.label,
      kind: o.kind,
      fhirPeer: o.kind === 'webhook-fhir' ? (o.fhirPeer ?? 'medplum') : undefined,
      lanes: o.lanes,
      lisDelayMs: o.lisDelayMs ?? 0,
      events: n,
      concurrency: o.concurrency,
      endToEndPerSecond: (n * 1000) / totalMs,
      intakePerSecond: (n * 1000) / intakeMs,
      deliveredDuringIntake,
      keptPacePercent: (deliveredDuringIntake / n) * 100,
      drainPerSecond: ((n - deliveredDuringIntake) * 1000) / (lastAt - lastIntakeAt),
      latencyMs: percentiles(Array.from({ length: n }, (_, i) => (at[i]! > 0 ? at[i]! - sentAt[i]! : Number.NaN))),
      duplicates,
      backpressure,
      refused,
      lastRefusal: run.lastRefusal,
      engineCpuSeconds,
      loadCpuSeconds: (loadCpu.user + loadCpu.system) / 1e6,
      engineRssPeakBytes,
      loadAverageAtStart,
    };
  } finally {
    await run.stop();
  }
}

/** The results as a table, one row per run. */
export function formatClosedLoop(results: ClosedLoopResult[]): string {
  return table(
    ['run', 'events', 'results/s e2e', 'intake/s', 'delivered during intake', 'kept pace', 'drain/s after', 'p50 ms', 'p99 ms', 'max ms', 'engine CPU s', 'load CPU s', 'engine peak RSS', 'dups', '503s', 'refused', 'load avg'],
    results.map((r) => [
      r.label,
      fmt(r.events),
      fmt(r.endToEndPerSecond),
      fmt(r.intakePerSecond),
      fmt(r.deliveredDuringIntake),
      `${fmt(r.keptPacePercent)} %`,
      fmt(r.drainPerSecond),
      fmt(r.latencyMs.p50, 1),
      fmt(r.latencyMs.p99, 1),
      fmt(r.latencyMs.max, 1),
      fmt(r.engineCpuSeconds, 1),
      fmt(r.loadCpuSeconds, 1),
      mib(r.engineRssPeakBytes),
      String(r.duplicates),
      String(r.backpressure),
      String(r.refused),
      fmt(r.loadAverageAtStart, 1),
    ]),
  );
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      path: { type: 'string', default: 'webhook-mllp' },
      events: { type: 'string', default: '20000' },
      concurrency: { type: 'string', default: '64' },
      lanes: { type: 'string', default: '1' },
      durability: { type: 'string', default: 'full' },
      patients: { type: 'string', default: '500' },
      'lis-delay': { type: 'string', default: '0' },
      'fhir-peer': { type: 'string', default: 'medplum' },
      'in-process': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const kind = PATH_KINDS.find((k) => k === values.path);
  if (!kind) throw new Error(`--path must be one of ${PATH_KINDS.join(', ')}`);
  const result = await runClosedLoop({
    kind,
    events: Number(values.events),
    concurrency: Number(values.concurrency),
    lanes: Number(values.lanes),
    durability: values.durability === 'normal' ? 'normal' : 'full',
    patients: Number(values.patients),
    lisDelayMs: Number(values['lis-delay']),
    fhirPeer: values['fhir-peer'] === 'instant' ? 'instant' : 'medplum',
    inProcess: values['in-process'],
    runId: `c${Date.now().toString(36)}`,
  });
  console.log(formatClosedLoop([result]));
  if (result.lastRefusal) console.log(`last refusal: ${result.lastRefusal}`);
}
