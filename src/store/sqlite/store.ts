import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Worker } from 'node:worker_threads';
import { startThreadBeside } from '../../threads.ts';
import { ConduitError } from '../../errors.ts';
import { GroupCommit } from '../group-commit.ts';
import { GroupCommittedStore, type StoreWriteOptions } from '../group-committed.ts';
import type { Round, RoundRunner, StepResult } from '../rounds.ts';
import { submissionOf } from '../rows.ts';
import { refuseUnsendableBacklog, type StoredKeyCheck, verifyKeyring } from '../sealing/key-checks.ts';
import type { Keyring } from '../sealing/keyring.ts';
import { RowOpener } from '../sealing/rows.ts';
import type {
  ChannelCounts,
  DeliveryStatus,
  DestinationBacklog,
  MessageQuery,
  MessageStatus,
  MessageSummary,
  MessageView,
  NewerVersion,
  PendingDelivery,
  SettledCounts,
  Store,
  Submission,
} from '../types.ts';
import { backlogOf, channelCountsOf, finishingOps, listConditions, messageView, newerOf, pageOf, pendingOf, type Row, settledCounts, type VersionRow } from '../views.ts';
import { overlay, withUnwrittenAttempts } from '../write-behind.ts';
import { markStoreCreated, openChecked, sqliteWords } from './check.ts';
import { MIGRATIONS, SCHEMA, SCHEMA_VERSION } from './schema.ts';
import type { RoundAnswer, WriteError, WriterInit } from './writer-protocol.ts';

export interface SqliteStoreOptions extends StoreWriteOptions {
  /** How long a write waits for another connection's lock before failing with SQLITE_BUSY (default 5000). */
  busyTimeoutMs?: number;
  /** What is checked at open (see openChecked): every page ('quick', the default) or the header and size only. */
  check?: 'quick' | 'header';
  /** Seals content with its first key, opens rows with any of them (see ../sealing/); none: plaintext. */
  keyring?: Keyring;
  /** Keys that sealed rows of this store are not in the keyring: those rows cannot be opened (at open, once). */
  onKeysAbsent?: (keyIds: readonly string[]) => void;
}

/**
 * SQLite store on node:sqlite. A writer thread (writer.ts) owns the write connection and runs
 * the group commit's rounds (../group-commit.ts), so a commit's fsync never blocks the event
 * loop; the main thread reads through its own connection (WAL: a read sees every committed
 * transaction) and lays the outcomes not written yet over what it reads.
 */
export class SqliteStore extends GroupCommittedStore implements Store {
  private readonly db: DatabaseSync;
  private readonly stmt: Record<string, StatementSync>;
  protected readonly writes: GroupCommit;
  private readonly opener: RowOpener;

  constructor(file: string, options: SqliteStoreOptions = {}) {
    super();
    mkdirSync(dirname(file), { recursive: true });
    // Refuses a damaged file, or a missing one where a store existed, before anything writes to it.
    this.db = openChecked(file, options.check ?? 'quick');
    // WAL: readers (the admin API) never block the writer, and commits append instead of rewriting pages.
    this.db.exec('PRAGMA journal_mode = WAL');
    const fullSync = options.synchronous !== 'normal';
    this.db.exec(`PRAGMA synchronous = ${fullSync ? 'FULL' : 'NORMAL'}`);
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
    try {
      this.checkKeys(file, options);
    } catch (e) {
      this.db.close();
      throw e;
    }
    this.opener = new RowOpener(options.keyring);
    this.stmt = {
      pending: this.db.prepare(
        `SELECT d.id, m.id AS message_id, d.destination_id, d.control_id, d.payload, d.key_id, d.content_type, d.status, d.attempts, d.next_attempt_at, m.partition_key, m.source_id, m.source_version, m.received_at
           FROM deliveries d JOIN messages m ON m.seq = d.message_seq
          WHERE d.channel_id = ? AND d.destination_id = ? AND d.lane = ? AND d.status IN ('queued', 'sent', 'errored')
          ORDER BY d.id LIMIT ?`,
      ),
      countPending: this.db.prepare(`SELECT count(*) AS n FROM deliveries WHERE status IN ('queued', 'sent', 'errored')`),
      // A scan of the partial index alone (it holds the pending rows only and covers the columns grouped).
      backlog: this.db.prepare(
        `SELECT channel_id, destination_id, count(*) AS n FROM deliveries INDEXED BY deliveries_pending
          WHERE status IN ('queued', 'sent', 'errored') GROUP BY channel_id, destination_id`,
      ),
      submissionByKey: this.db.prepare('SELECT * FROM submissions WHERE channel_id = ? AND idempotency_key = ?'),
      submissionById: this.db.prepare('SELECT * FROM submissions WHERE channel_id = ? AND id = ? ORDER BY seq LIMIT 1'),
      message: this.db.prepare('SELECT * FROM messages WHERE id = ?'),
      deliveriesOf: this.db.prepare('SELECT * FROM deliveries WHERE message_seq = ? ORDER BY id'),
      attemptsOf: this.db.prepare('SELECT * FROM attempts WHERE delivery_id = ? ORDER BY id'),
      statusesOf: this.db.prepare('SELECT id, status, control_id FROM deliveries WHERE message_seq = ?'),
      settled: this.db.prepare(
        `SELECT channel_id, destination_id, status, count(*) AS n FROM deliveries
          WHERE status IN ('dead', 'rejected') AND updated_at >= ? AND dismissed_at IS NULL GROUP BY channel_id, destination_id, status`,
      ),
      sameResult: this.db.prepare('SELECT seq, id, source_version, received_at FROM messages WHERE channel_id = ? AND source_id = ? AND id != ?'),
      acknowledgedBy: this.db.prepare(
        `SELECT destination_id FROM deliveries WHERE message_seq = ? AND status = 'acknowledged' AND follows IS NULL ORDER BY id`,
      ),
    };
    markStoreCreated(file);
    const writer = new WriterThread(
      { file, busyTimeoutMs: options.busyTimeoutMs ?? 5000, ...(options.keyring ? { key: options.keyring.sealing } : {}) },
      (e) => this.writes.lost(e),
    );
    this.writes = new GroupCommit(writer, {
      // synchronous = FULL for intake rounds; delivery-state rounds run with NORMAL (see writer.ts).
      durable: fullSync,
      pending: (this.stmt.countPending!.get() as { n: number }).n,
      ...(options.onWriteError ? { onWriteError: options.onWriteError } : {}),
      ...(options.onWriteRecovered ? { onWriteRecovered: options.onWriteRecovered } : {}),
    });
  }

  /** Refuses a keyring that would not open this store's rows (see ../sealing/key-checks.ts). */
  private checkKeys(file: string, options: SqliteStoreOptions): void {
    const stored = this.db.prepare('SELECT key_id, check_value FROM key_checks').all() as unknown as StoredKeyCheck[];
    const { absent } = verifyKeyring(options.keyring, stored, file);
    if (absent.length === 0) return;
    const pending = this.db
      .prepare(`SELECT key_id, count(*) AS n FROM deliveries WHERE status IN ('queued', 'sent', 'errored') AND key_id IS NOT NULL GROUP BY key_id`)
      .all() as Array<{ key_id: string; n: number }>;
    refuseUnsendableBacklog(options.keyring, pending, file);
    options.onKeysAbsent?.(absent);
  }

  recoverInFlight(): Promise<number> {
    return this.writes.count({ kind: 'recover', at: new Date().toISOString() }).catch((e: unknown) => {
      throw new ConduitError('STORE_FAILED', 'deliveries in flight at the last stop could not be queued again', { cause: e });
    });
  }

  async close(): Promise<void> {
    if (this.writes.isClosed) return;
    await this.writes.close();
    this.db.close();
  }

  async pendingDeliveries(channelId: string, destinationId: string, lane: number, limit: number): Promise<PendingDelivery[]> {
    const ops = this.writes.unwritten();
    return pendingOf(this.stmt.pending!.all(channelId, destinationId, lane, limit + finishingOps(ops)) as Row[], ops, limit, this.opener);
  }

  async settledSince(since: string): Promise<SettledCounts[]> {
    return settledCounts(this.stmt.settled!.all(since) as Parameters<typeof settledCounts>[0]);
  }

  async backlogByDestination(): Promise<DestinationBacklog[]> {
    return backlogOf(this.stmt.backlog!.all() as Parameters<typeof backlogOf>[0]);
  }

  async newerVersions(messageId: string): Promise<NewerVersion[]> {
    const m = this.stmt.message!.get(messageId) as { seq: number; channel_id: string; source_id: string; source_version: string } | undefined;
    if (!m) return [];
    const others = this.stmt.sameResult!.all(m.channel_id, m.source_id, messageId) as unknown as VersionRow[];
    return newerOf(m, others, (seq) => (this.stmt.acknowledgedBy!.all(seq) as Array<{ destination_id: string }>).map((d) => d.destination_id));
  }

  async getMessage(id: string): Promise<MessageView | undefined> {
    const m = this.stmt.message!.get(id) as Row | undefined;
    if (!m) return undefined;
    const ops = this.writes.unwritten();
    return messageView(
      m,
      overlay(this.stmt.deliveriesOf!.all(m.seq!) as Row[], ops),
      (deliveryId) => withUnwrittenAttempts(deliveryId, this.stmt.attemptsOf!.all(deliveryId) as Row[], ops),
      this.opener,
    );
  }

  async findSubmission(channelId: string, by: { id: string } | { idempotencyKey: string }): Promise<Submission | undefined> {
    const row = 'id' in by ? this.stmt.submissionById!.get(channelId, by.id) : this.stmt.submissionByKey!.get(channelId, by.idempotencyKey);
    return row ? submissionOf(row as Record<string, string>) : undefined;
  }

  async listMessages(q: MessageQuery): Promise<{ messages: MessageSummary[]; nextCursor?: string }> {
    const args: Array<string | number> = [];
    const where = listConditions(q, (v) => {
      args.push(v);
      return '?';
    });
    const sql = `SELECT m.seq, m.id, m.channel_id, m.source_id, m.source_version, m.received_at, m.filtered_by FROM messages m
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY m.seq DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, q.limit + 1) as Row[];
    const ops = this.writes.unwritten();
    return pageOf(rows, q.limit, (seq) => overlay(this.stmt.statusesOf!.all(seq) as Row[], ops).map((r) => r.status as DeliveryStatus));
  }

  async channelCounts(): Promise<ChannelCounts[]> {
    const totals = this.db.prepare('SELECT channel_id, count(*) AS n FROM messages GROUP BY channel_id').all() as Array<{ channel_id: string; n: number }>;
    const byStatus = this.db
      .prepare('SELECT channel_id, status, count(*) AS n FROM deliveries GROUP BY channel_id, status')
      .all() as Array<{ channel_id: string; status: MessageStatus; n: number }>;
    return channelCountsOf(totals, byStatus);
  }

  protected async pendingLanes(channelId: string, destinationId: string): Promise<Array<{ id: number; lane: number; partition_key: string }>> {
    return this.db
      .prepare(
        `SELECT d.id, d.lane, m.partition_key FROM deliveries d JOIN messages m ON m.seq = d.message_seq
          WHERE d.channel_id = ? AND d.destination_id = ? AND d.status IN ('queued', 'sent', 'errored')`,
      )
      .all(channelId, destinationId) as Array<{ id: number; lane: number; partition_key: string }>;
  }

  async ping(): Promise<boolean> {
    try {
      this.db.prepare('SELECT 1').get();
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Runs the group commit's rounds on the writer thread (writer.ts), which owns the write
 * connection. Referenced only while a round is in flight: an idle store does not keep the
 * process alive.
 */
class WriterThread implements RoundRunner {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve(results: StepResult[]): void; reject(error: unknown): void }>();
  private exited = false;
  private closing = false;

  constructor(init: WriterInit, lost: (error: unknown) => void) {
    // A round lives until it is committed: a few milliseconds (see src/engine/README.md, Memory).
    this.worker = startThreadBeside(import.meta.url, 'writer', { workerData: init, youngGenerationMb: 6 });
    this.worker.on('message', (answer: RoundAnswer) => {
      const w = this.waiting.get(answer.id);
      if (!w) return;
      this.waiting.delete(answer.id);
      if (this.waiting.size === 0) this.worker.unref();
      if (answer.ok) w.resolve(answer.results);
      else w.reject(errorOf(answer.error));
    });
    this.worker.on('error', (e) => lost(e));
    this.worker.on('exit', () => {
      this.exited = true;
      if (!this.closing) lost(new Error('the store writer thread exited'));
    });
  }

  run(round: Round): Promise<StepResult[]> {
    return new Promise((resolve, reject) => {
      this.waiting.set(round.id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage(round);
    });
  }

  describe(error: unknown): string {
    return sqliteWords(error);
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.exited) return;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.ref();
    this.worker.postMessage({ kind: 'close' });
    await exited;
  }
}

/** SQLite's error as the writer thread described it, with the same properties (see sqliteWords). */
function errorOf(e: WriteError): Error {
  return Object.assign(new Error(e.message), e);
}
