import pg from 'pg';
import type { TokenRecord } from '../../access/tokens.ts';
import { type AuditRow, type ChainKey, chainRows } from '../../audit/chain.ts';
import type { AuditEvent } from '../../audit/event.ts';
import type { AccessStore, AuditAnchor, AuditQuery } from '../../audit/store.ts';
import { ConduitError } from '../../errors.ts';
import { type AccessRow, auditConditions, auditRowOf, contiguous, prunedEvent, tokenOf } from '../access-rows.ts';
import { connectionConfig, inTransaction, redactedUrl } from './connection.ts';

/** Appends take this advisory lock (transaction-scoped): the chain has one head, whichever instance writes. */
const AUDIT_LOCK = 0x41554454; // 'AUDT'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tokens (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  role        text NOT NULL,
  tenant      text,
  secret_hash text NOT NULL UNIQUE,
  created_at  text NOT NULL,
  created_by  text NOT NULL,
  expires_at  text,
  revoked_at  text
);
CREATE UNIQUE INDEX IF NOT EXISTS tokens_active_name ON tokens (name) WHERE revoked_at IS NULL;
CREATE TABLE IF NOT EXISTS audit (
  seq       bigint PRIMARY KEY,
  -- ISO 8601 text, exactly as hashed into the chain.
  at        text NOT NULL,
  action    text NOT NULL,
  outcome   text NOT NULL,
  actor     text NOT NULL,
  target    text,
  ip        text,
  detail    text,
  prev_hash text NOT NULL,
  hash      text NOT NULL,
  key_id    text
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE TABLE IF NOT EXISTS audit_anchor (
  one  int PRIMARY KEY CHECK (one = 1),
  seq  bigint NOT NULL,
  hash text NOT NULL
);
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$;
DROP TRIGGER IF EXISTS audit_append_only ON audit;
CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
`;

/** Tokens and the audit trail in the PostgreSQL store's database, shared by every instance. */
export class PostgresAccessStore implements AccessStore {
  private readonly pool: pg.Pool;
  private readonly ready: Promise<void>;
  private readonly url: string;
  private closed = false;

  constructor(url: string) {
    this.url = redactedUrl(url);
    this.pool = new pg.Pool({ ...connectionConfig(url), max: 2, idleTimeoutMillis: 30_000 });
    this.pool.on('error', () => {});
    this.ready = this.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
      await c.query(SCHEMA);
    });
    this.ready.catch(() => {});
  }

  private transaction<T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, this.url, work);
  }

  private async query(text: string, values?: unknown[]): Promise<AccessRow[]> {
    await this.ready;
    return (await this.pool.query(text, values)).rows as AccessRow[];
  }

  private async last(c: pg.PoolClient): Promise<{ seq: number; hash: string } | undefined> {
    const row = (await c.query('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1')).rows[0] as { seq: string; hash: string } | undefined;
    if (row) return { seq: Number(row.seq), hash: row.hash };
    const anchor = (await c.query('SELECT seq, hash FROM audit_anchor WHERE one = 1')).rows[0] as { seq: string; hash: string } | undefined;
    return anchor ? { seq: Number(anchor.seq), hash: anchor.hash } : undefined;
  }

  private async insert(c: pg.PoolClient, rows: readonly AuditRow[]): Promise<void> {
    await c.query(
      `INSERT INTO audit (seq, at, action, outcome, actor, target, ip, detail, prev_hash, hash, key_id)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])`,
      [
        rows.map((r) => r.seq),
        rows.map((r) => r.at),
        rows.map((r) => r.action),
        rows.map((r) => r.outcome),
        rows.map((r) => r.actor),
        rows.map((r) => r.target ?? null),
        rows.map((r) => r.ip ?? null),
        rows.map((r) => (r.detail ? JSON.stringify(r.detail) : null)),
        rows.map((r) => r.prevHash),
        rows.map((r) => r.hash),
        rows.map((r) => r.keyId ?? null),
      ],
    );
  }

  async appendAudit(events: ReadonlyArray<{ event: AuditEvent; at: string }>, key: ChainKey | undefined): Promise<void> {
    if (events.length === 0) return;
    await this.ready;
    await this.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
      await this.insert(c, chainRows(await this.last(c), events, key));
    });
  }

  async queryAudit(q: AuditQuery): Promise<AuditRow[]> {
    const args: Array<string | number> = [];
    const where = auditConditions(q, (v) => {
      args.push(v);
      return `$${args.length}`;
    });
    args.push(q.limit);
    const order = q.afterSeq !== undefined ? 'ASC' : 'DESC';
    return (await this.query(`SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${order} LIMIT $${args.length}`, args)).map(
      (r) => auditRowOf({ ...r, seq: Number(r.seq) }),
    );
  }

  async walkAudit(afterSeq: number, limit: number): Promise<AuditRow[]> {
    return (await this.query('SELECT * FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2', [afterSeq, limit])).map((r) => auditRowOf({ ...r, seq: Number(r.seq) }));
  }

  async auditAnchor(): Promise<AuditAnchor | undefined> {
    const [a] = await this.query('SELECT seq, hash FROM audit_anchor WHERE one = 1');
    return a ? { seq: Number(a.seq), hash: a.hash as string } : undefined;
  }

  async pruneAudit(before: string, limit: number, key: ChainKey | undefined): Promise<number> {
    await this.ready;
    return this.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
      const doomed = (await c.query('SELECT seq, hash FROM audit WHERE at < $1 ORDER BY seq LIMIT $2', [before, limit])).rows.map((r: { seq: string; hash: string }) => ({
        seq: Number(r.seq),
        hash: r.hash,
      }));
      const first = (await c.query('SELECT min(seq) AS seq FROM audit')).rows[0] as { seq: string | null };
      const firstSeq = first.seq === null ? null : Number(first.seq);
      const through = contiguous(doomed, firstSeq);
      if (!through) return 0;
      const n = through.seq - (firstSeq ?? through.seq) + 1;
      await c.query('DELETE FROM audit WHERE seq <= $1', [through.seq]);
      await c.query('INSERT INTO audit_anchor (one, seq, hash) VALUES (1, $1, $2) ON CONFLICT (one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash', [
        through.seq,
        through.hash,
      ]);
      await this.insert(c, chainRows(await this.last(c), [{ event: prunedEvent(through, n, before), at: new Date().toISOString() }], key));
      return n;
    });
  }

  async insertToken(t: TokenRecord, secretHash: string): Promise<void> {
    try {
      await this.query(
        'INSERT INTO tokens (id, name, role, tenant, secret_hash, created_at, created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
        [t.id, t.name, t.role, t.tenant ?? null, secretHash, t.createdAt, t.createdBy, t.expiresAt ?? null],
      );
    } catch (e) {
      if ((e as { code?: string; constraint?: string }).constraint === 'tokens_active_name') {
        throw new ConduitError('TOKEN_NAME_TAKEN', `a token named '${t.name}' exists and is not revoked; revoke it first or choose another name`, { location: 'name' });
      }
      throw e;
    }
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (await this.query('SELECT * FROM tokens ORDER BY created_at, id')).map(tokenOf);
  }

  async tokenByHash(secretHash: string): Promise<TokenRecord | undefined> {
    const [row] = await this.query('SELECT * FROM tokens WHERE secret_hash = $1', [secretHash]);
    return row ? tokenOf(row) : undefined;
  }

  async revokeToken(idOrName: string, at: string): Promise<TokenRecord | undefined> {
    await this.ready;
    return this.transaction(async (c) => {
      const row = (
        await c.query('SELECT * FROM tokens WHERE id = $1 OR (name = $1 AND revoked_at IS NULL) ORDER BY revoked_at IS NULL DESC LIMIT 1 FOR UPDATE', [idOrName])
      ).rows[0] as AccessRow | undefined;
      if (!row) return undefined;
      if (row.revoked_at === null) await c.query('UPDATE tokens SET revoked_at = $1 WHERE id = $2', [at, row.id]);
      return tokenOf({ ...row, revoked_at: row.revoked_at ?? at });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
