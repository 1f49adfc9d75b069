import pg from 'pg';
import type { Logger } from 'pino';
import { ConduitError } from '../../errors.ts';
import { GroupCommit } from '../group-commit.ts';
import { GroupCommittedStore, type StoreWriteOptions } from '../group-committed.ts';
import type { PruneBatch, StepResult } from '../rounds.ts';
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
import { type Op, overlay, withUnwrittenAttempts } from '../write-behind.ts';
import { connectionConfig, inTransaction, postgresWords, redactedUrl } from './connection.ts';
import { type InstanceInfo, LeaseTable } from './leases.ts';
import { Notifications } from './notifications.ts';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.ts';
import { pruneBatch } from './prune.ts';
import { PostgresWriter } from './writer.ts';

export interface PostgresStoreOptions extends StoreWriteOptions {
  /** Connections for reads (the admin API, lanes reading their backlog); writes have one of their own. */
  readConnections?: number;
  /** This process among the instances sharing the database (see cluster/): writes its marks and outcomes under its lane leases. */
  instance?: string;
  /**
   * Other instances share the database: the backlog (pendingCount, which pushes back on intake)
   * is counted in the database every 2 s, not only from this process's own intake and outcomes.
   */
  sharedBacklog?: boolean;
  /** A vacuum after retention failed (it is tried again after the next pruning). */
  onVacuumError?: (error: unknown) => void;
  /**
   * How long a session may sit in an open transaction without sending anything before the
   * server ends it (releasing its locks): with several instances, at most half the lease time.
   */
  idleInTransactionMs?: number;
  /** Seals content with its first key, opens rows with any of them (see ../sealing/); none: plaintext. */
  keyring?: Keyring;
  /** Keys that sealed rows of this store are not in the keyring: those rows cannot be opened (once, when the store is ready). */
  onKeysAbsent?: (keyIds: readonly string[]) => void;
}

const IDLE_IN_TRANSACTION_MS = 5000;

const COUNT_PENDING = `SELECT count(*)::int AS n FROM deliveries WHERE status IN ('queued', 'sent', 'errored')`;

const BACKLOG_COUNT_MS = 2000;

/**
 * After retention removed rows, the tables it touches are vacuumed (at most this often), so new
 * rows reuse the space even where the server's autovacuum is off or lags behind.
 */
const VACUUM_EVERY_MS = 60_000;

/** Any Conduit instance migrating the schema holds this advisory lock (an arbitrary constant, 'CNDT'). */
const SCHEMA_LOCK = 0x434e4454;

/**
 * PostgreSQL store: the same tables and the same group commit as the embedded store (see
 * ../group-commit.ts), for running on a database server. Writes go in rounds on one connection
 * of their own (writer.ts); reads use a small pool. A read may run while a round commits: it
 * lays over its rows the outcomes that were unwritten when it started or since, and each row
 * tells by the round that last wrote it which of those it already holds (see write-behind.ts).
 */
export class PostgresStore extends GroupCommittedStore implements Store {
  private readonly pool: pg.Pool;
  protected readonly writes: GroupCommit;
  /** The schema is in place and the backlog counted; every read and round waits for it. */
  private readonly ready: Promise<void>;
  private closed = false;
  private backlogTimer: NodeJS.Timeout | undefined;
  /** Rows retention changed since the last vacuum, when that was, and the vacuum running. */
  private pruned = 0;
  private vacuumedAt = 0;
  private vacuuming: Promise<void> | undefined;
  private readonly onVacuumError: ((error: unknown) => void) | undefined;
  readonly url: string;
  private readonly config: pg.ClientConfig;
  private readonly opener: RowOpener;
  private readonly options: PostgresStoreOptions;

  constructor(url: string, options: PostgresStoreOptions = {}) {
    super();
    this.url = redactedUrl(url);
    this.options = options;
    this.opener = new RowOpener(options.keyring);
    this.onVacuumError = options.onVacuumError;
    const config = connectionConfig(url, options.idleInTransactionMs ?? IDLE_IN_TRANSACTION_MS);
    this.config = config;
    this.pool = new pg.Pool({ ...config, max: options.readConnections ?? 4, idleTimeoutMillis: 30_000 });
    // An idle connection that breaks (the server restarted) is dropped by the pool; the next read makes a new one.
    this.pool.on('error', () => {});
    this.ready = this.open();
    // Seen by the first read or write (recoverInFlight at start), not as an unhandled rejection.
    this.ready.catch(() => {});
    this.writes = new GroupCommit(new PostgresWriter(config, this.ready, options.instance ?? 'single', options.keyring?.sealing), {
      durable: options.synchronous !== 'normal',
      pending: 0,
      ...(options.onWriteError ? { onWriteError: options.onWriteError } : {}),
      ...(options.onWriteRecovered ? { onWriteRecovered: options.onWriteRecovered } : {}),
    });
    if (options.sharedBacklog) {
      this.backlogTimer = setInterval(() => {
        this.countBacklog().then(
          (n) => this.writes.resetPending(n),
          () => {},
        );
      }, BACKLOG_COUNT_MS);
      this.backlogTimer.unref();
    }
  }

  private async countBacklog(): Promise<number> {
    const [r] = await this.query<{ n: number }>(COUNT_PENDING);
    return r!.n;
  }

  /** Creates or migrates the schema (once, whichever instance comes first) and counts the backlog. */
  private async open(): Promise<void> {
    try {
      await inTransaction(this.pool, this.url, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
        const exists = await client.query(`SELECT to_regclass('conduit_meta') IS NOT NULL AS present`);
        let version = 0;
        if ((exists.rows[0] as { present: boolean }).present) {
          const r = await client.query(`SELECT value FROM conduit_meta WHERE key = 'schema_version'`);
          version = Number((r.rows[0] as { value: string } | undefined)?.value ?? 0);
        }
        if (version > SCHEMA_VERSION) {
          throw new ConduitError('STORE_FAILED', `the PostgreSQL store at ${this.url} was written by a newer Conduit (schema ${version}, this one knows ${SCHEMA_VERSION})`);
        }
        for (let v = version; v < SCHEMA_VERSION; v++) await client.query(MIGRATIONS[v]!);
        if (version < SCHEMA_VERSION) {
          await client.query(
            `INSERT INTO conduit_meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
            [String(SCHEMA_VERSION)],
          );
        }
      });
      const client = await this.pool.connect();
      try {
        await this.checkKeys(client);
        const pending = await client.query(COUNT_PENDING);
        this.writes.resetPending((pending.rows[0] as { n: number }).n);
      } finally {
        client.release();
      }
    } catch (e) {
      if (e instanceof ConduitError) throw e;
      throw new ConduitError('STORE_FAILED', `cannot open the PostgreSQL store at ${this.url}: ${postgresWords(e)}`, { cause: e });
    }
  }

  /** Refuses a keyring that would not open this store's rows (see ../sealing/key-checks.ts). */
  private async checkKeys(client: pg.PoolClient): Promise<void> {
    const stored = (await client.query('SELECT key_id, check_value FROM key_checks')).rows as StoredKeyCheck[];
    const { absent } = verifyKeyring(this.options.keyring, stored, this.url);
    if (absent.length === 0) return;
    const pending = await client.query(
      `SELECT key_id, count(*)::int AS n FROM deliveries WHERE status IN ('queued', 'sent', 'errored') AND key_id IS NOT NULL GROUP BY key_id`,
    );
    refuseUnsendableBacklog(this.options.keyring, pending.rows as Array<{ key_id: string; n: number }>, this.url);
    this.options.onKeysAbsent?.(absent);
  }

  /** The lease table of the instances sharing this database, for this one (see cluster/lease-manager.ts). */
  async leaseTable(instance: InstanceInfo, leaseMs: number): Promise<LeaseTable> {
    await this.ready;
    return new LeaseTable(this.pool, instance, leaseMs);
  }

  /**
   * Takes `key` for `owner` unless another owner holds it unexpired; resolves with its release
   * (which only `owner` can do), or undefined. A claim of an owner that died expires after `ttlMs`.
   */
  async claim(key: string, owner: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    const [row] = await this.query(
      `INSERT INTO claims (key, owner, expires_at) VALUES ($1, $2, clock_timestamp() + $3::interval)
       ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
         WHERE claims.expires_at <= clock_timestamp() OR claims.owner = excluded.owner
       RETURNING key`,
      [key, owner, `${ttlMs} milliseconds`],
    );
    if (!row) return undefined;
    return async () => {
      await this.query('DELETE FROM claims WHERE key = $1 AND owner = $2', [key, owner]);
    };
  }

  /** Listens to what the other instances on this database tell (see Notifications). */
  notifications(channels: readonly string[], onNotice: (channel: string, payload: string) => void, log: Logger): Notifications {
    return new Notifications(this.config, channels, onNotice, log);
  }

  private async query<T = Row>(text: string, values?: unknown[]): Promise<T[]> {
    await this.ready;
    return (await this.pool.query(text, values)).rows as T[];
  }

  /**
   * Runs a read and returns the outcomes to lay over it: those unwritten when it started (the
   * rows may or may not hold them; their rounds tell) and those queued while it ran.
   */
  private async withUnwritten<T>(read: () => Promise<T>): Promise<{ value: T; ops: Op[] }> {
    const before = this.writes.unwritten().slice();
    const value = await read();
    const seen = new Set(before);
    return { value, ops: before.concat(this.writes.unwritten().filter((op) => !seen.has(op))) };
  }

  /** Retention runs beside the writer, on a connection of the pool: its deletes never hold up a round. */
  protected override async pruneBatch(batch: PruneBatch): Promise<StepResult> {
    await this.ready;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN; SET LOCAL synchronous_commit TO off');
      const r = await pruneBatch((text, values) => client.query(text, values), batch);
      await client.query('COMMIT');
      if (r.kind === 'pruned') {
        this.pruned += r.changed;
        if (!r.next) this.vacuumSoon();
      }
      return r;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }

  /** At the end of a retention walk that removed rows: VACUUM of its tables in the background, one at a time, at most once a minute. */
  private vacuumSoon(): void {
    if (this.pruned === 0 || this.vacuuming || this.closed || Date.now() - this.vacuumedAt < VACUUM_EVERY_MS) return;
    this.pruned = 0;
    this.vacuumedAt = Date.now();
    this.vacuuming = this.pool
      .query('VACUUM (ANALYZE) attempts, deliveries, messages, submissions')
      .then(
        () => undefined,
        (e: unknown) => this.onVacuumError?.(e),
      )
      .finally(() => {
        this.vacuuming = undefined;
      });
  }

  async recoverInFlight(): Promise<number> {
    // Opening failed: say why (the server, the URL), not only that a write failed.
    await this.ready;
    return this.writes.count({ kind: 'recover', at: new Date().toISOString() }).catch((e: unknown) => {
      throw new ConduitError('STORE_FAILED', 'deliveries in flight at the last stop could not be queued again', { cause: e });
    });
  }

  protected pendingLanes(channelId: string, destinationId: string): Promise<Array<{ id: number; lane: number; partition_key: string }>> {
    return this.query(
      `SELECT d.id, d.lane, m.partition_key FROM deliveries d JOIN messages m ON m.seq = d.message_seq
        WHERE d.channel_id = $1 AND d.destination_id = $2 AND d.status IN ('queued', 'sent', 'errored')`,
      [channelId, destinationId],
    );
  }

  async pendingDeliveries(channelId: string, destinationId: string, lane: number, limit: number): Promise<PendingDelivery[]> {
    const extra = finishingOps(this.writes.unwritten());
    const { value, ops } = await this.withUnwritten(() =>
      this.query(
        `SELECT d.id, m.id AS message_id, d.destination_id, d.control_id, d.payload, d.key_id, d.content_type, d.status, d.attempts, d.next_attempt_at, d.round, m.partition_key, m.source_id, m.source_version, m.received_at
           FROM deliveries d JOIN messages m ON m.seq = d.message_seq
          WHERE d.channel_id = $1 AND d.destination_id = $2 AND d.lane = $3 AND d.status IN ('queued', 'sent', 'errored')
          ORDER BY d.id LIMIT $4`,
        [channelId, destinationId, lane, limit + extra],
      ),
    );
    return pendingOf(value, ops, limit, this.opener);
  }

  async settledSince(since: string): Promise<SettledCounts[]> {
    const rows = await this.query<{ channel_id: string; destination_id: string; status: 'dead' | 'rejected'; n: number }>(
      `SELECT channel_id, destination_id, status, count(*)::int AS n FROM deliveries
        WHERE status IN ('dead', 'rejected') AND updated_at >= $1 AND dismissed_at IS NULL GROUP BY channel_id, destination_id, status`,
      [since],
    );
    return settledCounts(rows);
  }

  async backlogByDestination(): Promise<DestinationBacklog[]> {
    // The partial index deliveries_pending holds the pending rows only.
    const rows = await this.query<{ channel_id: string; destination_id: string; n: number }>(
      `SELECT channel_id, destination_id, count(*)::int AS n FROM deliveries
        WHERE status IN ('queued', 'sent', 'errored') GROUP BY channel_id, destination_id`,
    );
    return backlogOf(rows);
  }

  /** The database's size on disk (pg_database_size), for the store size metric. */
  async databaseBytes(): Promise<number> {
    const [r] = await this.query<{ bytes: string }>('SELECT pg_database_size(current_database())::text AS bytes');
    return Number(r!.bytes);
  }

  async newerVersions(messageId: string): Promise<NewerVersion[]> {
    const [m] = await this.query<{ seq: number; channel_id: string; source_id: string; source_version: string }>(
      'SELECT seq, channel_id, source_id, source_version FROM messages WHERE id = $1',
      [messageId],
    );
    if (!m) return [];
    const others = await this.query<VersionRow>('SELECT seq, id, source_version, received_at FROM messages WHERE channel_id = $1 AND source_id = $2 AND id <> $3', [
      m.channel_id,
      m.source_id,
      messageId,
    ]);
    if (others.length === 0) return [];
    const acked = await this.query<{ message_seq: number; destination_id: string }>(
      `SELECT message_seq, destination_id FROM deliveries WHERE message_seq = ANY($1::bigint[]) AND status = 'acknowledged' AND follows IS NULL ORDER BY id`,
      [others.map((o) => o.seq)],
    );
    return newerOf(m, others, (seq) => acked.filter((a) => a.message_seq === seq).map((a) => a.destination_id));
  }

  async getMessage(id: string): Promise<MessageView | undefined> {
    const { value, ops } = await this.withUnwritten(async () => {
      const [m] = await this.query('SELECT * FROM messages WHERE id = $1', [id]);
      if (!m) return undefined;
      const deliveries = await this.query('SELECT * FROM deliveries WHERE message_seq = $1 ORDER BY id', [m.seq]);
      const attempts = await this.query('SELECT * FROM attempts WHERE delivery_id = ANY($1::bigint[]) ORDER BY id', [deliveries.map((d) => d.id)]);
      return { m, deliveries, attempts };
    });
    if (!value) return undefined;
    return messageView(
      value.m,
      overlay(value.deliveries, ops),
      (deliveryId) =>
        withUnwrittenAttempts(
          deliveryId,
          value.attempts.filter((a) => a.delivery_id === deliveryId),
          ops,
        ),
      this.opener,
    );
  }

  async findSubmission(channelId: string, by: { id: string } | { idempotencyKey: string }): Promise<Submission | undefined> {
    const [row] =
      'id' in by
        ? await this.query('SELECT * FROM submissions WHERE channel_id = $1 AND id = $2 ORDER BY seq LIMIT 1', [channelId, by.id])
        : await this.query('SELECT * FROM submissions WHERE channel_id = $1 AND idempotency_key = $2', [channelId, by.idempotencyKey]);
    return row ? submissionOf(row as Record<string, string>) : undefined;
  }

  async listMessages(q: MessageQuery): Promise<{ messages: MessageSummary[]; nextCursor?: string }> {
    const args: Array<string | number> = [];
    const param = (v: string | number) => {
      args.push(v);
      return `$${args.length}`;
    };
    const where = listConditions(q, param);
    const limit = param(q.limit + 1);
    const { value, ops } = await this.withUnwritten(async () => {
      const rows = await this.query(
        `SELECT m.seq, m.id, m.channel_id, m.source_id, m.source_version, m.received_at, m.filtered_by FROM messages m
          ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY m.seq DESC LIMIT ${limit}`,
        args,
      );
      const statuses = await this.query('SELECT id, message_seq, status, control_id, round FROM deliveries WHERE message_seq = ANY($1::bigint[])', [
        rows.slice(0, q.limit).map((r) => r.seq),
      ]);
      return { rows, statuses };
    });
    return pageOf(value.rows, q.limit, (seq) =>
      overlay(
        value.statuses.filter((d) => d.message_seq === seq),
        ops,
      ).map((r) => r.status as DeliveryStatus),
    );
  }

  async channelCounts(): Promise<ChannelCounts[]> {
    const totals = await this.query<{ channel_id: string; n: number }>('SELECT channel_id, count(*)::int AS n FROM messages GROUP BY channel_id');
    const byStatus = await this.query<{ channel_id: string; status: MessageStatus; n: number }>(
      'SELECT channel_id, status, count(*)::int AS n FROM deliveries GROUP BY channel_id, status',
    );
    return channelCountsOf(totals, byStatus);
  }

  async ping(): Promise<boolean> {
    try {
      await this.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.backlogTimer);
    await this.vacuuming;
    await this.writes.close();
    await this.pool.end();
  }
}
