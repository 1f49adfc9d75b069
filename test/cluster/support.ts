/**
 * Several engine processes (conduit start) on one PostgreSQL database with the same channel
 * files, a load generator that spreads webhooks over the live ones, and the checks of the
 * invariants that must hold whatever happens to the processes: every event answered 2xx is
 * delivered, a duplicate carries the MSH-10 of its first delivery, and per patient the first
 * deliveries come in the order the webhooks were answered.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { laneOf } from '../../src/engine/lanes.ts';
import type { ClusterView as LeaseTableView } from '../../src/store/postgres/leases.ts';
import { createWorkspace, type EngineProcess, sampleChannel, startEngine, type Workspace } from '../support/engine-process.ts';
import { type GeneratedEvent, generateEvents } from '../support/platform-events.ts';
import { tempDatabase } from '../support/postgres.ts';
import type { ReceivedFrame } from '../support/recording-receiver.ts';

export const CHANNEL = 'platform-to-lis';
export const PATH = '/channels/platform-to-lis';

export interface ClusterOptions {
  instances: number;
  mllpPort: number;
  lanes: number;
  leaseMs: number;
  /** Where the channel POSTs its status callbacks (result.delivered), on lanes of their own. */
  callbackUrl?: string;
}

export interface Cluster {
  readonly url: string;
  readonly workspace: Workspace;
  /** One slot per instance; a slot's process is replaced when it is restarted. */
  readonly engines: EngineProcess[];
  /** Slots whose process is stopped or paused: the load goes elsewhere. */
  readonly down: Set<number>;
  start(slot: number): Promise<EngineProcess>;
  /** GET /api/cluster from a live instance. */
  view(): Promise<ClusterView>;
  /** The slot of the instance holding a lane, undefined while none does. */
  ownerOf(lane: number, view: ClusterView, destinationId?: string): number | undefined;
  /** Resolves once every lane is held by a live instance; returns the view. */
  settled(timeoutMs?: number): Promise<ClusterView>;
  /** As settled(), and the live instances hold as many lanes each (of every destination), within one: the rebalancing after a start is over. */
  balanced(timeoutMs?: number): Promise<ClusterView>;
}

/** GET /api/cluster on a PostgreSQL store. */
export type ClusterView = LeaseTableView & { store: 'postgres'; instance: string; leaseMs: number };

export async function startCluster(t: TestContext, options: ClusterOptions): Promise<Cluster> {
  const url = await tempDatabase(t);
  const callback = options.callbackUrl
    ? `statusCallback:\n  url: ${options.callbackUrl}\n  events: [delivered]\n  delivery: { maxAttempts: 1000, initialBackoffMs: 100, maxBackoffMs: 1000, lanes: 2 }\n`
    : '';
  const workspace = createWorkspace({
    'platform-to-lis.yaml':
      sampleChannel({
        mllpPort: options.mllpPort,
        path: PATH,
        sender: { ackTimeoutMs: 2000 },
        delivery: { lanes: options.lanes, maxAttempts: 1000, initialBackoffMs: 100, maxBackoffMs: 1000 },
      }) + callback,
  });
  const engines: EngineProcess[] = [];
  const down = new Set<number>();
  t.after(async () => {
    for (const e of engines) {
      e.child.kill('SIGCONT');
      await e.kill('SIGKILL');
    }
    workspace.remove();
  });
  // A backlog bound low enough that a LIS down for minutes is met with 503s (which the load
  // retries) rather than a drain of everything sent meanwhile.
  const env = { CONDUIT_STORE: url, CONDUIT_LEASE_MS: String(options.leaseMs), CONDUIT_MAX_BACKLOG: '20000' };
  const cluster: Cluster = {
    url,
    workspace,
    engines,
    down,
    async start(slot) {
      const e = await startEngine({ workspace, env, durability: 'normal' });
      engines[slot] = e;
      down.delete(slot);
      return e;
    },
    async view() {
      for (const [slot, e] of engines.entries()) {
        if (down.has(slot)) continue;
        try {
          const res = await e.admin('/api/cluster', { signal: AbortSignal.timeout(2000) });
          if (res.ok) return (await res.json()) as ClusterView;
        } catch {
          // this one is not answering: ask the next
        }
      }
      throw new Error('no instance answers /api/cluster');
    },
    ownerOf(lane, view, destinationId = 'lis') {
      const owner = view.leases.find((l) => l.destinationId === destinationId && l.lane === lane && l.held)?.owner;
      const pid = view.instances.find((i) => i.id === owner)?.pid;
      const slot = engines.findIndex((e) => e.pid === pid);
      return slot >= 0 ? slot : undefined;
    },
    settled(timeoutMs = 30_000) {
      return until(timeoutMs, 'lanes not all held by live instances', allHeld);
    },
    balanced(timeoutMs = 30_000) {
      return until(timeoutMs, 'lanes not held in equal shares by the live instances', (owners, live, view) => {
        // Shares count every lane of the instance, the status callbacks' too.
        const counts = live.map((slot) => view.leases.filter((l) => l.held && view.instances.find((i) => i.id === l.owner)?.pid === engines[slot]!.pid).length);
        return allHeld(owners, live) && Math.max(...counts) - Math.min(...counts) <= 1;
      });
    },
  };
  /** Every lane held by a live instance. */
  function allHeld(owners: Array<number | undefined>, live: number[]): boolean {
    return owners.every((slot) => slot !== undefined && live.includes(slot));
  }
  /** Polls the view until `done(owner slot of each lane, live slots)`. */
  async function until(timeoutMs: number, failure: string, done: (owners: Array<number | undefined>, live: number[], view: ClusterView) => boolean): Promise<ClusterView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const view = await cluster.view();
      const live = engines.flatMap((_, slot) => (down.has(slot) ? [] : [slot]));
      const owners = Array.from({ length: options.lanes }, (_, lane) => cluster.ownerOf(lane, view, 'lis'));
      if (done(owners, live, view)) return view;
      if (Date.now() > deadline) throw new Error(`${failure}: ${JSON.stringify(view.leases)}`);
      await sleep(100);
    }
  }
  for (let slot = 0; slot < options.instances; slot++) await cluster.start(slot);
  return cluster;
}

export interface Acked {
  event: GeneratedEvent;
  messageId: string;
  /** performance.now() of the 2xx. */
  at: number;
}

/**
 * Webhooks at `rate` per second, spread round-robin over the live instances, each patient's
 * next event only once the previous one was answered 2xx (the order the invariants are checked
 * against). A request that fails (refused, a paused process, 503) is sent again, to the next
 * instance, as a platform would.
 */
export class Load {
  readonly acked: Acked[] = [];
  readonly events: GeneratedEvent[];
  private readonly queues = new Map<string, GeneratedEvent[]>();
  private readonly busy = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private next = 0;
  private inFlight = new Set<Promise<void>>();
  retries = 0;
  /** Ticks that found every patient waiting for an answer. */
  stalls = 0;

  private readonly cluster: Cluster;

  constructor(cluster: Cluster, runId: string, events: number, patients: number) {
    this.cluster = cluster;
    this.events = generateEvents({ events, patients, runId });
    for (const e of this.events) {
      const q = this.queues.get(e.patientId);
      if (q) q.push(e);
      else this.queues.set(e.patientId, [e]);
    }
  }

  /** Sends `rate` events per second (in 10 ms ticks) until stopped or out of events. */
  start(rate: number): void {
    const perTick = rate / 100;
    let credit = 0;
    this.timer = setInterval(() => {
      credit += perTick;
      for (; credit >= 1; credit--) {
        const patient = [...this.queues.keys()].find((p) => !this.busy.has(p) && (this.queues.get(p)?.length ?? 0) > 0);
        if (!patient) {
          this.stalls++;
          credit = 0;
          break;
        }
        const event = this.queues.get(patient)!.shift()!;
        this.busy.add(patient);
        const p = this.post(event).finally(() => {
          this.busy.delete(patient);
          this.inFlight.delete(p);
        });
        this.inFlight.add(p);
      }
    }, 10);
  }

  get remaining(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** Stops sending new events; resolves once those in flight are answered. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.inFlight]);
  }

  private async post(event: GeneratedEvent): Promise<void> {
    for (;;) {
      const live = this.cluster.engines.filter((_, slot) => !this.cluster.down.has(slot));
      const engine = live[this.next++ % Math.max(1, live.length)];
      if (engine) {
        try {
          const res = await fetch(engine.url + PATH, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: event.body,
            signal: AbortSignal.timeout(3000),
          });
          const body = (await res.json()) as { messageId?: string };
          if (res.status === 201 || res.status === 200) {
            this.acked.push({ event, messageId: body.messageId!, at: performance.now() });
            return;
          }
        } catch {
          // refused, cut or timed out: sent again below
        }
      }
      this.retries++;
      await sleep(100);
    }
  }
}

export interface Verdict {
  acked: number;
  delivered: number;
  /** Frames beyond the first of an event. */
  duplicates: number;
  missing: string[];
  /** Events delivered with more than one MSH-10. */
  controlIdChanged: string[];
  /** Patients whose first deliveries came out of the order of their 2xx answers. */
  orderViolations: string[];
}

/** The invariants over the frames the LIS received, in the order it received them (one receiver or several in turn). */
export function verdict(acked: readonly Acked[], frames: readonly ReceivedFrame[]): Verdict {
  const byFiller = new Map<string, Array<{ frame: ReceivedFrame; position: number }>>();
  for (const [position, frame] of frames.entries()) {
    if (!frame.fillerId) continue;
    const list = byFiller.get(frame.fillerId);
    if (list) list.push({ frame, position });
    else byFiller.set(frame.fillerId, [{ frame, position }]);
  }
  const missing = acked.filter((a) => !byFiller.has(a.event.accession)).map((a) => a.event.resultId);
  const controlIdChanged = [...byFiller.entries()].filter(([, fs]) => new Set(fs.map((f) => f.frame.controlId)).size > 1).map(([k]) => k);
  const byPatient = new Map<string, Acked[]>();
  for (const a of acked) {
    const list = byPatient.get(a.event.patientId);
    if (list) list.push(a);
    else byPatient.set(a.event.patientId, [a]);
  }
  const orderViolations: string[] = [];
  for (const [patient, list] of byPatient) {
    const firsts = list.map((a) => byFiller.get(a.event.accession)?.[0]?.position ?? Number.POSITIVE_INFINITY);
    for (let i = 1; i < firsts.length; i++) {
      if (firsts[i]! < firsts[i - 1]!) {
        orderViolations.push(patient);
        break;
      }
    }
  }
  return {
    acked: acked.length,
    delivered: byFiller.size,
    duplicates: frames.filter((f) => f.fillerId).length - byFiller.size,
    missing,
    controlIdChanged,
    orderViolations,
  };
}

/** The lane of an event's deliveries (the platform mapping's partition key is the patient). */
export function laneOfEvent(event: GeneratedEvent, lanes: number): number {
  return laneOf(`patient:${event.patientId}`, lanes);
}

/**
 * Failover time of the lanes a fault hit: the last AA on them before the fault to the first AA
 * on them of a frame sent on another connection than the ones they used just before it
 * (performance.now() of this process).
 */
export function failoverMs(frames: readonly ReceivedFrame[], laneOfFrame: (f: ReceivedFrame) => number | undefined, lanes: ReadonlySet<number>, faultAt: number): number | undefined {
  let before = Number.NEGATIVE_INFINITY;
  let after = Number.POSITIVE_INFINITY;
  const hit = frames.filter((f) => lanes.has(laneOfFrame(f) ?? -1));
  // A frame on a connection the faulted instance was using (the lanes' connections of the last
  // 2 s before the fault) was already on its way, read late by this busy process: not the failover's.
  const earlier = new Set(hit.filter((f) => f.hrAt <= faultAt && f.hrAt > faultAt - 2000).map((f) => f.connectionId));
  for (const f of hit) {
    if (f.ackCode !== 'AA' || f.answeredAt === undefined) continue;
    if (f.answeredAt <= faultAt) before = Math.max(before, f.answeredAt);
    else if (!earlier.has(f.connectionId)) after = Math.min(after, f.answeredAt);
  }
  return Number.isFinite(before) && Number.isFinite(after) ? Math.round(after - before) : undefined;
}

/** The longest time without any AA between `from` and `to` (performance.now()): how long delivery stood still. */
export function longestPauseMs(frames: readonly ReceivedFrame[], from: number, to: number): number {
  const times = frames
    .filter((f) => f.ackCode === 'AA' && f.answeredAt !== undefined)
    .map((f) => f.answeredAt!)
    .sort((a, b) => a - b);
  let last = Math.max(from, times.filter((x) => x <= from).at(-1) ?? from);
  let longest = 0;
  for (const x of times) {
    if (x <= from) continue;
    if (x > to) break;
    longest = Math.max(longest, x - last);
    last = x;
  }
  return Math.round(Math.max(longest, to - last));
}

/** An HTTP receiver of status callbacks: answers 204 and keeps the result id of each result.delivered event. */
export async function startCallbackReceiver(): Promise<{ url: string; delivered: Set<string>; received: number; close(): Promise<void> }> {
  const delivered = new Set<string>();
  let received = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received++;
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { event: string; source: { id: string } };
      if (event.event === 'result.delivered') delivered.add(event.source.id);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/status`,
    delivered,
    get received() {
      return received;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
