import type { Logger } from 'pino';
import type { DeliveryPolicy } from '../config/channel.ts';
import { isPipelined, type OutboundMessage, type PipelinedSender, type Sender, type SendOutcome, type SentMessage } from '../senders/types.ts';
import type { CommittedDelivery, DeliveryStatus, FollowUpDelivery, PendingDelivery, Store } from '../store/types.ts';
import { ConduitError } from '../errors.ts';
import type { DestinationMetrics } from '../metrics/engine-metrics.ts';
import { backoffMs } from './backoff.ts';
import { type LaneGate, type LaneLease, SOLE_INSTANCE } from './lane-gate.ts';

/**
 * How many pending rows a lane reads from the store (or takes from its queue) at a time: the
 * backlog stays in the store. A run on the sender thread ends with its window, so a window is
 * several times MARK_AHEAD: at 64 a lane under intake load was idle between windows.
 */
const WINDOW = 256;
/** Idle lanes look at the store this often even without a wake-up (another process may have requeued). */
const IDLE_POLL_MS = 1000;
/** Rows a lane keeps in memory as intake commits them; past that it reads them from the store. */
const LANE_QUEUE = 256;
/**
 * How many rows ahead of the one being sent a lane marks as on the wire: their marks commit
 * while it sends, so a lane sends up to this many rows per commit of the writer thread and per
 * turn of the event loop. A crash leaves at most this many 'outcome unknown' attempts per lane
 * beyond the one really on the wire. At 16, a lane under a closed loop of webhooks delivered
 * 38–45 % of the intake rate while intake ran (its sender thread waited for marks half the
 * time); at 64, 99 % (see src/engine/README.md, Marks ahead).
 */
export const MARK_AHEAD = 64;

/** How many rows a lane of a destination that paces intake (DeliveryPolicy.paceIntake) lets pile up ahead of it. */
export const PACE_ROWS = WINDOW;
/** A lane whose destination has not answered for this long is not paced: it is slow or failing, the store keeps its backlog. */
const PACE_ANSWER_MS = 1000;

/**
 * A lane's rows: the store is the truth; `queue` holds the rows intake committed since the lane
 * last found the store exhausted (`synced`), so that it need not read them back.
 */
interface Lane {
  queue: PendingDelivery[];
  /** Every pending row of the lane not yet taken is in `queue`. */
  synced: boolean;
  wake: () => void;
  /** A delivery is between its mark and its recorded outcome (its lease is not given up meanwhile). */
  busy: boolean;
  state: LaneState;
  /** Since when the lane has been retrying or paused without a delivery getting through (Date.now()). */
  failingSince: number | undefined;
  /** Rows of the window being sent not yet done, the one on the wire included (0 between windows). */
  windowLeft: number;
  /** When the lane began to await the outcome of the row it sends (performance.now()). */
  awaitingSince: number;
  /** Intakes told to store their row as on the wire (markAtIntake) whose row the lane has not taken yet. */
  promised: number;
  /**
   * The highest delivery id a read of the store returned. An intake's rows are pushed when the
   * main thread hears of its commit, which can be after a read already saw them: those are not
   * taken twice.
   */
  readUpTo: number;
}

/**
 * What one lane is doing: idle (nothing to send), delivering, retrying (its head row failed and
 * waits for its backoff), paused (the store cannot record deliveries), standby (another instance
 * on a shared store holds its lease).
 */
export type LaneState = 'idle' | 'delivering' | 'retrying' | 'paused' | 'standby';

/** A lane as metrics and alerts see it. */
export interface LaneView {
  readonly lane: number;
  readonly state: LaneState;
  readonly failingSince: number | undefined;
}

export interface DestinationHealth {
  /** paused: the store cannot record deliveries (a write failed); nothing is sent until it can. */
  state: 'idle' | 'delivering' | 'retrying' | 'paused';
  lastOutcome?: SendOutcome['status'];
  lastCode?: string;
}

/** A delivery that has just reached a terminal state, before the outcome is recorded. */
export interface SettledDelivery {
  readonly row: PendingDelivery;
  readonly status: 'acknowledged' | 'rejected' | 'dead';
  readonly outcome: SendOutcome;
  /** The attempt that settled it (1-based). */
  readonly attempt: number;
}

export interface DispatcherOptions {
  channelId: string;
  destinationId: string;
  policy: DeliveryPolicy;
  store: Store;
  log: Logger;
  /** A lane's sender; a PipelinedSender (senders/thread) lets the lane send its rows back to back. */
  createSender: () => Sender | Promise<Sender>;
  /**
   * Called after every outcome of an attempt: the lanes' room for intake may have changed
   * (intakeRoom): a settled delivery frees a row, a failure takes its lane out of pacing.
   */
  onOutcome?: () => void;
  /**
   * A delivery to store with a terminal outcome, in the same transaction (a status callback);
   * undefined for none. `onFollowUp` runs once it is handed to the store.
   */
  followUp?: (settled: SettledDelivery) => FollowUpDelivery | undefined;
  onFollowUp?: () => void;
  /** Which lanes this process delivers (several instances on one store); every lane when absent. */
  gate?: LaneGate;
  /** Counts attempts and settled deliveries (metrics, alerts). */
  metrics?: DestinationMetrics;
}

/**
 * Delivers one destination's backlog: one worker per lane, each with its own sender (one
 * connection, one message outstanding), taking rows in intake order. A failed message
 * holds its lane until it is delivered, rejected or dead, so order per patient holds.
 */
export class DestinationDispatcher {
  private readonly abort = new AbortController();
  private readonly workers: Promise<void>[] = [];
  private readonly lanes: Lane[] = [];
  private readonly senders: Sender[] = [];
  readonly health: DestinationHealth = { state: 'idle' };

  private readonly opts: DispatcherOptions;

  constructor(opts: DispatcherOptions) {
    this.opts = opts;
  }

  get laneCount(): number {
    return this.opts.policy.lanes;
  }

  private get gate(): LaneGate {
    return this.opts.gate ?? SOLE_INSTANCE;
  }

  /** Throws what a sender's creation throws (CONFIG_INVALID for an unreadable TLS file, …), before any lane starts. */
  async start(): Promise<void> {
    for (let lane = 0; lane < this.opts.policy.lanes; lane++) this.senders.push(await this.opts.createSender());
    for (let lane = 0; lane < this.opts.policy.lanes; lane++) {
      const sender = this.senders[lane]!;
      this.lanes.push({
        queue: [],
        synced: false,
        wake: () => {},
        busy: false,
        state: 'idle',
        failingSince: undefined,
        windowLeft: 0,
        promised: 0,
        readUpTo: 0,
        awaitingSince: 0,
      });
      this.workers.push(this.run(lane, sender));
    }
    this.gate.register(this.opts.channelId, this.opts.destinationId, this.opts.policy.lanes, {
      wake: (lane) => {
        const l = this.lanes[lane];
        if (!l) return;
        l.synced = false;
        l.wake();
      },
      busy: (lane) => this.lanes[lane]?.busy ?? false,
    });
  }

  /** What each lane is doing now. */
  lanesView(): LaneView[] {
    return this.lanes.map((l, lane) => ({ lane, state: l.state, failingSince: l.failingSince }));
  }

  private setLane(l: Lane, state: LaneState): void {
    l.state = state;
    if (state === 'retrying' || state === 'paused') l.failingSince ??= Date.now();
    else if (state === 'idle' || state === 'standby') l.failingSince = undefined;
  }

  /** Rows were requeued, brought forward or added outside intake: lanes read the store again. */
  wake(): void {
    for (const l of this.lanes) {
      l.synced = false;
      l.wake();
    }
  }

  /**
   * Whether an intake may store its row of `lane` as already on the wire ('sent'), its commit
   * standing for the row's mark: true when the lane is in step with the store, not failing, and
   * has fewer than MARK_AHEAD rows ahead of it (its window, its queue, rows promised so far),
   * so the row is among the next it sends, as a row marked ahead is. A crash then records the
   * same 'outcome unknown' attempt for it. The caller gives the promise back with
   * `unmarkAtIntake` when its row is not committed. Never on a shared store: its lanes read
   * their rows from the store under a lease.
   */
  markAtIntake(lane: number): boolean {
    const l = this.lanes[lane];
    if (!l || this.gate.shared || !l.synced || l.state === 'retrying' || l.state === 'paused' || this.opts.store.writeFailure()) return false;
    if (l.windowLeft + l.queue.length + l.promised >= MARK_AHEAD) return false;
    l.promised++;
    return true;
  }

  /**
   * The sender as one that sends a lane's rows back to back, or undefined: not on a shared store,
   * where a lane checks its lease before each send (see deliver()).
   */
  private pipelined(sender: Sender): PipelinedSender | undefined {
    return isPipelined(sender) && !this.gate.shared ? sender : undefined;
  }

  /**
   * How many more rows the lanes of this destination take before intake waits for them
   * (DeliveryPolicy.paceIntake, see pacer.ts): PACE_ROWS less the rows ahead of its fullest paced
   * lane; none for a lane that reads its backlog from the store (it has a window or more).
   * Infinity without paceIntake. Only lanes delivering at the destination's pace are paced: not
   * one that is idle, retrying or paused, has failed since its last success, or has awaited an
   * answer for PACE_ANSWER_MS: a destination that is down or slow to answer never holds intake.
   */
  intakeRoom(): number {
    if (!this.opts.policy.paceIntake) return Number.POSITIVE_INFINITY;
    const now = performance.now();
    let room = Number.POSITIVE_INFINITY;
    for (const l of this.lanes) {
      if (l.state !== 'delivering' || l.failingSince !== undefined || now - l.awaitingSince > PACE_ANSWER_MS) continue;
      room = Math.min(room, l.synced ? PACE_ROWS - l.queue.length - l.windowLeft : 0);
    }
    return Math.max(0, room);
  }

  /** A row promised by markAtIntake was not committed (a duplicate, a failed write). */
  unmarkAtIntake(lane: number): void {
    const l = this.lanes[lane];
    if (l && l.promised > 0) l.promised--;
  }

  /** Rows an intake just committed, in delivery id order: their lane takes them without reading the store. */
  take(rows: readonly CommittedDelivery[]): void {
    for (const row of rows) {
      const l = this.lanes[row.lane];
      if (!l) continue;
      if (row.marked && l.promised > 0) l.promised--;
      if (row.id <= l.readUpTo) continue;
      if (this.gate.shared) {
        // Other instances commit rows of this lane too: the store has them all, in order.
        l.synced = false;
        l.wake();
        continue;
      }
      if (l.queue.length >= LANE_QUEUE) {
        // Too far behind: the lane reads its backlog from the store instead.
        l.queue = [];
        l.synced = false;
      } else l.queue.push(row);
      l.wake();
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.wake();
    await Promise.allSettled(this.workers);
    this.gate.unregister(this.opts.channelId, this.opts.destinationId);
    await Promise.allSettled(this.senders.map((s) => s.close()));
  }

  private sleep(lane: number, ms: number): Promise<void> {
    const l = this.lanes[lane]!;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        // Not woken: look at the store (another process may have requeued).
        l.synced = false;
        done();
      }, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      l.wake = done;
    });
  }

  /**
   * The lane's next rows in delivery id order. A read of the store drops the pushed rows it
   * returned too (ids up to the last one read); when it returns less than a window, the store has
   * no more and pushed rows with higher ids are the ones committed since.
   */
  private async nextRows(lane: number): Promise<PendingDelivery[]> {
    const l = this.lanes[lane]!;
    if (l.synced) return l.queue.splice(0, WINDOW);
    const { store, channelId, destinationId } = this.opts;
    const rows = await store.pendingDeliveries(channelId, destinationId, lane, WINDOW);
    const last = rows.length > 0 ? rows[rows.length - 1]!.id : 0;
    l.readUpTo = Math.max(l.readUpTo, last);
    if (rows.length < WINDOW) {
      l.synced = true;
      // Rows come in id order, so none of those read has an id above the last one.
      l.queue = l.queue.filter((r) => r.id > last);
    } else l.queue = [];
    return rows;
  }

  private async run(lane: number, sender: Sender): Promise<void> {
    const { store, channelId, destinationId } = this.opts;
    const signal = this.abort.signal;
    const l = this.lanes[lane]!;
    while (!signal.aborted) {
      if (store.writeFailure()) {
        // Sending what cannot be recorded would resend it after a crash without a trace: wait for the store.
        this.health.state = 'paused';
        this.setLane(l, 'paused');
        l.synced = false;
        await this.sleep(lane, IDLE_POLL_MS);
        continue;
      }
      if (this.health.state === 'paused') this.health.state = 'idle';
      const lease = this.gate.lease(channelId, destinationId, lane);
      if (!lease) {
        // Another instance delivers this lane; rows pushed meanwhile are its business.
        this.setLane(l, 'standby');
        l.queue = [];
        l.synced = false;
        await this.sleep(lane, IDLE_POLL_MS);
        continue;
      }
      let rows: PendingDelivery[];
      try {
        rows = await this.nextRows(lane);
      } catch (e) {
        l.synced = false;
        this.opts.log.error({ err: e, channel: channelId, destination: destinationId }, 'reading the backlog failed');
        await this.sleep(lane, IDLE_POLL_MS);
        continue;
      }
      if (rows.length === 0) {
        if (this.health.state !== 'retrying') this.health.state = 'idle';
        this.setLane(l, 'idle');
        await this.sleep(lane, IDLE_POLL_MS);
        continue;
      }
      const marks = new Map<number, Promise<void>>();
      const pipelined = this.pipelined(sender);
      const markAhead = (from: number) => {
        const now = Date.now();
        // A lane being handed over marks nothing more: the next owner would count each as an attempt.
        if (!lease.held()) return;
        for (let k = from; k < Math.min(rows.length, from + MARK_AHEAD); k++) {
          const row = rows[k]!;
          if (row.nextAttemptAt > now) break;
          if (row.marked || marks.has(row.id)) continue;
          const mark = store.markSent(row.id, lease.fence);
          // Awaited when its row's turn comes; a failure before that must not go unhandled.
          mark.catch(() => {});
          marks.set(row.id, mark);
        }
      };
      let done = 0;
      while (done < rows.length) {
        const row = rows[done]!;
        if (signal.aborted) return;
        l.windowLeft = rows.length - done;
        // Handed over (or run out) since the window was read: the rest is the next owner's.
        if (!lease.held()) break;
        const wait = row.nextAttemptAt - Date.now();
        if (wait > 0) {
          // Head of line waits for its backoff; a wake-up (e.g. a resend) re-reads the lane.
          if (row.attempts > 0) this.setLane(l, 'retrying');
          l.synced = false;
          await this.sleep(lane, wait);
          break;
        }
        let settled: boolean;
        let taken = 1;
        try {
          l.busy = true;
          if (pipelined && pipelinable(row)) {
            // This row and the ones after it that need no wait, sent back to back.
            let end = done + 1;
            while (end < rows.length && pipelinable(rows[end]!)) end++;
            const run = await this.sendRun(rows, done, end, pipelined, { signal, marks, markAhead, lease, lane: l });
            taken = run.taken;
            settled = run.settled;
          } else {
            markAhead(done);
            settled = await this.deliver(row, sender, signal, marks.get(row.id), lease, l);
          }
        } catch (e) {
          l.synced = false;
          if (e instanceof ConduitError && e.code === 'LEASE_LOST') {
            // Not sent: the lane's new owner sends it (same control id).
            this.opts.log.info({ channel: channelId, destination: destinationId, lane }, 'lane moved to another instance; this one stops sending on it');
            break;
          }
          // Typically the mark could not be written: the row was not sent, and the loop pauses
          // until writes work. Anything else waits a poll interval too, never a hot loop.
          const paused = store.writeFailure() !== undefined;
          this.opts.log.error({ err: e, channel: channelId, destination: destinationId }, paused ? 'delivery paused: the store cannot record it' : 'delivery failed unexpectedly; will try again');
          if (!paused) await this.sleep(lane, IDLE_POLL_MS);
          break;
        } finally {
          l.busy = false;
        }
        done += taken;
        if (!settled) {
          // The rest of the window stays in the store, behind this row.
          l.synced = false;
          break;
        }
      }
      l.windowLeft = 0;
    }
  }

  /**
   * Sends rows[from … end - 1] back to back on a pipelined sender (see senders/thread): each goes
   * to the sender thread once its mark is committed and the row before it went, up to MARK_AHEAD
   * beyond the one whose outcome is awaited, and the thread sends it as soon as the receiver
   * acknowledged the one before. Outcomes are recorded in order. The first that is not an
   * acknowledgement ends the run: the thread sends nothing after it, so the rows after it stay
   * pending, behind it. Returns once no row of the run is on its way: how many rows were taken
   * and whether the last one taken settled.
   */
  private async sendRun(rows: readonly PendingDelivery[], from: number, end: number, sender: PipelinedSender, w: RunWindow): Promise<{ taken: number; settled: boolean }> {
    const { store } = this.opts;
    const run = sender.startRun();
    const sent: Array<Promise<SentMessage | undefined>> = [];
    // Resolves once the last row queued is on the thread: the next goes after it, never before.
    let queued: Promise<unknown> = Promise.resolve();
    const queue = (row: PendingDelivery): void => {
      const mark = row.marked ? undefined : (w.marks.get(row.id) ?? store.markSent(row.id, w.lease.fence));
      const next = queued.then(() => mark).then(() => ({ sent: sender.enqueue(this.outbound(row, w.lease), run) }));
      queued = next;
      const outcome = next.then((q) => q.sent);
      // Awaited in order below; a failed mark must not go unhandled before its turn.
      outcome.catch(() => {});
      sent.push(outcome);
    };
    const onAbort = (): void => sender.abort();
    w.signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (let k = from; k < end; k++) {
        // Marks k … k + MARK_AHEAD - 1, as the one-by-one path does: the same bound after a crash.
        w.markAhead(k);
        while (from + sent.length < end && from + sent.length - k < MARK_AHEAD) queue(rows[from + sent.length]!);
        if (w.signal.aborted) return { taken: k - from, settled: false };
        w.lane.windowLeft = rows.length - k;
        this.delivering(w.lane);
        // A mark that failed throws here, as in deliver(): nothing after it was queued.
        const s = await sent[k - from]!;
        if (!s) return { taken: k - from, settled: false };
        throwIfLeaseRanOut(s.outcome);
        if (!this.record(rows[k]!, s.outcome, new Date(s.startedAt).toISOString(), s.latencyMs, w.lease, w.lane, w.signal)) return { taken: k - from + 1, settled: false };
      }
      return { taken: end - from, settled: true };
    } finally {
      w.signal.removeEventListener('abort', onAbort);
    }
  }

  private outbound(row: PendingDelivery, lease: LaneLease): OutboundMessage {
    const sendBy = lease.until();
    return {
      ...(sendBy === undefined ? {} : { sendBy }),
      messageId: row.messageId,
      destinationId: this.opts.destinationId,
      payload: row.payload,
      contentType: row.contentType,
      controlId: row.controlId,
      attempt: row.attempts + 1,
      partitionKey: row.partitionKey,
    };
  }

  private delivering(l: Lane): void {
    l.awaitingSince = performance.now();
    this.health.state = 'delivering';
    this.setLane(l, 'delivering');
  }

  /** Sends one row and records the attempt. Returns false when the row is still pending. */
  private async deliver(row: PendingDelivery, sender: Sender, signal: AbortSignal, mark: Promise<void> | undefined, lease: LaneLease, l: Lane): Promise<boolean> {
    const { store } = this.opts;
    this.delivering(l);
    // A row committed as 'sent' by its intake (markAtIntake) was marked by that commit.
    if (!row.marked) await (mark ?? store.markSent(row.id, lease.fence));
    // The process may have been paused since the mark (SIGSTOP, a long GC): not sent once the lease may have run out.
    if (!lease.held()) throw new ConduitError('LEASE_LOST', 'the lane lease ran out before the send');
    const startedAt = new Date();
    const t0 = performance.now();
    // A payload the store cannot open is never sent; see unsendable().
    const outcome: SendOutcome = row.unreadable ? unsendable(row.unreadable) : await sender.send(this.outbound(row, lease), signal);
    throwIfLeaseRanOut(outcome);
    const latencyMs = Math.round((performance.now() - t0) * 100) / 100;
    return this.record(row, outcome, startedAt.toISOString(), latencyMs, lease, l, signal);
  }

  /** Records the outcome of a row's attempt. Returns false when the row is still pending. */
  private record(row: PendingDelivery, outcome: SendOutcome, startedAt: string, latencyMs: number, lease: LaneLease, l: Lane, signal: AbortSignal): boolean {
    const { store, policy, log, channelId, destinationId } = this.opts;
    const attempt = row.attempts + 1;
    if (signal.aborted && outcome.status === 'retryable') {
      // Stopped mid-attempt: leave the row pending for the next start, without counting an attempt.
      return false;
    }
    let status: DeliveryStatus;
    let nextAttemptAt: number | undefined;
    if (outcome.status === 'acknowledged') status = 'acknowledged';
    else if (row.unreadable) status = 'dead';
    else if (outcome.status === 'rejected') status = 'rejected';
    else if (attempt >= policy.maxAttempts) status = 'dead';
    else {
      status = 'errored';
      nextAttemptAt = Date.now() + backoffMs(policy, attempt, outcome.retryAfterMs);
    }
    let followUp: FollowUpDelivery | undefined;
    if (status !== 'errored' && this.opts.followUp) {
      try {
        followUp = this.opts.followUp({ row, status, outcome, attempt });
      } catch (e) {
        log.error({ err: e, channel: channelId, destination: destinationId, messageId: row.messageId }, 'building the follow-up delivery failed');
      }
    }
    store.recordAttempt({
      deliveryId: row.id,
      controlId: row.controlId,
      attempt,
      startedAt,
      latencyMs,
      outcome: outcome.status,
      ...(outcome.status !== 'acknowledged' ? { code: outcome.code, detail: outcome.detail } : outcome.detail ? { detail: outcome.detail } : {}),
      ...(outcome.response !== undefined ? { response: outcome.response } : {}),
      status,
      ...(nextAttemptAt ? { nextAttemptAt } : {}),
      ...(followUp ? { followUp } : {}),
      ...(lease.fence ? { fence: lease.fence } : {}),
    });
    // Its lane reads the follow-up from the store: wake it once the write landed.
    if (followUp) void store.settled().then(() => this.opts.onFollowUp?.());
    this.health.lastOutcome = outcome.status;
    this.health.lastCode = outcome.status === 'acknowledged' ? undefined : outcome.code;
    if (row.unreadable) {
      log.error(
        { channel: channelId, destination: destinationId, messageId: row.messageId, code: row.unreadable.code, reason: row.unreadable.message },
        'the payload could not be opened: the delivery is recorded dead, not sent',
      );
    } else if (status !== 'acknowledged') {
      log.warn(
        { channel: channelId, destination: destinationId, messageId: row.messageId, attempt, code: this.health.lastCode, status },
        status === 'errored' ? 'delivery attempt failed; will retry' : `delivery ${status}`,
      );
    }
    this.health.state = status === 'errored' ? 'retrying' : 'delivering';
    this.setLane(l, status === 'errored' ? 'retrying' : 'delivering');
    // Dead means the destination still fails (it gave no answer worth keeping): the lane stays failing.
    if (status === 'acknowledged' || status === 'rejected') l.failingSince = undefined;
    this.opts.metrics?.attempted(outcome.status, latencyMs / 1000);
    if (status !== 'errored') this.opts.metrics?.settled(status, row.receivedAt, this.health.lastCode);
    this.opts.onOutcome?.();
    return status !== 'errored';
  }
}

/** What sendRun() needs of the window being sent. */
interface RunWindow {
  readonly signal: AbortSignal;
  readonly marks: ReadonlyMap<number, Promise<void>>;
  readonly markAhead: (from: number) => void;
  readonly lease: LaneLease;
  readonly lane: Lane;
}

/** Not written: the lease ran out while the message went to the sender (see OutboundMessage.sendBy). Nothing is recorded. */
function throwIfLeaseRanOut(outcome: SendOutcome): void {
  if (outcome.status === 'retryable' && outcome.code === 'LEASE_LOST') throw new ConduitError('LEASE_LOST', outcome.detail);
}

/** A row that can be sent back to back with the one before it: due now, its payload readable. */
function pipelinable(row: PendingDelivery): boolean {
  return row.unreadable === undefined && row.nextAttemptAt <= Date.now();
}

/**
 * The outcome of a row whose payload could not be opened (its data key is not in the keyring,
 * or it does not authenticate): the delivery is recorded dead with that code, not retried and
 * not left holding its lane. Retrying cannot help, since the keyring is read at start; holding
 * the lane would stop the results of every other patient on it, indefinitely, for one row.
 * Dead shows (the destination degraded in /health, the code and the row named in the attempt)
 * and a resend sends it once the key is back. A missing key affecting the whole backlog never
 * gets here: the store refuses to start instead (see store/sealing/key-checks.ts).
 */
function unsendable(error: ConduitError): SendOutcome {
  return { status: 'rejected', code: error.code, detail: error.message };
}
