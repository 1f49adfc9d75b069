import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { ConduitError } from '../../errors.ts';
import { isNewerVersion } from '../versions.ts';
import type {
  AttemptRecord,
  ChannelCounts,
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
  SettledCounts,
  Store,
  StoreWriteFailure,
  Submission,
} from '../types.ts';
import { markStoreCreated, openChecked, sqliteWords } from './check.ts';
import { type Op, overlay, unwrittenAttempts } from './write-behind.ts';
import { MIGRATIONS, SCHEMA, SCHEMA_VERSION } from './schema.ts';

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

const TERMINAL: ReadonlySet<DeliveryStatus> = new Set(['acknowledged', 'rejected', 'dead']);
const PENDING: ReadonlySet<DeliveryStatus> = new Set(['queued', 'sent', 'errored']);


/** Display precedence: a message shows its most troubled delivery. */
const STATUS_PRECEDENCE: DeliveryStatus[] = ['dead', 'rejected', 'errored', 'sent', 'queued', 'acknowledged'];

/**
 * SQLite store on node:sqlite. Inserts from one event-loop turn share one transaction
 * (group commit: one fsync for many webhook requests); delivery updates are written behind
 * in batches, since losing one only means a resend with the same control id.
 */
export class SqliteStore implements Store {
  private readonly db: DatabaseSync;
  private readonly stmt: Record<string, StatementSync>;
  private inserts: PendingInsert[] = [];
  private insertScheduled = false;
  private ops: Op[] = [];
  private opsTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Set while writes fail: lanes pause, reads show the written state plus the unwritten outcomes. */
  private failure: StoreWriteFailure | undefined;
  private pending: number;
  private closed = false;
  /** synchronous = FULL for intake commits; delivery-state commits drop to NORMAL (see flushOps). */
  private readonly fullSync: boolean;
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
      insertMessage: this.db.prepare(
        `INSERT INTO messages (id, channel_id, source_id, source_version, received_at, raw_input, input_format, canonical, partition_key, mapping_version, filtered_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel_id, source_id, source_version) DO NOTHING`,
      ),
      findBySource: this.db.prepare('SELECT id FROM messages WHERE channel_id = ? AND source_id = ? AND source_version = ?'),
      insertDelivery: this.db.prepare(
        `INSERT INTO deliveries (message_seq, channel_id, destination_id, lane, control_id, payload, content_type, mapping_version, warnings, status, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)`,
      ),
      pending: this.db.prepare(
        `SELECT d.id, m.id AS message_id, d.destination_id, d.control_id, d.payload, d.content_type, d.status, d.attempts, d.next_attempt_at, m.partition_key
           FROM deliveries d JOIN messages m ON m.seq = d.message_seq
          WHERE d.channel_id = ? AND d.destination_id = ? AND d.lane = ? AND d.status IN ('queued', 'sent', 'errored')
          ORDER BY d.id LIMIT ?`,
      ),
      markSent: this.db.prepare(`UPDATE deliveries SET status = 'sent', updated_at = ? WHERE id = ? AND status IN ('queued', 'errored')`),
      // With a control id, only if the row still carries it (see AttemptRecord.controlId).
      updateDelivery: this.db.prepare(
        'UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?, updated_at = ? WHERE id = ? AND control_id = coalesce(?, control_id)',
      ),
      followUpStatus: this.db.prepare(
        'SELECT status FROM deliveries WHERE message_seq = (SELECT message_seq FROM deliveries WHERE id = ?) AND destination_id = ?',
      ),
      // A resend settles again: its new follow-up replaces the earlier one of the same message and id.
      insertFollowUp: this.db.prepare(
        `INSERT INTO deliveries (message_seq, channel_id, destination_id, lane, control_id, payload, content_type, follows, status, updated_at)
         SELECT message_seq, channel_id, ?, ?, ?, ?, ?, id, 'queued', ? FROM deliveries WHERE id = ?
         ON CONFLICT (message_seq, destination_id) DO UPDATE SET
           lane = excluded.lane, control_id = excluded.control_id, payload = excluded.payload, content_type = excluded.content_type,
           follows = excluded.follows, status = 'queued', attempts = 0, next_attempt_at = 0, updated_at = excluded.updated_at`,
      ),
      insertAttempt: this.db.prepare(
        `INSERT INTO attempts (delivery_id, attempt, started_at, latency_ms, outcome, code, detail, response) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      countPending: this.db.prepare(`SELECT count(*) AS n FROM deliveries WHERE status IN ('queued', 'sent', 'errored')`),
      requeue: this.db.prepare(
        `UPDATE deliveries SET status = 'queued', next_attempt_at = 0, updated_at = ?
          WHERE message_seq = (SELECT seq FROM messages WHERE id = ?) AND status IN ('acknowledged', 'rejected', 'dead') AND follows IS NULL`,
      ),
      messageRef: this.db.prepare('SELECT channel_id, source_id, source_version, partition_key FROM messages WHERE id = ?'),
      insertKeyedSubmission: this.db.prepare(
        `INSERT INTO submissions (id, channel_id, idempotency_key, fingerprint, message_ids, received_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (channel_id, idempotency_key) DO NOTHING`,
      ),
      insertSubmission: this.db.prepare(
        `INSERT INTO submissions (id, channel_id, idempotency_key, fingerprint, message_ids, received_at)
         SELECT ?, ?, NULL, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM submissions WHERE channel_id = ? AND id = ?)`,
      ),
      submissionByKey: this.db.prepare('SELECT * FROM submissions WHERE channel_id = ? AND idempotency_key = ?'),
      submissionById: this.db.prepare('SELECT * FROM submissions WHERE channel_id = ? AND id = ? ORDER BY seq LIMIT 1'),
      message: this.db.prepare('SELECT * FROM messages WHERE id = ?'),
      deliveriesOf: this.db.prepare('SELECT * FROM deliveries WHERE message_seq = ? ORDER BY id'),
      attemptsOf: this.db.prepare('SELECT * FROM attempts WHERE delivery_id = ? ORDER BY id'),
      statusesOf: this.db.prepare('SELECT status FROM deliveries WHERE message_seq = ?'),
      // The attempt that was on the wire counts: the receiver may have taken it (see recoverInFlight).
      recoverAttempts: this.db.prepare(
        `INSERT INTO attempts (delivery_id, attempt, started_at, latency_ms, outcome, detail)
         SELECT id, attempts + 1, updated_at, 0, 'unknown', 'outcome unknown: engine restarted' FROM deliveries WHERE status = 'sent'`,
      ),
      recover: this.db.prepare(`UPDATE deliveries SET status = 'queued', attempts = attempts + 1, updated_at = ? WHERE status = 'sent'`),
      bringForward: this.db.prepare(
        `UPDATE deliveries SET next_attempt_at = 0, updated_at = ?
          WHERE message_seq = (SELECT seq FROM messages WHERE id = ?) AND status = 'errored' AND next_attempt_at > ?`,
      ),
      settled: this.db.prepare(
        `SELECT channel_id, destination_id, status, count(*) AS n FROM deliveries
          WHERE status IN ('dead', 'rejected') AND updated_at >= ? GROUP BY channel_id, destination_id, status`,
      ),
      sameResult: this.db.prepare('SELECT seq, id, source_version, received_at FROM messages WHERE channel_id = ? AND source_id = ? AND id != ?'),
      acknowledgedBy: this.db.prepare(
        `SELECT destination_id FROM deliveries WHERE message_seq = ? AND status = 'acknowledged' AND follows IS NULL ORDER BY id`,
      ),
      probe: this.db.prepare(`PRAGMA user_version = ${SCHEMA_VERSION}`),
    };
    this.pending = (this.stmt.countPending!.get() as { n: number }).n;
    if (file !== ':memory:') markStoreCreated(file);
  }

  insertMessage(message: NewMessage): Promise<InsertResult> {
    if (this.closed) return Promise.reject(new ConduitError('STORE_FAILED', 'the store is closed'));
    return new Promise((resolve, reject) => this.queueInsert({ kind: 'message', message, resolve, reject }));
  }

  recordSubmission(submission: Submission): Promise<Submission> {
    if (this.closed) return Promise.reject(new ConduitError('STORE_FAILED', 'the store is closed'));
    return new Promise((resolve, reject) => this.queueInsert({ kind: 'submission', submission, resolve, reject }));
  }

  private queueInsert(insert: PendingInsert): void {
    this.inserts.push(insert);
    if (!this.insertScheduled) {
      this.insertScheduled = true;
      setImmediate(() => this.commitInserts());
    }
  }

  private commitInserts(): void {
    this.insertScheduled = false;
    const batch = this.inserts;
    this.inserts = [];
    if (batch.length === 0) return;
    const results: Array<InsertResult | Submission> = [];
    let added = 0;
    try {
      this.db.exec('BEGIN IMMEDIATE');
      for (const insert of batch) {
        if (insert.kind === 'submission') {
          results.push(this.writeSubmission(insert.submission));
          continue;
        }
        const m = insert.message;
        const r = this.stmt.insertMessage!.run(
          m.id, m.channelId, m.sourceId, m.sourceVersion, m.receivedAt, m.rawInput, m.inputFormat, m.canonical ?? null, m.partitionKey,
          m.mappingVersion ?? null, m.filteredBy ?? null,
        );
        if (r.changes === 0) {
          const existing = this.stmt.findBySource!.get(m.channelId, m.sourceId, m.sourceVersion) as { id: string };
          results.push({ messageId: existing.id, duplicate: true });
          continue;
        }
        const seq = Number(r.lastInsertRowid);
        for (const d of m.deliveries) {
          this.stmt.insertDelivery!.run(
            seq, m.channelId, d.destinationId, d.lane, d.controlId, d.payload, d.contentType,
            d.mappingVersion ?? null, d.warnings?.length ? JSON.stringify(d.warnings) : null, m.receivedAt,
          );
          added++;
        }
        results.push({ messageId: m.id, duplicate: false });
      }
      this.db.exec('COMMIT');
    } catch (e) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      this.writeFailed(e);
      const err = new ConduitError('STORE_FAILED', 'the message could not be stored', { cause: e });
      for (const p of batch) p.reject(err);
      return;
    }
    this.writeSucceeded();
    this.pending += added;
    for (const [i, p] of batch.entries()) {
      if (p.kind === 'message') p.resolve(results[i] as InsertResult);
      else p.resolve(results[i] as Submission);
    }
  }

  /** Inside the intake transaction. */
  private writeSubmission(x: Submission): Submission {
    const ids = JSON.stringify(x.messageIds);
    if (x.idempotencyKey === undefined) {
      this.stmt.insertSubmission!.run(x.id, x.channelId, x.fingerprint, ids, x.receivedAt, x.channelId, x.id);
      return submissionOf(this.stmt.submissionById!.get(x.channelId, x.id) as Record<string, string>);
    }
    this.stmt.insertKeyedSubmission!.run(x.id, x.channelId, x.idempotencyKey, x.fingerprint, ids, x.receivedAt);
    return submissionOf(this.stmt.submissionByKey!.get(x.channelId, x.idempotencyKey) as Record<string, string>);
  }

  pendingDeliveries(channelId: string, destinationId: string, lane: number, limit: number): PendingDelivery[] {
    // Outcomes written behind should land first; while writes fail, the unwritten ones are
    // laid over the rows read, so a finished row is never taken as pending again.
    this.flushOpsIfWritable();
    const terminalOps = this.ops.filter((op) => op.kind === 'attempt' && TERMINAL.has(op.record.status)).length;
    const read = this.stmt.pending!.all(channelId, destinationId, lane, limit + terminalOps) as Array<Record<string, string | number | null>>;
    const rows = overlay(read, this.ops).filter((r) => !TERMINAL.has(r.status as DeliveryStatus));
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

  markSent(deliveryId: number): void {
    // Written before the send (with the outcomes queued so far), so that after a crash the
    // attempt on the wire is known and recorded (recoverInFlight). If it cannot be written, the
    // message is not sent: the lane pauses until writes work again.
    this.ops.push({ kind: 'sent', deliveryId, at: new Date().toISOString() });
    try {
      this.flushOps();
    } catch (e) {
      this.ops = this.ops.filter((op) => !(op.kind === 'sent' && op.deliveryId === deliveryId));
      this.writeFailed(e);
      throw e;
    }
    this.writeSucceeded();
  }

  recordAttempt(record: AttemptRecord): void {
    if (TERMINAL.has(record.status)) this.pending--;
    // Counted at once, like intake: the backlog includes it before the write-behind lands.
    if (record.followUp) this.pending++;
    this.queueOp({ kind: 'attempt', record, at: new Date().toISOString() });
  }

  private queueOp(op: Op): void {
    this.ops.push(op);
    // While writes fail, the retry timer writes the queue.
    if (this.failure) return;
    // Written behind within a few milliseconds; a lost update only means a resend.
    if (this.ops.length >= 512) this.flushOpsInBackground();
    else this.opsTimer ??= setTimeout(() => this.flushOpsInBackground(), 5);
  }

  /** Never throws: a failed batch is back in the queue and tried again (see writeFailed). */
  private flushOpsInBackground(): void {
    try {
      this.flushOps();
    } catch (e) {
      this.writeFailed(e);
      return;
    }
    this.writeSucceeded();
  }

  private flushOpsIfWritable(): void {
    if (!this.failure && this.ops.length > 0) this.flushOpsInBackground();
  }

  writeFailure(): StoreWriteFailure | undefined {
    return this.failure;
  }

  private writeFailed(e: unknown): void {
    if (!this.failure) {
      this.failure = { since: new Date().toISOString(), reason: sqliteWords(e) };
      // While failing, a write fails at once instead of blocking the event loop for the busy
      // timeout (health, admin reads and 503s stay prompt); the retry timer tries every second.
      this.db.exec('PRAGMA busy_timeout = 0');
      this.options.onWriteError?.(e);
    }
    this.retryTimer ??= setTimeout(() => this.retryWrites(), WRITE_RETRY_MS);
  }

  private writeSucceeded(): void {
    if (!this.failure) return;
    this.failure = undefined;
    this.db.exec(`PRAGMA busy_timeout = ${this.options.busyTimeoutMs ?? 5000}`);
    this.options.onWriteRecovered?.();
  }

  /** While writes fail: writes the queued updates, or with none queued a one-page probe write. */
  private retryWrites(): void {
    this.retryTimer = undefined;
    if (this.closed) return;
    try {
      if (this.ops.length > 0) this.flushOps();
      else this.stmt.probe!.run();
    } catch (e) {
      this.writeFailed(e);
      return;
    }
    this.writeSucceeded();
  }

  private flushOps(): void {
    clearTimeout(this.opsTimer);
    this.opsTimer = undefined;
    const ops = this.ops;
    this.ops = [];
    if (ops.length === 0) return;
    // Delivery state is written behind anyway (a lost update only means a resend), so its
    // commits skip the fsync: in WAL mode a NORMAL commit survives a process crash, and the
    // next FULL commit (an intake) syncs the log with it. Only intake waits for the disk.
    if (this.fullSync) this.db.exec('PRAGMA synchronous = NORMAL');
    try {
      this.writeOps(ops);
    } finally {
      if (this.fullSync) this.db.exec('PRAGMA synchronous = FULL');
    }
  }

  private writeOps(ops: Op[]): void {
    // Corrections of the backlog count (see below), applied once the transaction commits.
    let correction = 0;
    try {
      // Inside the try: a lock held elsewhere fails here (SQLITE_BUSY), and the batch must go back in the queue.
      this.db.exec('BEGIN IMMEDIATE');
      for (const op of ops) {
        if (op.kind === 'sent') {
          this.stmt.markSent!.run(op.at, op.deliveryId);
          continue;
        }
        const r = op.record;
        this.stmt.insertAttempt!.run(r.deliveryId, r.attempt, r.startedAt, r.latencyMs, r.outcome, r.code ?? null, r.detail ?? null, r.response ?? null);
        const changed = Number(this.stmt.updateDelivery!.run(r.status, r.attempt, r.nextAttemptAt ?? 0, op.at, r.deliveryId, r.controlId ?? null).changes);
        // An outcome for a payload replaced meanwhile: the row stays pending, uncount the decrement.
        if (changed === 0 && TERMINAL.has(r.status)) correction++;
        if (!r.followUp) continue;
        if (changed === 0) {
          correction--;
          continue;
        }
        const f = r.followUp;
        const before = this.stmt.followUpStatus!.get(r.deliveryId, f.destinationId) as { status: DeliveryStatus } | undefined;
        // Replacing a follow-up that was still pending: it was counted already.
        if (before && PENDING.has(before.status)) correction--;
        this.stmt.insertFollowUp!.run(f.destinationId, f.lane, f.controlId, f.payload, f.contentType, op.at, r.deliveryId);
      }
      this.db.exec('COMMIT');
      this.pending += correction;
    } catch (e) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      this.ops = ops.concat(this.ops);
      throw new ConduitError('STORE_FAILED', 'delivery state could not be written', { cause: e });
    }
  }

  async requeue(messageId: string): Promise<number> {
    this.flushForWrite();
    const n = Number(this.stmt.requeue!.run(new Date().toISOString(), messageId).changes);
    this.pending += n;
    return n;
  }

  async bringForward(messageId: string): Promise<number> {
    this.flushForWrite();
    const now = Date.now();
    return Number(this.stmt.bringForward!.run(new Date(now).toISOString(), messageId, now).changes);
  }

  /** A write that must come after the queued outcomes (or they would overwrite it). */
  private flushForWrite(): void {
    try {
      this.flushOps();
    } catch (e) {
      this.writeFailed(e);
      throw e;
    }
    this.writeSucceeded();
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
    this.flushOpsIfWritable();
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

  getMessage(id: string): MessageView | undefined {
    this.flushOpsIfWritable();
    const m = this.stmt.message!.get(id) as Record<string, string | number | null> | undefined;
    if (!m) return undefined;
    const rows = overlay(this.stmt.deliveriesOf!.all(m.seq!) as Array<Record<string, string | number | null>>, this.ops);
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
        attempts: [...(this.stmt.attemptsOf!.all(d.id!) as Array<Record<string, string | number | null>>), ...unwrittenAttempts(d.id as number, this.ops)].map((a) => ({
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
    this.flushOpsIfWritable();
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
    const page = rows.slice(0, q.limit);
    const messages = page.map((m) => {
      const statuses = (this.stmt.statusesOf!.all(m.seq!) as Array<{ status: DeliveryStatus }>).map((r) => r.status);
      return summary(m, m.filtered_by ? 'filtered' : aggregate(statuses));
    });
    const last = page[page.length - 1];
    return rows.length > q.limit && last ? { messages, nextCursor: (last.seq as number).toString(36) } : { messages };
  }

  channelCounts(): ChannelCounts[] {
    this.flushOpsIfWritable();
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

  recoverInFlight(): number {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      this.stmt.recoverAttempts!.run();
      const n = Number(this.stmt.recover!.run(new Date().toISOString()).changes);
      this.db.exec('COMMIT');
      return n;
    } catch (e) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw new ConduitError('STORE_FAILED', 'deliveries in flight at the last stop could not be queued again', { cause: e });
    }
  }

  relane(channelId: string, destinationId: string, laneOf: (partitionKey: string) => number): void {
    const rows = this.db
      .prepare(
        `SELECT d.id, d.lane, m.partition_key FROM deliveries d JOIN messages m ON m.seq = d.message_seq
          WHERE d.channel_id = ? AND d.destination_id = ? AND d.status IN ('queued', 'sent', 'errored')`,
      )
      .all(channelId, destinationId) as Array<{ id: number; lane: number; partition_key: string }>;
    const update = this.db.prepare('UPDATE deliveries SET lane = ? WHERE id = ?');
    this.db.exec('BEGIN IMMEDIATE');
    for (const r of rows) {
      const lane = laneOf(r.partition_key);
      if (lane !== r.lane) update.run(lane, r.id);
    }
    this.db.exec('COMMIT');
  }

  ping(): boolean {
    try {
      this.db.prepare('SELECT 1').get();
      return true;
    } catch {
      return false;
    }
  }

  async flush(): Promise<void> {
    if (this.inserts.length > 0) this.commitInserts();
    this.flushOps();
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
    this.db.close();
  }
}

function aggregate(statuses: DeliveryStatus[]): MessageStatus {
  if (statuses.length === 0) return 'received';
  for (const s of STATUS_PRECEDENCE) if (statuses.includes(s)) return s;
  return 'received';
}

function submissionOf(r: Record<string, string | null>): Submission {
  return {
    id: r.id!,
    channelId: r.channel_id!,
    ...(r.idempotency_key === null || r.idempotency_key === undefined ? {} : { idempotencyKey: r.idempotency_key }),
    fingerprint: r.fingerprint!,
    messageIds: JSON.parse(r.message_ids!) as string[],
    receivedAt: r.received_at!,
  };
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
