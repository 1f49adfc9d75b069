/**
 * Several instances on one PostgreSQL store share the delivery lanes through leases: each lane
 * (channel, destination, lane) is delivered by the one instance holding its lease. Every
 * instance renews its leases each quarter of the lease time and takes free or expired ones up
 * to its fair share (lanes ÷ live instances, rounded up); one holding more than its share while
 * another holds less gives the extra lanes up once their delivery in flight is recorded. A
 * clean stop releases every lease at once (the others are told and take them); after a crash
 * the leases expire after the lease time. Marks and outcomes carry the lease's token (Fence), so
 * an instance that lost a lane (paused, cut off) records nothing for it, and its own clock stops
 * it from sending once the lease may have expired.
 */
import type { Logger } from 'pino';
import type { LaneGate, LaneHooks, LaneLease } from '../engine/lane-gate.ts';
import { postgresWords } from '../store/postgres/connection.ts';
import type { ClusterView, LaneKey, LeaseTable } from '../store/postgres/leases.ts';
import type { Fence } from '../store/types.ts';
import { monotonicMs } from '../util/monotonic.ts';

/**
 * A lease is taken as lost this long before it expires by the local clock: the renewal's
 * round trip and timer delays stay inside the lease time.
 */
const SAFETY_MS = 1000;

interface LaneState {
  key: LaneKey;
  hooks: LaneHooks;
  lease?: { fence: Fence; validUntil: number };
  /** Being given up: no new sends; released once not busy. */
  releasing?: boolean;
}

export interface LeaseManagerOptions {
  table: LeaseTable;
  leaseMs: number;
  log: Logger;
}

export class LeaseManager implements LaneGate {
  readonly shared = true;
  private readonly lanes = new Map<string, LaneState>();
  private readonly opts: LeaseManagerOptions;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /** The last tick failed (the database is unreachable): shown in /health. */
  failing: string | undefined;

  constructor(opts: LeaseManagerOptions) {
    this.opts = opts;
  }

  get instanceId(): string {
    return this.opts.table.instance.id;
  }

  async start(): Promise<void> {
    await this.opts.table.heartbeat();
    await this.opts.table.announce();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), this.opts.leaseMs / 4);
    this.timer.unref();
  }

  /** Runs a tick now (a lease was released, lanes were registered); one at a time, a request during one runs another after it. */
  tick(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.runTick().finally(() => {
      this.ticking = undefined;
      if (this.again) {
        this.again = false;
        this.tick();
      } else this.schedule();
    });
  }

  private async runTick(): Promise<void> {
    const { table, log, leaseMs } = this.opts;
    try {
      const sentAt = monotonicMs();
      await table.heartbeat();
      const renewed = new Map((await table.renew()).map((l) => [keyOf(l), l]));
      for (const [key, s] of this.lanes) {
        const r = renewed.get(key);
        if (s.lease && r?.token === s.lease.fence.token) s.lease.validUntil = sentAt + leaseMs - SAFETY_MS;
        else if (s.lease) {
          log.warn({ ...s.key, token: s.lease.fence.token }, 'lane lease lost: another instance delivers it now');
          s.lease = undefined;
          s.releasing = false;
        } else if (r) {
          // Ours in the database but not known here (an acquisition whose answer was lost): take it up.
          s.lease = localLease(s.key, r.token, sentAt, leaseMs);
          s.hooks.wake(s.key.lane);
        }
      }
      // Ours in the database for lanes no longer configured here: given up.
      const stray = [...renewed.entries()].filter(([key]) => !this.lanes.has(key)).map(([, l]) => l);
      if (stray.length > 0) await table.release(stray);
      await this.release();
      await this.balance();
      this.failing = undefined;
    } catch (e) {
      if (!this.failing) log.error({ reason: postgresWords(e) }, 'renewing lane leases failed: lanes stop sending when their leases run out');
      this.failing = postgresWords(e);
    }
  }

  /** Takes lanes up to the fair share, or marks lanes beyond it to be given up while another instance has less. */
  private async balance(): Promise<void> {
    const { table, leaseMs } = this.opts;
    const { live } = await table.holdings();
    const instances = Math.max(1, live.size);
    const total = this.lanes.size;
    const share = Math.ceil(total / instances);
    const held = [...this.lanes.values()].filter((s) => s.lease && !s.releasing);
    if (held.length < share) {
      // Start at a different lane on each instance, so instances starting together do not all race for lane 0.
      const free = [...this.lanes.values()].filter((s) => !s.lease);
      const offset = hash(this.instanceId) % Math.max(1, free.length);
      let count = held.length;
      for (const s of free.slice(offset).concat(free.slice(0, offset))) {
        if (count >= share || this.stopped) break;
        const sentAt = monotonicMs();
        const lease = await table.acquire(s.key);
        if (!lease) continue;
        s.lease = localLease(s.key, lease.token, sentAt, leaseMs);
        s.releasing = false;
        count++;
        this.opts.log.info({ ...s.key, token: lease.token }, 'lane lease acquired: this instance delivers it');
        s.hooks.wake(s.key.lane);
      }
      return;
    }
    const fewest = Math.min(...[...live.entries()].filter(([id]) => id !== this.instanceId).map(([, n]) => n));
    if (held.length > share && Number.isFinite(fewest) && fewest < Math.floor(total / instances)) {
      for (const s of held.slice(share)) s.releasing = true;
      await this.release();
    }
  }

  /** Releases the lanes being given up whose delivery in flight is recorded. */
  private async release(): Promise<void> {
    const ready = [...this.lanes.values()].filter((s) => s.releasing && s.lease && !s.hooks.busy(s.key.lane));
    if (ready.length === 0) return;
    await this.opts.table.release(ready.map((s) => s.key));
    for (const s of ready) {
      this.opts.log.info({ ...s.key }, 'lane lease released to balance the lanes between instances');
      s.lease = undefined;
      s.releasing = false;
    }
  }

  lease(channelId: string, destinationId: string, lane: number): LaneLease | undefined {
    const s = this.lanes.get(keyOf({ channelId, destinationId, lane }));
    const l = s?.lease;
    if (!l || s.releasing || monotonicMs() > l.validUntil) return undefined;
    return { fence: l.fence, held: () => s.lease === l && !s.releasing && monotonicMs() <= l.validUntil, until: () => l.validUntil };
  }

  register(channelId: string, destinationId: string, lanes: number, hooks: LaneHooks): void {
    for (let lane = 0; lane < lanes; lane++) {
      const key = { channelId, destinationId, lane };
      this.lanes.set(keyOf(key), { key, hooks });
    }
    this.tick();
  }

  unregister(channelId: string, destinationId: string): void {
    const gone: LaneKey[] = [];
    for (const [k, s] of this.lanes) {
      if (s.key.channelId !== channelId || s.key.destinationId !== destinationId) continue;
      this.lanes.delete(k);
      if (s.lease) gone.push(s.key);
    }
    if (gone.length > 0) {
      this.opts.table.release(gone).catch((e: unknown) => this.opts.log.warn({ reason: postgresWords(e) }, 'releasing lane leases failed; they expire'));
    }
  }

  /** Where this instance's HTTP port answers, shown to the others in /api/cluster. */
  advertise(url: string): void {
    this.opts.table.instance.url = url;
  }

  /** The instances sharing the store and every lease (GET /api/cluster). */
  view(): Promise<ClusterView> {
    return this.opts.table.view();
  }

  /** How many lanes this instance delivers now. */
  held(): number {
    return [...this.lanes.values()].filter((s) => s.lease).length;
  }

  /** Clean stop (after the lanes stopped): every lease released at once, the instance marked stopped. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    for (const s of this.lanes.values()) s.lease = undefined;
    try {
      await this.opts.table.stop();
    } catch (e) {
      this.opts.log.warn({ reason: postgresWords(e) }, 'releasing lane leases at stop failed; they expire');
    }
  }
}

/** A lease as this process holds it: valid by its own clock until SAFETY_MS before it expires, counted from when the request was sent. */
function localLease(key: LaneKey, token: number, sentAt: number, leaseMs: number): NonNullable<LaneState['lease']> {
  return { fence: { ...key, token }, validUntil: sentAt + leaseMs - SAFETY_MS };
}

function keyOf(k: LaneKey): string {
  return `${k.channelId}\u0000${k.destinationId}\u0000${k.lane}`;
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return h;
}

