import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { ConduitError } from '../../errors.ts';
import type {
  AttemptRecord,
  ChannelCounts,
  CommittedDelivery,
  DeliveryStatus,
  DeliveryView,
  InsertResult,
  MessageQuery,
  MessageRef,
  MessageStatus,
  MessageSummary,
  MessageView,
  NewerVersion,
  NewMessage,
  PendingDelivery,
  PruneCursor,
  PruneResult,
  SettledCounts,
  Store,
  StoreWriteFailure,
  Submission,
} from '../types.ts';
import { TERMINAL_STATUSES } from '../types.ts';
import { isNewerVersion } from '../versions.ts';
import { markStoreCreated, openChecked, sqliteWords } from './check.ts';
import { submissionOf } from './rows.ts';
import { MIGRATIONS, SCHEMA, SCHEMA_VERSION } from './schema.ts';
import { type Op, overlay, unwrittenAttempts } from './write-behind.ts';
import type { Round, RoundAnswer, Step, StepResult, WriteError, WriterInit } from './writer-protocol.ts';

export interface SqliteStoreOptions {
  /** 'full' fsyncs every commit (survives power loss); 'normal' survives a process crash only. */
  synchronous?: 'full' | 'normal';
  /** Writes started failing (disk full, SQLITE_BUSY, I/O error); unwritten delivery updates are kept and tried again. */
  onWriteError?: (error: unknown) => void;
  /** Writes work again after a failure. */
  onWriteRecovered?: () => void;
  /** How long a write waits for another connection's lock before failing with SQLITE_BUSY (default 5000). */
  busyTimeoutMs?: number;
  /** What is checked at open (see openChecked): every page ('quick', the default) or the header and size only. */
  check?: 'quick' | 'header';
}

/** While writes fail, the write-behind queue and a probe are tried again this often. */
const WRITE_RETRY_MS = 1000;

/** A write that waits for the next group commit: a message (with its deliveries) or a submission. */
type PendingInsert =
  | { kind: 'message'; message: NewMessage; resolve(result: InsertResult): void; reject(error: unknown): void }
  | { kind: 'submission'; submission: Submission; resolve(result: Submission): void; reject(error: unknown): void };

/** A write other than intake and delivery state (requeue, recovery, relane), after the `opsBefore` first queued ops. */
interface AdminWrite {
  step: Step;
  opsBefore: number;
  resolve(result: StepResult): void;
  reject(error: unknown): void;
}

/** A round posted to the writer thread and not answered yet. */
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

/** Display precedence: a message shows its most troubled delivery. */
const STATUS_PRECEDENCE: DeliveryStatus[] = ['dead', 'rejected', 'errored', 'sent', 'queued', 'acknowledged'];

/**
 * SQLite store on node:sqlite. A writer thread (writer.ts) owns the write connection and the
 * main thread reads through its own (WAL: a read sees every committed transaction). Writes go
 * to the writer in rounds, one in flight at a time: whatever was queued while a round committed
 * goes in the next one (group commit: one fsync for many webhook requests, one commit for the
 * on-the-wire marks of every lane). Delivery outcomes are written behind, since losing one only
 * means a resend with the same control id; reads lay the unwritten ones over what they read.
 */
export class SqliteStore implements Store {
  private readonly db: DatabaseSync;
  private readonly stmt: Record<string, StatementSync>;
  /** Owns the write connection: every write is a round posted to it (see writer.ts). */
  private readonly writer: Worker | undefined;
  private inserts: PendingInsert[] = [];
  private ops: Op[] = [];
  private admin: AdminWrite[] = [];
  /** Callers of markSent waiting for the commit of their mark, by delivery id. */
  private marks = new Map<number, Mark[]>();
  private inFlight: InFlight | undefined;
  private roundScheduled = false;
  private writerExited = false;
  /**
   * Round ids grow across restarts too (milliseconds × 1000 at open), so an attempt's stored
   * round id never matches a round of a later process (see attemptsOf).
   */
  private nextRound = Date.now() * 1000;
  /** Rounds the writer thread answered (committed or not): a count of store round trips, for tests and diagnostics. */
  rounds = 0;
  private opsTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Set while writes fail: lanes pause, reads show the written state plus the unwritten outcomes. */
  private failure: StoreWriteFailure | undefined;
  private pending: number;
  private closed = false;
  /** synchronous = FULL for intake rounds; delivery-state rounds run with NORMAL (see writer.ts). */
  private readonly fullSync: boolean;
  /** Told the deliveries of each committed intake (see onCommitted). */
  private readonly committedListeners: Array<(rows: readonly CommittedDelivery[]) => void> = [];
  private readonly options: SqliteStoreOptions;

  constructor(file: string, options: SqliteStoreOptions = {}) {
    this.options = options;
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    // Refuses a damaged file, or a missing one where a store existed, before anything writes to it.
    this.db = openChecked(file, options.check ?? 'quick');
    // WAL: readers (the admin API) never block the writer, and commits append instead of rewriting pages.
    this.db.exec('PRAGMA journal_mode = WAL');
    this.fullSync = options.synchronous !== 'normal';
    this.db.exec(`PRAGMA synchronous = ${this.fullSync ? 'FULL' : 'NORMAL'}`);
    // Another process (a second engine by mistake, the CLI) waits rather than failing at once.
    this.db.exec(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    this.db.exec('PRAGMA foreign_keys = ON');
    const version = (this.db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (version > SCHEMA_VERSION) {
      throw new ConduitError('STORE_FAILED', `the data directory was written by a newer Conduit (schema ${version})`);
    }
    if (version > 0 && version < SCHEMA_VERSION) {
      this.db.exec('BEGIN IMMEDIATE');
      for (let v = version; v < SCHEMA_VERSION; v++) this.db.exec(MIGRATIONS[v]!);
      this.db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      this.db.exec('COMMIT');
    }
    this.db.exec(SCHEMA);
    this.db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    this.stmt = {
      pending: this.db.prepare(
        `SELECT d.id, m.id AS message_id, d.destination_id, d.control_id, d.payload, d.content_type, d.status, d.attempts, d.next_attempt_at, m.partition_key
           FROM deliveries d JOIN messages m ON m.seq = d.message_seq
          WHERE d.channel_id = ? AND d.destination_id = ? AND d.lane = ? AND d.status IN ('queued', 'sent', 'errored')
          ORDER BY d.id LIMIT ?`,
      ),
      countPending: this.db.prepare(`SELECT count(*) AS n FROM deliveries WHERE status IN ('queued', 'sent', 'errored')`),
      messageRef: this.db.prepare('SELECT channel_id, source_id, source_version, partition_key FROM messages WHERE id = ?'),
      submissionByKey: this.db.prepare('SELECT * FROM submissions WHERE channel_id = ? AND idempotency_key = ?'),
      submissionById: this.db.prepare('SELECT * FROM submissions WHERE channel_id = ? AND id = ? ORDER BY seq LIMIT 1'),
      message: this.db.prepare('SELECT * FROM messages WHERE id = ?'),
      deliveriesOf: this.db.prepare('SELECT * FROM deliveries WHERE message_seq = ? ORDER BY id'),
      attemptsOf: this.db.prepare('SELECT * FROM attempts WHERE delivery_id = ? ORDER BY id'),
      statusesOf: this.db.prepare('SELECT id, status, control_id FROM deliveries WHERE message_seq = ?'),
      settled: this.db.prepare(
        `SELECT channel_id, destination_id, status, count(*) AS n FROM deliveries
          WHERE status IN ('dead', 'rejected') AND updated_at >= ? GROUP BY channel_id, destination_id, status`,
      ),
      sameResult: this.db.prepare('SELECT seq, id, source_version, received_at FROM messages WHERE channel_id = ? AND source_id = ? AND id != ?'),
      acknowledgedBy: this.db.prepare(
        `SELECT destination_id FROM deliveries WHERE message_seq = ? AND status = 'acknowledged' AND follows IS NULL ORDER BY id`,
      ),
    };
    this.pending = (this.stmt.countPending!.get() as { n: number }).n;
    // An in-memory database cannot be shared with another thread: it has no writer, reads only.
    if (file === ':memory:') return;
    markStoreCreated(file);
    const init: WriterInit = { file, busyTimeoutMs: options.busyTimeoutMs ?? 5000 };
    // Beside this module: writer.ts when run from source, writer.js in a build (npm run build).
    this.writer = new Worker(new URL(import.meta.url.endsWith('.ts') ? './writer.ts' : './writer.js', import.meta.url), {
      workerData: init,
      // Not the process's flags: a worker refuses some (--input-type of node -e) and needs none.
      execArgv: [],
    });
    // Referenced only while a round is in flight: an idle store does not keep the process alive.
    this.writer.unref();
    this.writer.on('message', (answer: RoundAnswer) => this.answered(answer));
    this.writer.on('error', (e) => this.writerLost(e));
    this.writer.on('exit', () => {
      this.writerExited = true;
      if (!this.closed) this.writerLost(new Error('the store writer thread exited'));
    });
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

  private queueInsert(insert: PendingInsert): void {
    this.inserts.push(insert);
    this.schedule(true);
  }

  /**
   * Posts the queued writes as one round when none is in flight: inserts, marks and admin writes
   * at the next turn (group commit: everything queued while a round commits goes in the next
   * one), outcomes alone within 5 ms. While writes fail, only new inserts, marks and admin
   * writes try (and fail at once); the queued outcomes wait for the retry timer.
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
    if (this.inFlight || !this.writer || this.closed) return undefined;
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
    const round: Round = { kind: 'round', id: this.nextRound++, durable: this.fullSync && inserts.length > 0, failing: this.failure !== undefined, steps };
    this.inFlight = { id: round.id, ops, inserts, admin, marks, done, answered };
    this.writer.ref();
    this.writer.postMessage(round);
    return this.inFlight;
  }

  private answered(answer: RoundAnswer): void {
    const round = this.inFlight;
    if (!round || round.id !== answer.id) return;
    this.inFlight = undefined;
    this.rounds++;
    this.writer?.unref();
    if (answer.ok) this.committed(round, answer.results);
    else this.roundFailed(round, errorOf(answer.error));
    if (this.hasUrgent()) this.schedule(true);
    else if (this.ops.length > 0) this.schedule(false);
  }

  private committed(round: InFlight, results: StepResult[]): void {
    this.writeSucceeded();
    const fresh: CommittedDelivery[] = [];
    let adminIndex = 0;
    for (const r of results) {
      if (r.kind === 'ops') this.pending += r.correction;
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
            });
          }
        }
      }
    }
    for (const waiting of round.marks.values()) for (const m of waiting) m.resolve();
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

  /** The writer thread died (it should not): every write waiting fails, and writes fail from now on. */
  private writerLost(e: unknown): void {
    const round = this.inFlight;
    this.inFlight = undefined;
    const error = e instanceof Error ? e : new Error(String(e));
    // Health shows the store degraded; nothing can write any more (a restart is needed).
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

  /** Outcomes waiting to be written or being written, oldest first: laid over what reads return. */
  private unwritten(): Op[] {
    const inFlight = this.inFlight?.ops ?? [];
    return inFlight.length === 0 ? this.ops : this.ops.length === 0 ? inFlight : inFlight.concat(this.ops);
  }

  pendingDeliveries(channelId: string, destinationId: string, lane: number, limit: number): PendingDelivery[] {
    // The outcomes not written yet are laid over the rows read, so a finished row is never taken as pending again.
    const ops = this.unwritten();
    const terminalOps = ops.filter((op) => op.kind === 'attempt' && TERMINAL.has(op.record.status)).length;
    const read = this.stmt.pending!.all(channelId, destinationId, lane, limit + terminalOps) as Array<Record<string, string | number | null>>;
    const rows = overlay(read, ops).filter((r) => !TERMINAL.has(r.status as DeliveryStatus));
    return rows.slice(0, limit).map((r) => ({
      id: r.id as number,
      messageId: r.message_id as string,
      destinationId: r.destination_id as string,
      controlId: r.control_id as string,
      payload: r.payload as string,
      contentType: r.content_type as string,
      attempts: r.attempts as number,
      nextAttemptAt: r.next_attempt_at as number,
      partitionKey: r.partition_key as string,
    }));
  }

  pendingCount(): number {
    return this.pending;
  }

  markSent(deliveryId: number): Promise<void> {
    // Written before the send (with the outcomes queued so far), so that after a crash the
    // attempt on the wire is known and recorded (recoverInFlight). If it cannot be written, the
    // message is not sent: the lane pauses until writes work again. Marks of every lane queued
    // in one turn share one commit.
    if (this.closed) return Promise.reject(new ConduitError('STORE_FAILED', 'the store is closed'));
    return new Promise((resolve, reject) => {
      const waiting = this.marks.get(deliveryId);
      if (waiting) waiting.push({ resolve, reject });
      else this.marks.set(deliveryId, [{ resolve, reject }]);
      this.ops.push({ kind: 'sent', deliveryId, at: new Date().toISOString() });
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

  writeFailure(): StoreWriteFailure | undefined {
    return this.failure;
  }

  private writeFailed(e: unknown): void {
    if (!this.failure) {
      this.failure = { since: new Date().toISOString(), reason: sqliteWords(e) };
      this.options.onWriteError?.(e);
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

  private queueAdmin(step: Step): Promise<StepResult> {
    if (this.closed || !this.writer) return Promise.reject(new ConduitError('STORE_FAILED', 'the store is closed'));
    return new Promise((resolve, reject) => {
      this.admin.push({ step, opsBefore: this.ops.length, resolve, reject });
      this.schedule(true);
    });
  }

  private async queueCount(step: Step): Promise<number> {
    const r = await this.queueAdmin(step);
    return r.kind === 'count' ? r.n : 0;
  }

  requeue(messageId: string): Promise<number> {
    return this.queueCount({ kind: 'requeue', messageId, at: new Date().toISOString() });
  }

  bringForward(messageId: string): Promise<number> {
    const now = Date.now();
    return this.queueCount({ kind: 'bringForward', messageId, at: new Date(now).toISOString(), now });
  }

  async prune(channelId: string, what: 'content' | 'metadata', before: string, after: PruneCursor | undefined, limit: number): Promise<PruneResult> {
    const r = await this.queueAdmin({ kind: 'prune', channelId, what, before, after: after ?? { receivedAt: '', seq: 0 }, limit, at: new Date().toISOString() });
    return r.kind === 'pruned' ? { changed: r.changed, ...(r.next ? { next: r.next } : {}) } : { changed: 0 };
  }

  settledSince(since: string): SettledCounts[] {
    const rows = this.stmt.settled!.all(since) as Array<{ channel_id: string; destination_id: string; status: 'dead' | 'rejected'; n: number }>;
    const byDestination = new Map<string, SettledCounts>();
    for (const r of rows) {
      const key = `${r.channel_id}\u0000${r.destination_id}`;
      const c = byDestination.get(key) ?? { channelId: r.channel_id, destinationId: r.destination_id, dead: 0, rejected: 0 };
      c[r.status] = r.n;
      byDestination.set(key, c);
    }
    return [...byDestination.values()];
  }

  newerVersions(messageId: string): NewerVersion[] {
    const m = this.stmt.message!.get(messageId) as { seq: number; channel_id: string; source_id: string; source_version: string } | undefined;
    if (!m) return [];
    const others = this.stmt.sameResult!.all(m.channel_id, m.source_id, messageId) as Array<{ seq: number; id: string; source_version: string; received_at: string }>;
    return others
      .filter((o) => isNewerVersion({ version: o.source_version, seq: o.seq }, { version: m.source_version, seq: m.seq }))
      .sort((a, b) => (isNewerVersion({ version: a.source_version, seq: a.seq }, { version: b.source_version, seq: b.seq }) ? -1 : 1))
      .map((o) => ({
        id: o.id,
        sourceVersion: o.source_version,
        receivedAt: o.received_at,
        acknowledgedBy: (this.stmt.acknowledgedBy!.all(o.seq) as Array<{ destination_id: string }>).map((d) => d.destination_id),
      }));
  }

  /**
   * The stored attempts of a delivery and the unwritten ones after them. The round in flight may
   * already be committed (the writer answered, the answer not read here yet): its attempts are
   * then stored, carrying its round id, and not counted again.
   */
  private attemptsOf(deliveryId: number): Array<Record<string, string | number | null>> {
    const stored = this.stmt.attemptsOf!.all(deliveryId) as Array<Record<string, string | number | null>>;
    const inFlight = this.inFlight;
    const committed = inFlight !== undefined && stored.some((a) => a.round === inFlight.id);
    const ops = committed || !inFlight ? this.ops : inFlight.ops.concat(this.ops);
    return ops.length === 0 ? stored : stored.concat(unwrittenAttempts(deliveryId, ops));
  }

  getMessage(id: string): MessageView | undefined {
    const m = this.stmt.message!.get(id) as Record<string, string | number | null> | undefined;
    if (!m) return undefined;
    const ops = this.unwritten();
    const rows = overlay(this.stmt.deliveriesOf!.all(m.seq!) as Array<Record<string, string | number | null>>, ops);
    const deliveries = rows.map(
      (d): DeliveryView => ({
        destinationId: d.destination_id as string,
        controlId: d.control_id as string,
        status: d.status as DeliveryStatus,
        payload: d.payload as string,
        contentType: d.content_type as string,
        ...(d.mapping_version ? { mappingVersion: d.mapping_version as string } : {}),
        ...(d.warnings ? { warnings: JSON.parse(d.warnings as string) as string[] } : {}),
        ...(d.follows ? { follows: rows.find((o) => o.id === d.follows)?.destination_id as string } : {}),
        updatedAt: d.updated_at as string,
        ...(d.status === 'errored' && d.next_attempt_at ? { nextAttemptAt: new Date(d.next_attempt_at as number).toISOString() } : {}),
        attempts: this.attemptsOf(d.id as number).map((a) => ({
          attempt: a.attempt as number,
          startedAt: a.started_at as string,
          latencyMs: a.latency_ms as number,
          outcome: a.outcome as string,
          ...(a.code ? { code: a.code as string } : {}),
          ...(a.detail ? { detail: a.detail as string } : {}),
          ...(a.response ? { response: a.response as string } : {}),
        })),
      }),
    );
    return {
      ...summary(m, m.filtered_by ? 'filtered' : aggregate(deliveries.map((d) => d.status))),
      ...(m.mapping_version ? { mappingVersion: m.mapping_version as string } : {}),
      ...(m.filtered_by ? { filteredBy: m.filtered_by as string } : {}),
      rawInput: m.raw_input as string,
      ...(m.content_pruned_at ? { contentPrunedAt: m.content_pruned_at as string } : {}),
      inputFormat: m.input_format as string,
      ...(m.canonical ? { canonical: JSON.parse(m.canonical as string) } : {}),
      deliveries,
    };
  }

  messageRef(id: string): MessageRef | undefined {
    const m = this.stmt.messageRef!.get(id) as Record<string, string> | undefined;
    return m && { channelId: m.channel_id!, sourceId: m.source_id!, sourceVersion: m.source_version!, partitionKey: m.partition_key! };
  }

  findSubmission(channelId: string, by: { id: string } | { idempotencyKey: string }): Submission | undefined {
    const row = 'id' in by ? this.stmt.submissionById!.get(channelId, by.id) : this.stmt.submissionByKey!.get(channelId, by.idempotencyKey);
    return row ? submissionOf(row as Record<string, string>) : undefined;
  }

  listMessages(q: MessageQuery): { messages: MessageSummary[]; nextCursor?: string } {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (q.channelId) {
      where.push('m.channel_id = ?');
      args.push(q.channelId);
    }
    if (q.cursor) {
      where.push('m.seq < ?');
      args.push(Number.parseInt(q.cursor, 36));
    }
    if (q.status === 'filtered') where.push('m.filtered_by IS NOT NULL');
    else if (q.status === 'received') where.push('m.filtered_by IS NULL AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq)');
    else if (q.status) {
      // A message is listed under the status it displays: its most troubled delivery's.
      const worse = STATUS_PRECEDENCE.slice(0, STATUS_PRECEDENCE.indexOf(q.status as DeliveryStatus));
      where.push('EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.status = ?)');
      args.push(q.status);
      if (worse.length > 0) {
        where.push(`NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.status IN (${worse.map(() => '?').join(', ')}))`);
        args.push(...worse);
      }
    }
    const sql = `SELECT m.seq, m.id, m.channel_id, m.source_id, m.source_version, m.received_at, m.filtered_by FROM messages m
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY m.seq DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, q.limit + 1) as Array<Record<string, string | number>>;
    const ops = this.unwritten();
    const page = rows.slice(0, q.limit);
    const messages = page.map((m) => {
      const statuses = overlay(this.stmt.statusesOf!.all(m.seq!) as Array<Record<string, string | number | null>>, ops).map((r) => r.status as DeliveryStatus);
      return summary(m, m.filtered_by ? 'filtered' : aggregate(statuses));
    });
    const last = page[page.length - 1];
    return rows.length > q.limit && last ? { messages, nextCursor: (last.seq as number).toString(36) } : { messages };
  }

  channelCounts(): ChannelCounts[] {
    const totals = this.db.prepare('SELECT channel_id, count(*) AS n FROM messages GROUP BY channel_id').all() as Array<{ channel_id: string; n: number }>;
    const byStatus = this.db
      .prepare('SELECT channel_id, status, count(*) AS n FROM deliveries GROUP BY channel_id, status')
      .all() as Array<{ channel_id: string; status: MessageStatus; n: number }>;
    return totals.map((t) => ({
      channelId: t.channel_id,
      messages: t.n,
      byStatus: Object.fromEntries(byStatus.filter((b) => b.channel_id === t.channel_id).map((b) => [b.status, b.n])),
    }));
  }

  recoverInFlight(): Promise<number> {
    return this.queueCount({ kind: 'recover', at: new Date().toISOString() }).catch((e: unknown) => {
      throw new ConduitError('STORE_FAILED', 'deliveries in flight at the last stop could not be queued again', { cause: e });
    });
  }

  async relane(channelId: string, destinationId: string, laneOf: (partitionKey: string) => number): Promise<void> {
    const rows = this.db
      .prepare(
        `SELECT d.id, d.lane, m.partition_key FROM deliveries d JOIN messages m ON m.seq = d.message_seq
          WHERE d.channel_id = ? AND d.destination_id = ? AND d.status IN ('queued', 'sent', 'errored')`,
      )
      .all(channelId, destinationId) as Array<{ id: number; lane: number; partition_key: string }>;
    const lanes: Array<[number, number]> = [];
    for (const r of rows) {
      const lane = laneOf(r.partition_key);
      if (lane !== r.lane) lanes.push([r.id, lane]);
    }
    if (lanes.length > 0) await this.queueAdmin({ kind: 'relane', lanes });
  }

  ping(): boolean {
    try {
      this.db.prepare('SELECT 1').get();
      return true;
    } catch {
      return false;
    }
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

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } catch (e) {
      // Closing anyway: deliveries whose outcome is lost are sent again (same control id) at the next start.
      this.writeFailed(e);
    }
    this.closed = true;
    clearTimeout(this.opsTimer);
    clearTimeout(this.retryTimer);
    if (this.writer && !this.writerExited) {
      const exited = new Promise((resolve) => this.writer!.once('exit', resolve));
      this.writer.ref();
      this.writer.postMessage({ kind: 'close' });
      await exited;
    }
    this.db.close();
  }
}

/** SQLite's error as the writer thread described it, with the same properties (see sqliteWords). */
function errorOf(e: WriteError): Error {
  return Object.assign(new Error(e.message), e);
}

function aggregate(statuses: DeliveryStatus[]): MessageStatus {
  if (statuses.length === 0) return 'received';
  for (const s of STATUS_PRECEDENCE) if (statuses.includes(s)) return s;
  return 'received';
}

function summary(m: Record<string, string | number | null>, status: MessageStatus): MessageSummary {
  return {
    id: m.id as string,
    channelId: m.channel_id as string,
    sourceId: m.source_id as string,
    sourceVersion: m.source_version as string,
    receivedAt: m.received_at as string,
    status,
  };
}
