/**
 * The three paths the benchmarks drive, each as an engine (a child `conduit start`, or the
 * engine in this process), a way to submit event i and a receiver that records when each
 * event reached its destination:
 *
 * - webhook-mllp: platform webhook → ORU^R01 → MLLP to a recording LIS (the sample channel
 *   platform-to-lis, as shipped but for the LIS port and the lanes);
 * - webhook-fhir: platform webhook → FHIR R4 transaction Bundle → the in-memory FHIR server
 *   peer (test/peers/fhir-server), through a recording proxy in this process;
 * - mllp-mllp: ORU^R01 to the engine's MLLP listener → ORU^R01 → MLLP to the recording LIS.
 *
 * "Delivered" is when the destination's answer was written: the LIS's AA, or the FHIR
 * server's transaction-response.
 */
import pg from 'pg';
import { join } from 'node:path';
import { Hl7Message, readAck } from '../../src/protocols/hl7v2/index.ts';
import { MllpClientConnection } from '../../src/protocols/mllp/index.ts';
import { startFhirServer } from '../peers/fhir-server/index.ts';
import { sampleChannel, startEngine, waitForDrained } from '../support/engine-process.ts';
import { toEhrChannel } from '../support/fhir-channel.ts';
import { startTestEngine } from '../support/in-process.ts';
import { startRecordingReceiver } from '../support/recording-receiver.ts';
import { startRecordingProxy } from './fhir-proxy.ts';
import { BenchHttpClient } from './http-client.ts';
import { startFhirPeerThread, writtenAccession } from './fhir-peer-thread.ts';
import { startLisThread } from './lis-thread.ts';
import { Deliveries, sleep, storeBytes } from './measure.ts';

/** A channel file's retention block keeping content and messages `duration` (appended to a channel's text). */
const retentionBlock = (duration: string | undefined): string => (duration ? `\nretention:\n  content: ${duration}\n  metadata: ${duration}\n` : '');

import { hl7v2Workload, platformWorkload, type Workload } from './workload.ts';

export const PATH_KINDS = ['webhook-mllp', 'webhook-fhir', 'mllp-mllp'] as const;
export type PathKind = (typeof PATH_KINDS)[number];

export const PATH_LABELS: Record<PathKind, string> = {
  'webhook-mllp': 'webhook → ORU^R01 → MLLP',
  'webhook-fhir': 'webhook → FHIR Bundle → FHIR server',
  'mllp-mllp': 'MLLP → ORU^R01 → MLLP',
};

export const FHIR_PEERS = ['medplum', 'instant'] as const;
export type FhirPeerKind = (typeof FHIR_PEERS)[number];

export interface PathOptions {
  kind: PathKind;
  /** Events of the run (the size of the delivery record). */
  events: number;
  lanes: number;
  durability: 'full' | 'normal';
  /** Distinct patients over the events. */
  patients: number;
  /** Webhook keep-alive sockets, or MLLP connections to the listener. */
  connections: number;
  /** webhook-fhir: Medplum's in-memory FHIR server (test/peers/fhir-server), or one that answers every Bundle at once. Default medplum. */
  fhirPeer?: FhirPeerKind;
  /** The LIS answers each message after this long (MLLP destinations only). Default 0. */
  lisDelayMs?: number;
  /** The destination paces intake (DeliveryPolicy.paceIntake). Default off, as shipped. */
  paceIntake?: boolean;
  /**
   * Where the LIS runs: on a thread of its own (the default, as a real LIS is not inside the
   * load generator), or on the load generator's event loop ('shared', how issue 9 first measured).
   */
  lis?: 'thread' | 'shared';
  /** The engine in this process, sharing its event loop with the load and the receiver. */
  inProcess?: boolean;
  engineExecArgv?: string[];
  /** Distinguishes runs, so two runs never share an accession. */
  runId: string;
  /** The channel keeps content and messages this long (a duration, e.g. '1m'), applied every 5 s. */
  retention?: string;
  /** A PostgreSQL URL for the engine's store (engine in a child process only); SQLite when absent. */
  store?: string;
  /** A data key, `<key-id>:<base64 of 32 bytes>` (CONDUIT_DATA_KEY): content encrypted at rest (engine in a child process only). */
  dataKey?: string;
}

/** What the engine answered to one submission: 2xx / AA, 503 (pushback), or anything else. */
export type Submitted = 'accepted' | 'busy' | 'refused';

export interface PathRun {
  readonly label: string;
  /** The engine's process id (this process's when it runs in-process). */
  readonly pid: number;
  /** Bytes of the engine's store now (database file and write-ahead log). */
  storeBytes(): number;
  readonly deliveries: Deliveries;
  submit(i: number): Promise<Submitted>;
  /** The last refusal (status and text), for the report. */
  readonly lastRefusal: string | undefined;
  /**
   * Resolves once `expected` events were delivered and the engine shows no pending delivery;
   * rejects early when the engine has nothing pending but events are missing (the destination
   * refused them), or after `timeoutMs`.
   */
  settled(expected: number, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

interface BenchEngine {
  url: string;
  pid: number;
  dataDir: string;
  admin(path: string): Promise<Response>;
  pending(): Promise<number>;
  drained(timeoutMs: number): Promise<void>;
  stop(): Promise<unknown>;
}

const RETENTION_INTERVAL_MS = 5000;

async function engineFor(channelId: string, channel: string, o: PathOptions): Promise<BenchEngine> {
  const file = `${channelId}.yaml`;
  if (o.inProcess) {
    if (o.dataKey) throw new Error('a data key needs the engine in a child process (CONDUIT_DATA_KEY)');
    const t = await startTestEngine({ [file]: channel }, { durability: o.durability, ...(o.retention ? { retentionIntervalMs: RETENTION_INTERVAL_MS } : {}) });
    return {
      url: t.url,
      pid: process.pid,
      dataDir: join(t.dir, 'data'),
      admin: (p) => t.admin(p),
      pending: async () => t.engine.store.pendingCount(),
      drained: (ms) => t.drained(ms),
      stop: () => t.stop(),
    };
  }
  const e = await startEngine({
    channels: { [file]: channel },
    durability: o.durability,
    ...(o.engineExecArgv ? { execArgv: o.engineExecArgv } : {}),
    env: {
      ...(o.retention ? { CONDUIT_RETENTION_INTERVAL_MS: String(RETENTION_INTERVAL_MS) } : {}),
      ...(o.store ? { CONDUIT_STORE: o.store } : {}),
      ...(o.dataKey ? { CONDUIT_DATA_KEY: o.dataKey } : {}),
    },
  });
  return {
    url: e.url,
    pid: e.pid,
    dataDir: e.workspace.dataDir,
    admin: (p) => e.admin(p),
    pending: () => e.pendingDeliveries(channelId),
    drained: (ms) => waitForDrained(e, channelId, ms, 20),
    stop: () => e.stop(),
  };
}

/** The size of a PostgreSQL database, read every second (so it can be taken synchronously). */
function databaseSize(url: string): { readonly bytes: number; close(): Promise<void> } {
  const client = new pg.Client({ connectionString: url });
  let bytes = 0;
  const read = async () => {
    bytes = Number((await client.query('SELECT pg_database_size(current_database()) AS n')).rows[0].n);
  };
  const ready = client.connect().then(read);
  const timer = setInterval(() => void read().catch(() => {}), 1000);
  return {
    get bytes() {
      return bytes;
    },
    async close() {
      clearInterval(timer);
      await ready.catch(() => {});
      await client.end().catch(() => {});
    },
  };
}

/** POSTs JSON bodies over keep-alive connections (at most `sockets` at once; see http-client.ts). */
function webhookIntake(url: string, path: string, sockets: number, workload: Workload) {
  const client = new BenchHttpClient(url, path, sockets, 'application/json');
  let lastRefusal: string | undefined;
  const submit = async (i: number): Promise<Submitted> => {
    const { status, body } = await client.post(workload.body(i));
    if (status >= 200 && status < 300) return 'accepted';
    if (status === 503) return 'busy';
    lastRefusal = `${status} ${body.slice(0, 300)}`;
    return 'refused';
  };
  return { submit, lastRefusal: () => lastRefusal, close: () => client.close() };
}

/** Sends ORU^R01s over a pool of MLLP connections, one message outstanding on each. */
async function mllpIntake(port: number, connections: number, workload: Workload) {
  const idle = await Promise.all(
    Array.from({ length: connections }, () => MllpClientConnection.connect({ host: '127.0.0.1', port, connectTimeoutMs: 5000, maxFrameBytes: 1 << 20 })),
  );
  const all = [...idle];
  const waiting: Array<(c: MllpClientConnection) => void> = [];
  let lastRefusal: string | undefined;
  const release = (c: MllpClientConnection): void => {
    const next = waiting.shift();
    if (next) next(c);
    else idle.push(c);
  };
  const submit = async (i: number): Promise<Submitted> => {
    const conn = idle.pop() ?? (await new Promise<MllpClientConnection>((r) => waiting.push(r)));
    try {
      const ack = readAck(Hl7Message.parse((await conn.request(workload.body(i), 60_000)).toString()));
      if (ack.code === 'AA' || ack.code === 'CA') return 'accepted';
      lastRefusal = `${ack.code} ${ack.text}`;
      return 'refused';
    } finally {
      release(conn);
    }
  };
  return { submit, lastRefusal: () => lastRefusal, close: () => Promise.all(all.map((c) => c.close())) };
}

async function mllpSourcePort(engine: BenchEngine, channelId: string): Promise<number> {
  const res = await engine.admin('/api/channels');
  const body = (await res.json()) as { channels: Array<{ id: string; source: string }> };
  const source = body.channels.find((c) => c.id === channelId)?.source ?? '';
  const port = /:(\d+)$/.exec(source)?.[1];
  if (!port) throw new Error(`no MLLP listener port in the source of ${channelId}: '${source}'`);
  return Number(port);
}

export async function startPath(o: PathOptions): Promise<PathRun> {
  const deliveries = new Deliveries(o.events);
  const workload = o.kind === 'mllp-mllp' ? hl7v2Workload(o.runId, o.patients) : platformWorkload(o.runId, o.patients, o.events);
  const peer = o.kind === 'webhook-fhir' ? ` (${o.fhirPeer ?? 'medplum'})` : '';
  const label = `${PATH_LABELS[o.kind]}${peer}, ${o.durability}, lanes ${o.lanes}${o.lisDelayMs ? `, LIS answers after ${o.lisDelayMs} ms` : ''}${o.paceIntake ? ', intake paced' : ''}${onLoadLoop(o)}${o.inProcess ? ', engine in-process' : ''}${o.dataKey ? ', data key' : ''}`;
  const closers: Array<() => Promise<unknown>> = [];
  const stop = async (): Promise<void> => {
    for (const close of closers.reverse()) await close().catch(() => {});
  };
  try {
    let channelId: string;
    let channel: string;
    if (o.kind === 'webhook-fhir') {
      let upstream: string | undefined;
      if ((o.fhirPeer ?? 'medplum') === 'medplum') {
        // transactions: false, as the FHIR tests run platform events: Medplum refuses a conditional
        // transaction above 8 entries. Validation on, as a real server validates.
        const fhir = await startFhirServer({ transactions: false });
        closers.push(() => fhir.close());
        upstream = fhir.baseUrl;
      }
      const accession = new RegExp(`${workload.accessionPrefix}\\d{8}`);
      const record = (found: string, at: number): void => deliveries.record(workload.indexOf(found), at);
      // The instant peer on a thread of its own, as the LIS (unless --lis shared); Medplum's server runs here.
      const proxy =
        upstream === undefined && (o.lis ?? 'thread') === 'thread'
          ? await startFhirPeerThread(accession, record)
          : await startRecordingProxy(upstream, (body, status, answer, at) => {
              const found = writtenAccession(accession, body, status, answer);
              if (found) record(found, at);
            });
      closers.push(() => proxy.close());
      channelId = 'platform-to-ehr';
      channel = toEhrChannel(channelId, proxy.baseUrl, { delivery: `      maxAttempts: 10\n      initialBackoffMs: 200\n      maxBackoffMs: 2000\n      lanes: ${o.lanes}\n      paceIntake: ${o.paceIntake === true}` }) + retentionBlock(o.retention);
    } else {
      const lis =
        (o.lis ?? 'thread') === 'thread'
          ? await startLisThread(o.lisDelayMs ?? 0, (fillerId, at) => deliveries.record(workload.indexOf(fillerId), at))
          : await startRecordingReceiver({
              record: false,
              ...(o.lisDelayMs ? { delayMs: o.lisDelayMs } : {}),
              onAnswered: (f) => {
                if (f.fillerId !== undefined && f.answeredAt !== undefined && f.ackCode === 'AA') deliveries.record(workload.indexOf(f.fillerId), f.answeredAt);
              },
            });
      closers.push(() => lis.close());
      if (o.kind === 'webhook-mllp') {
        channelId = 'platform-to-lis';
        channel = sampleChannel({ mllpPort: lis.port, delivery: { lanes: o.lanes, paceIntake: o.paceIntake === true }, ...(o.retention ? { retention: { content: o.retention, metadata: o.retention } } : {}) });
      } else {
        channelId = 'lab-to-lis';
        channel = mllpToMllpChannel(channelId, lis.port, o.lanes, o.paceIntake === true) + retentionBlock(o.retention);
      }
    }
    const engine = await engineFor(channelId, channel, o);
    closers.push(() => engine.stop());
    const intake =
      o.kind === 'mllp-mllp'
        ? await mllpIntake(await mllpSourcePort(engine, channelId), o.connections, workload)
        : webhookIntake(engine.url, `/channels/${channelId}`, o.connections, workload);
    closers.push(async () => intake.close());
    const size = o.store ? databaseSize(o.store) : undefined;
    if (size) closers.push(() => size.close());
    return {
      label,
      pid: engine.pid,
      storeBytes: () => (size ? size.bytes : storeBytes(engine.dataDir)),
      deliveries,
      submit: intake.submit,
      get lastRefusal() {
        return intake.lastRefusal();
      },
      settled: (expected, ms) => settled(engine, deliveries, expected, ms),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function settled(engine: BenchEngine, deliveries: Deliveries, expected: number, timeoutMs: number): Promise<void> {
  const all = deliveries.waitFor(expected, timeoutMs).then(() => true);
  all.catch(() => {});
  for (;;) {
    if (await Promise.race([all, sleep(1000).then(() => false)])) break;
    if (deliveries.count < expected && (await engine.pending()) === 0) {
      // An answer may still be on its way back: look again once before giving up.
      await sleep(1000);
      if (deliveries.count < expected) throw new Error(`${expected - deliveries.count} of ${expected} events were never delivered, and the engine has none pending (refused by the destination?)`);
    }
  }
  await engine.drained(30_000);
}

/** ', LIS on the load loop' (or the instant FHIR peer) with --lis shared: both run on threads of their own otherwise. */
function onLoadLoop(o: PathOptions): string {
  if (o.lis !== 'shared') return '';
  if (o.kind !== 'webhook-fhir') return ', LIS on the load loop';
  return o.fhirPeer === 'instant' ? ', peer on the load loop' : '';
}

/** An MLLP listener (port 0) with the hl7v2-oru mapping, to the LIS as ORU^R01 like the sample channels. */
function mllpToMllpChannel(id: string, lisPort: number, lanes: number, paceIntake: boolean): string {
  return `id: ${id}
source:
  type: mllp
  host: 127.0.0.1
  port: 0
mapping: hl7v2-oru
destinations:
  - id: lis
    mapping: oru-r01-lis
    sender:
      type: mllp
      host: 127.0.0.1
      port: ${lisPort}
      ackTimeoutMs: 10000
    delivery:
      maxAttempts: 10
      initialBackoffMs: 1000
      maxBackoffMs: 300000
      lanes: ${lanes}
      paceIntake: ${paceIntake}
`;
}
