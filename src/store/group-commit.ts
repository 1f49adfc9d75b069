import { ConduitError } from '../errors.ts';
import type { Round, RoundRunner, Step, StepResult } from './rounds.ts';
import type { AttemptRecord, CommittedDelivery, DeliveryStatus, Fence, InsertResult, NewMessage, StoreWriteFailure, Submission } from './types.ts';
import { TERMINAL_STATUSES } from './types.ts';
import type { Op } from './write-behind.ts';

export interface GroupCommitOptions {
  /** Intake rounds are made durable before they are answered (fsync, synchronous_commit); delivery state never waits for that. */
  durable: boolean;
  /** Deliveries not yet terminal when the store opened. */
  pending: number;
  /** Writes started failing (disk full, a lock, a lost connection); unwritten delivery updates are kept and tried again. */
  onWriteError?: (error: unknown) => void;
  /** Writes work again after a failure. */
  onWriteRecovered?: () => void;
}

/** While writes fail, the write-behind queue and a probe are tried again this often. */
const WRITE_RETRY_MS = 1000;

/** A write that waits for the next group commit: a message (with its deliveries) or a submission. */
type PendingInsert =
  | { kind: 'message'; message: NewMessage; resolve(result: InsertResult): void; reject(error: unknown): void }
  | { kind: 'submission'; submission: Submission; resolve(result: Submission): void; reject(error: unknown): void };

/** A write other than intake and delivery state (requeue, recovery, relane, retention), after the `opsBefore` first queued ops. */
interface AdminWrite {
  step: Step;
  opsBefore: number;
  resolve(result: StepResult): void;
  reject(error: unknown): void;
}

/** A round given to the runner and not answered yet. */
interface InFlight {
  id: number;
  ops: Op[];
  inserts: PendingInsert[];
  admin: AdminWrite[];
  marks: Map<number, Mark[]>;
  /** Resolves once answered: undefined when committed, else the error. */
  done: Promise<unknown>;
  answered(error: unknown): void;
}

interface Mark {
  resolve(): void;
  reject(error: unknown): void;
}

const TERMINAL: ReadonlySet<DeliveryStatus> = new Set(TERMINAL_STATUSES);

/**
 * The write side of a store, whatever the database: writes are queued and given to the
 * backend's runner in rounds, one in flight at a time; whatever was queued while a round
 * committed goes in the next one (group commit: one durable commit for many webhook requests,
 * one commit for the on-the-wire marks of every lane). Delivery outcomes are written behind,
 * since losing one only means a resend with the same control id; reads lay the unwritten ones
 * (`unwritten()`) over what they read. While writes fail, intake and marks fail at once and the
 * outcomes are kept and tried again.
 */
export class GroupCommit {
  private inserts: PendingInsert[] = [];
  private ops: Op[] = [];
  private admin: AdminWrite[] = [];
  /** Callers of markSent waiting for the commit of their mark, by delivery id. */
  private marks = new Map<number, Mark[]>();
  private inFlight: InFlight | undefined;
  private roundScheduled = false;
  /**
   * Round ids grow across restarts too (milliseconds × 1000 at open), so a round id stored with
   * an attempt never matches a round of a later process (see withUnwrittenAttempts).
   */
  private nextRound = Date.now() * 1000;
  /** Rounds the runner answered (committed or not): a count of store round trips, for tests and diagnostics. */
  rounds = 0;
  private opsTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failure: StoreWriteFailure | undefined;
  private pending: number;
  private closed = false;
  private readonly committedListeners: Array<(rows: readonly CommittedDelivery[]) => void> = [];
  private readonly runner: RoundRunner;
  private readonly options: GroupCommitOptions;

  constructor(runner: RoundRunner, options: GroupCommitOptions) {
    this.runner = runner;
    this.options = options;
    this.pending = options.pending;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  insertMessage(message: NewMessage): Promise<InsertResult> {
    if (this.closed) return Promise.reject(new ConduitError('STORE_FAILED', 'the store is closed'));
    return new Promise((resolve, reject) => this.queueInsert({ kind: 'message', message, resolve, reject }));
  }

  recordSubmission(submission: Submission): Promise<Submission> {
    if (this.closed) return Promise.reject(new ConduitError('STORE_FAILED', 'the store is closed'));
    return new Promise((resolve, reject) => this.queueInsert({ kind: 'submission', submission, resolve, reject }));
  }

  onCommitted(listener: (rows: readonly CommittedDelivery[]) => void): void {
    this.committedListeners.push(listener);
  }

  markSent(deliveryId: number, fence?: Fence): Promise<void> {
    if (this.closed) return Promise.reject(new ConduitError('STORE_FAILED', 'the store is closed'));
    return new Promise((resolve, reject) => {
      const waiting = this.marks.get(deliveryId);
      if (waiting) waiting.push({ resolve, reject });
      else this.marks.set(deliveryId, [{ resolve, reject }]);
      this.ops.push({ kind: 'sent', deliveryId, at: new Date().toISOString(), ...(fence ? { fence } : {}) });
      this.schedule(true);
    });
  }

  recordAttempt(record: AttemptRecord): void {
    if (TERMINAL.has(record.status)) this.pending--;
    // Counted at once, like intake: the backlog includes it before the write-behind lands.
    if (record.followUp) this.pending++;
    this.ops.push({ kind: 'attempt', record, at: new Date().toISOString() });
    // Written behind within a few milliseconds; a lost update only means a resend.
    this.schedule(this.ops.length >= 512);
  }

  /** Queues a write other than intake and delivery state; it runs after the outcomes queued before it. */
  write(step: Step): Promise<StepResult> {
    if (this.closed) return Promise.reject(new ConduitError('STORE_FAILED', 'the store is closed'));
    return new Promise((resolve, reject) => {
      this.admin.push({ step, opsBefore: this.ops.length, resolve, reject });
      this.schedule(true);
    });
  }

  async count(step: Step): Promise<number> {
    const r = await this.write(step);
    return r.kind === 'count' ? r.n : 0;
  }

  pendingCount(): number {
    return this.pending;
  }

  /**
   * Sets the backlog to a count read from the database: once the store opened (a store that
   * opens asynchronously starts at 0), and from time to time when other instances share it.
   */
  resetPending(n: number): void {
    this.pending = n;
  }

  writeFailure(): StoreWriteFailure | undefined {
    return this.failure;
  }

  /** Outcomes waiting to be written or being written, oldest first: laid over what reads return. */
  unwritten(): Op[] {
    const inFlight = this.inFlight?.ops ?? [];
    return inFlight.length === 0 ? this.ops : this.ops.length === 0 ? inFlight : inFlight.concat(this.ops);
  }

  private queueInsert(insert: PendingInsert): void {
    this.inserts.push(insert);
    this.schedule(true);
  }

  /**
   * Posts the queued writes as one round when none is in flight: inserts, marks and admin writes
   * at the next turn, outcomes alone within 5 ms. While writes fail, only new inserts, marks and
   * admin writes try (and fail at once); the queued outcomes wait for the retry timer.
   */
  private schedule(urgent: boolean): void {
    if (urgent) {
      if (this.roundScheduled) return;
      this.roundScheduled = true;
      setImmediate(() => {
        this.roundScheduled = false;
        this.postRound(false);
      });
    } else if (!this.failure) {
      this.opsTimer ??= setTimeout(() => {
        this.opsTimer = undefined;
        this.postRound(false);
      }, 5);
    }
  }

  private hasUrgent(): boolean {
    return this.inserts.length > 0 || this.marks.size > 0 || this.admin.length > 0;
  }

  /** Posts what is queued (`always`: also outcomes alone while writes fail, or a probe when nothing is). */
  private postRound(always: boolean): InFlight | undefined {
    if (this.inFlight || this.closed) return undefined;
    if (!always && !this.hasUrgent() && (this.failure || this.ops.length === 0)) return undefined;
    clearTimeout(this.opsTimer);
    this.opsTimer = undefined;
    const ops = this.ops;
    const inserts = this.inserts;
    const admin = this.admin;
    const marks = this.marks;
    this.ops = [];
    this.inserts = [];
    this.admin = [];
    this.marks = new Map();
    const id = this.nextRound++;
    for (const op of ops) op.round = id;
    const steps: Step[] = [];
    if (inserts.length > 0) {
      steps.push({ kind: 'inserts', inserts: inserts.map((x) => (x.kind === 'message' ? { kind: 'message', message: x.message } : { kind: 'submission', submission: x.submission })) });
    }
    // Admin writes come after the outcomes queued before them, as if each had been written at once.
    let from = 0;
    for (const a of admin) {
      if (a.opsBefore > from) steps.push({ kind: 'ops', ops: ops.slice(from, a.opsBefore) });
      from = Math.max(from, a.opsBefore);
      steps.push(a.step);
    }
    if (ops.length > from) steps.push({ kind: 'ops', ops: ops.slice(from) });
    if (steps.length === 0) steps.push({ kind: 'probe' });
    let answered!: (error: unknown) => void;
    const done = new Promise<unknown>((resolve) => {
      answered = resolve;
    });
    const round: Round = { kind: 'round', id, durable: this.options.durable && inserts.length > 0, failing: this.failure !== undefined, steps };
    const inFlight: InFlight = { id, ops, inserts, admin, marks, done, answered };
    this.inFlight = inFlight;
    this.runner.run(round).then(
      (results) => this.answered(inFlight, results, undefined),
      (error: unknown) => this.answered(inFlight, undefined, error),
    );
    return inFlight;
  }

  private answered(round: InFlight, results: StepResult[] | undefined, error: unknown): void {
    if (this.inFlight !== round) return;
    this.inFlight = undefined;
    this.rounds++;
    if (results) this.committed(round, results);
    else this.roundFailed(round, error instanceof Error ? error : new Error(String(error)));
    if (this.closed) return;
    if (this.hasUrgent()) this.schedule(true);
    else if (this.ops.length > 0) this.schedule(false);
  }

  private committed(round: InFlight, results: StepResult[]): void {
    this.writeSucceeded();
    const fresh: CommittedDelivery[] = [];
    let adminIndex = 0;
    const fenced = new Set<number>();
    for (const r of results) {
      if (r.kind === 'ops') {
        this.pending += r.correction;
        for (const id of r.fenced ?? []) fenced.add(id);
      }
      else if (r.kind === 'count' || r.kind === 'pruned') {
        // The admin writes' results, in order (a probe has none).
        const a = round.admin[adminIndex++];
        if (a?.step.kind === 'requeue' && r.kind === 'count') this.pending += r.n;
        a?.resolve(r);
      } else {
        for (const [i, x] of r.results.entries()) {
          const insert = round.inserts[i]!;
          if (x.kind === 'submission' && insert.kind === 'submission') {
            insert.resolve(x.result);
            continue;
          }
          if (x.kind !== 'message' || insert.kind !== 'message') continue;
          this.pending += x.deliveryIds.length;
          const m = insert.message;
          for (const [k, id] of x.deliveryIds.entries()) {
            const d = m.deliveries[k]!;
            fresh.push({
              id,
              channelId: m.channelId,
              lane: d.lane,
              messageId: m.id,
              destinationId: d.destinationId,
              controlId: d.controlId,
              payload: d.payload,
              contentType: d.contentType,
              attempts: 0,
              nextAttemptAt: 0,
              partitionKey: m.partitionKey,
              sourceId: m.sourceId,
              sourceVersion: m.sourceVersion,
              receivedAt: m.receivedAt,
              ...(d.marked ? { marked: true } : {}),
            });
          }
        }
      }
    }
    // Made only when a mark was fenced: an error's stack costs more than the rest of a round's answer.
    const lost = fenced.size > 0 ? new ConduitError('LEASE_LOST', 'the mark was not written: the lane is leased to another instance now') : undefined;
    for (const [id, waiting] of round.marks) for (const m of waiting) lost && fenced.has(id) ? m.reject(lost) : m.resolve();
    if (fresh.length > 0) for (const listener of this.committedListeners) listener(fresh);
    // Inserts are answered after the lanes have their rows: a source's 2xx never overtakes them.
    for (const r of results) {
      if (r.kind !== 'inserts') continue;
      for (const [i, x] of r.results.entries()) {
        const insert = round.inserts[i]!;
        if (x.kind === 'message' && insert.kind === 'message') insert.resolve(x.result);
      }
    }
    round.answered(undefined);
  }

  private roundFailed(round: InFlight, e: Error): void {
    this.writeFailed(e);
    const stored = new ConduitError('STORE_FAILED', 'the message could not be stored', { cause: e });
    for (const p of round.inserts) p.reject(stored);
    // A mark that was not written: its delivery must not be sent.
    const unmarked = new ConduitError('STORE_FAILED', 'delivery state could not be written', { cause: e });
    for (const waiting of round.marks.values()) for (const m of waiting) m.reject(unmarked);
    for (const a of round.admin) a.reject(unmarked);
    // The outcomes go back to the front of the queue, tried again by the retry timer.
    const back = round.ops.filter((op) => !(op.kind === 'sent' && round.marks.has(op.deliveryId)));
    for (const a of this.admin) a.opsBefore += back.length;
    this.ops = back.concat(this.ops);
    round.answered(unmarked);
  }

  private writeFailed(e: unknown): void {
    if (!this.failure) {
      this.failure = { since: new Date().toISOString(), reason: this.runner.describe(e) };
      this.options.onWriteError?.(e);
    } else {
      // The latest reason is the one to act on (a lost connection first, then a read-only server).
      this.failure = { since: this.failure.since, reason: this.runner.describe(e) };
    }
    if (!this.closed) this.retryTimer ??= setTimeout(() => this.retryWrites(), WRITE_RETRY_MS);
  }

  private writeSucceeded(): void {
    if (!this.failure) return;
    this.failure = undefined;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.options.onWriteRecovered?.();
  }

  /** While writes fail: writes the queued updates, or with none queued a one-page probe write. */
  private retryWrites(): void {
    this.retryTimer = undefined;
    if (this.closed || !this.failure) return;
    if (!this.postRound(true)) this.retryTimer = setTimeout(() => this.retryWrites(), WRITE_RETRY_MS);
  }

  /**
   * The backend cannot write any more (the SQLite writer thread died): the round in flight and
   * every write waiting fail, and writes fail from now on (a restart is needed).
   */
  lost(e: unknown): void {
    const round = this.inFlight;
    this.inFlight = undefined;
    const error = e instanceof Error ? e : new Error(String(e));
    this.writeFailed(error);
    if (round) this.roundFailed(round, error);
    this.closed = true;
    clearTimeout(this.retryTimer);
    const lost = new ConduitError('STORE_FAILED', 'the store writer stopped', { cause: e });
    for (const p of this.inserts) p.reject(lost);
    for (const waiting of this.marks.values()) for (const m of waiting) m.reject(lost);
    for (const a of this.admin) a.reject(lost);
    this.inserts = [];
    this.marks = new Map();
    this.admin = [];
  }

  /** Resolves once everything queued so far is committed; rejects (STORE_FAILED) when that write fails. */
  async flush(): Promise<void> {
    const queued = this.hasUrgent() || this.ops.length > 0;
    if (this.inFlight) {
      const error = await this.inFlight.done;
      if (!queued) {
        if (error) throw error;
        return;
      }
    }
    // What was queued at the call is in the round in flight now, or still queued: not later than the next round.
    const round = this.inFlight ?? this.postRound(true);
    if (!round) return;
    const error = await round.done;
    if (error) throw error;
  }

  async settled(): Promise<void> {
    if (this.failure) return;
    try {
      await this.flush();
    } catch {
      // The failure is the store's state now (writeFailure); reads show what is written and queued.
    }
  }

  /** Writes what is queued (deliveries whose outcome cannot be written are sent again at the next start), then closes the runner. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } catch (e) {
      this.writeFailed(e);
    }
    this.closed = true;
    clearTimeout(this.opsTimer);
    clearTimeout(this.retryTimer);
    await this.runner.close();
  }
}
