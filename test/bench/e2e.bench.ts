/**
 * End-to-end benchmark: platform webhook → ORU^R01 → MLLP → ACK, every message durably stored.
 *
 * The engine runs as a child process (`conduit start`, port 0, a temp data directory) on the
 * sample channel platform-to-lis.yaml, pointed at a recording MLLP receiver in this process
 * (our MllpServer, answering AA built with buildAck). This process POSTs N generated
 * full-form events with bounded concurrency over keep-alive connections.
 *
 * Measured, all on this process's clock (performance.now()):
 * - end to end: N / (last first-delivery ACK at the receiver - first POST sent);
 * - intake: N / (last 2xx - first POST sent);
 * - latency per event: POST sent → its ACK written by the receiver (matched by ORC-3, the
 *   accession of the event, with MSH-10 recorded too);
 * - CPU seconds of the engine (from /proc/<pid>/stat) and of this process;
 * - the engine's peak RSS (VmHWM from /proc/<pid>/status), read just before it is stopped.
 *
 *   node test/bench/e2e.bench.ts [--events N] [--concurrency C] [--lanes L] [--durability full|normal] [--client http|fetch]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { peakRss, sampleChannel, startEngine, waitForDrained } from '../support/engine-process.ts';
import { startTestEngine } from '../support/in-process.ts';
import { type GeneratedEvent, generateEvents } from '../support/platform-events.ts';
import { startRecordingReceiver } from '../support/recording-receiver.ts';

const CHANNEL = 'platform-to-lis';
const PATH = '/channels/platform-to-lis';

export interface E2eBenchOptions {
  events: number;
  /** Webhook requests in flight. Default 64. */
  concurrency?: number;
  /** Destination lanes (parallel MLLP connections). Default 1, as in the sample channel. */
  lanes?: number;
  durability?: 'full' | 'normal';
  /** Node's http.request with a keep-alive Agent, or the built-in fetch (undici). Default http. */
  client?: 'http' | 'fetch';
  /** Distinct patients over the events. Default 500. */
  patients?: number;
  /** Extra node options for the engine, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof']. */
  engineExecArgv?: string[];
  /**
   * Run the engine in this process instead (sharing the event loop with the load generator
   * and the receiver), for comparison. Engine CPU and RSS are then those of the whole process.
   */
  inProcess?: boolean;
  /** Give up after this long. Default 300 s. */
  timeoutMs?: number;
}

export interface E2eBenchResult {
  label: string;
  events: number;
  concurrency: number;
  lanes: number;
  durability: string;
  client: string;
  /** Results per second, first POST → last ACK at the receiver. */
  endToEndPerSecond: number;
  /** Webhooks per second, first POST → last 2xx. */
  intakePerSecond: number;
  totalMs: number;
  intakeMs: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Results delivered while webhooks were still arriving (intake and delivery share the engine). */
  deliveredDuringIntake: number;
  /** Delivery rate once intake had ended: the backlog left, over the time it took to drain. */
  drainPerSecond: number;
  /** Frames received beyond the first of each message (resends). */
  duplicates: number;
  /** Webhook 503 answers (backpressure), each retried. */
  backpressure: number;
  engineCpuSeconds: number;
  engineRssPeakBytes: number | undefined;
  loadCpuSeconds: number;
  /** The machine's 1-minute load average when the run started: other work skews the figures. */
  loadAverageAtStart: number;
}

interface Poster {
  post(body: Buffer): Promise<{ status: number; text: string }>;
  close(): void;
}

function httpPoster(url: string, concurrency: number): Poster {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const { hostname, port } = new URL(url);
  return {
    post: (body) =>
      new Promise((resolve, reject) => {
        const req = http.request(
          { agent, hostname, port, path: PATH, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => {
              text += c;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      }),
    close: () => agent.destroy(),
  };
}

function fetchPoster(url: string): Poster {
  return {
    post: async (body) => {
      const res = await fetch(url + PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      return { status: res.status, text: await res.text() };
    },
    close: () => {},
  };
}

/** utime + stime of a process, in seconds (Linux /proc; clock ticks assumed 100 Hz). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state is field 3, utime 14, stime 15 (1-based in proc(5)).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function runE2eBench(options: E2eBenchOptions): Promise<E2eBenchResult> {
  const n = options.events;
  const concurrency = options.concurrency ?? 64;
  const lanes = options.lanes ?? 1;
  const durability = options.durability ?? 'full';
  const client = options.client ?? 'http';
  const loadAverageAtStart = loadavg()[0]!;
  const runId = `b${Date.now().toString(36)}`;
  const events = generateEvents({ events: n, patients: options.patients ?? 500, runId });
  const bodies = events.map((e) => Buffer.from(e.body));
  const byAccession = new Map<string, GeneratedEvent>(events.map((e) => [e.accession, e]));
  const sentAt = new Float64Array(n);
  const ackedAt = new Float64Array(n);
  let delivered = 0;
  let duplicates = 0;
  let lastDeliveryAt = 0;
  const receiver = await startRecordingReceiver({
    record: false,
    onAnswered: (f) => {
      const event = f.fillerId === undefined ? undefined : byAccession.get(f.fillerId);
      if (!event || f.answeredAt === undefined) return;
      if (ackedAt[event.index]! > 0) {
        duplicates++;
        return;
      }
      ackedAt[event.index] = f.answeredAt;
      lastDeliveryAt = f.answeredAt;
      delivered++;
    },
  });
  const channel = sampleChannel({ mllpPort: receiver.port, path: PATH, delivery: { lanes } });
  const engine = options.inProcess ? await inProcessEngine(channel, durability) : await childEngine(channel, durability, options.engineExecArgv);
  const poster = client === 'http' ? httpPoster(engine.url, concurrency) : fetchPoster(engine.url);
  const cpu0 = process.cpuUsage();
  const engineCpu0 = cpuSeconds(engine.pid);
  let backpressure = 0;
  let lastIntakeAt = 0;
  let deliveredDuringIntake = 0;
  let next = 0;
  const t0 = performance.now();
  const done = receiver.waitFor(() => delivered >= n, options.timeoutMs ?? 300_000);
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < n; i = next++) {
          sentAt[i] = performance.now();
          for (;;) {
            const res = await poster.post(bodies[i]!);
            if (res.status === 201 || res.status === 200) break;
            if (res.status === 503) {
              backpressure++;
              await new Promise((r) => setTimeout(r, 20));
              continue;
            }
            throw new Error(`webhook answered ${res.status}: ${res.text}`);
          }
          lastIntakeAt = performance.now();
        }
      }),
    );
    deliveredDuringIntake = delivered;
    await done;
    await engine.drained();
  } catch (e) {
    done.catch(() => {});
    await engine.stop();
    await receiver.close();
    throw e;
  } finally {
    poster.close();
  }
  const loadCpu = process.cpuUsage(cpu0);
  const engineCpuSeconds = options.inProcess ? (loadCpu.user + loadCpu.system) / 1e6 : cpuSeconds(engine.pid) - engineCpu0;
  const engineRssPeakBytes = peakRss(engine.pid);
  await engine.stop();
  await receiver.close();

  const latencies = Array.from({ length: n }, (_, i) => ackedAt[i]! - sentAt[i]!).sort((a, b) => a - b);
  const totalMs = lastDeliveryAt - t0;
  const intakeMs = lastIntakeAt - t0;
  return {
    label: `${durability}, lanes ${lanes}, ${client}, ${concurrency} in flight${options.inProcess ? ', engine in-process' : ''}`,
    events: n,
    concurrency,
    lanes,
    durability,
    client,
    endToEndPerSecond: (n * 1000) / totalMs,
    intakePerSecond: (n * 1000) / intakeMs,
    totalMs,
    intakeMs,
    latencyMs: { p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99), max: latencies[n - 1]! },
    deliveredDuringIntake,
    drainPerSecond: ((n - deliveredDuringIntake) * 1000) / (lastDeliveryAt - lastIntakeAt),
    duplicates,
    backpressure,
    engineCpuSeconds,
    engineRssPeakBytes,
    loadCpuSeconds: (loadCpu.user + loadCpu.system) / 1e6,
    loadAverageAtStart,
  };
}

interface BenchEngine {
  url: string;
  pid: number;
  /** Resolves once the engine shows no pending delivery. */
  drained(): Promise<void>;
  stop(): Promise<unknown>;
}

/** `conduit start` in a child process; drained when its admin API shows no pending delivery. */
async function childEngine(channel: string, durability: 'full' | 'normal', execArgv: string[] | undefined): Promise<BenchEngine> {
  const e = await startEngine({ channels: { 'platform-to-lis.yaml': channel }, durability, ...(execArgv ? { execArgv } : {}) });
  return { url: e.url, pid: e.pid, drained: () => waitForDrained(e, CHANNEL, 30_000, 20), stop: () => e.stop() };
}

/** The engine in this process, on the same event loop as the load generator and the receiver. */
async function inProcessEngine(channel: string, durability: 'full' | 'normal'): Promise<BenchEngine> {
  const t = await startTestEngine({ 'platform-to-lis.yaml': channel }, { durability });
  return { url: t.url, pid: process.pid, drained: () => t.drained(30_000), stop: () => t.stop() };
}

const fmt = (v: number, digits = 0): string => v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The results as a table, one row per run. */
export function formatE2eBench(results: E2eBenchResult[]): string {
  const header = ['run', 'results/s e2e', 'intake/s', 'delivered during intake', 'drain/s after', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'engine CPU s', 'load CPU s', 'engine peak RSS', 'dups', '503s', 'load avg'];
  const rows = results.map((r) => [
    r.label,
    fmt(r.endToEndPerSecond),
    fmt(r.intakePerSecond),
    fmt(r.deliveredDuringIntake),
    fmt(r.drainPerSecond),
    fmt(r.latencyMs.p50, 1),
    fmt(r.latencyMs.p90, 1),
    fmt(r.latencyMs.p99, 1),
    fmt(r.latencyMs.max, 1),
    fmt(r.engineCpuSeconds, 1),
    fmt(r.loadCpuSeconds, 1),
    r.engineRssPeakBytes === undefined ? 'n/a' : `${fmt(r.engineRssPeakBytes / 1024 / 1024)} MiB`,
    String(r.duplicates),
    String(r.backpressure),
    fmt(r.loadAverageAtStart, 1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function parseE2eArgs(argv: string[]): E2eBenchOptions & { normal: boolean; lanes4: boolean; codec: boolean; codecSeconds: number; cpuProf?: string; inProcessToo: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string', default: '20000' },
      concurrency: { type: 'string', default: '64' },
      lanes: { type: 'string', default: '1' },
      durability: { type: 'string', default: 'full' },
      client: { type: 'string', default: 'http' },
      patients: { type: 'string', default: '500' },
      'no-normal': { type: 'boolean', default: false },
      'no-lanes4': { type: 'boolean', default: false },
      'no-codec': { type: 'boolean', default: false },
      'codec-seconds': { type: 'string', default: '2' },
      'cpu-prof': { type: 'string' },
      'in-process': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const durability = values.durability === 'normal' ? 'normal' : 'full';
  const client = values.client === 'fetch' ? 'fetch' : 'http';
  return {
    events: Number(values.events),
    concurrency: Number(values.concurrency),
    lanes: Number(values.lanes),
    durability,
    client,
    patients: Number(values.patients),
    normal: !values['no-normal'],
    lanes4: !values['no-lanes4'],
    codec: !values['no-codec'],
    codecSeconds: Number(values['codec-seconds']),
    ...(values['cpu-prof'] ? { cpuProf: values['cpu-prof'] } : {}),
    inProcessToo: values['in-process'],
  };
}

if (import.meta.main) {
  const o = parseE2eArgs(process.argv.slice(2));
  const result = await runE2eBench({
    ...o,
    inProcess: o.inProcessToo,
    ...(o.cpuProf ? { engineExecArgv: ['--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`] } : {}),
  });
  console.log(formatE2eBench([result]));
}
