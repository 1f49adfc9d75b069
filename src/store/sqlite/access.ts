import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { TokenRecord } from '../../access/tokens.ts';
import { type AuditRow, type ChainKey, chainRows } from '../../audit/chain.ts';
import type { AuditEvent } from '../../audit/event.ts';
import type { AccessStore, AuditAnchor, AuditQuery } from '../../audit/store.ts';
import { ConduitError } from '../../errors.ts';
import { type AccessRow, auditConditions, auditRowOf, contiguous, prunedEvent, tokenOf } from '../access-rows.ts';

/** The access database next to the store: tokens and the audit trail, in a file of their own. */
export const ACCESS_FILE = 'access.db';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tokens (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  role        TEXT NOT NULL,
  tenant      TEXT,
  -- SHA-256 of the secret, hex: the secret itself is shown once and never stored.
  secret_hash TEXT NOT NULL UNIQUE,
  created_at  TEXT NOT NULL,
  created_by  TEXT NOT NULL,
  expires_at  TEXT,
  revoked_at  TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS tokens_active_name ON tokens (name) WHERE revoked_at IS NULL;

CREATE TABLE IF NOT EXISTS audit (
  seq       INTEGER PRIMARY KEY,
  at        TEXT NOT NULL,
  action    TEXT NOT NULL,
  outcome   TEXT NOT NULL,
  actor     TEXT NOT NULL,
  target    TEXT,
  ip        TEXT,
  detail    TEXT,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL,
  key_id    TEXT
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
-- Where retention's removals left the chain (one row).
CREATE TABLE IF NOT EXISTS audit_anchor (
  one  INTEGER PRIMARY KEY CHECK (one = 1),
  seq  INTEGER NOT NULL,
  hash TEXT NOT NULL
);
-- Append-only from SQL too: an UPDATE is refused. (Retention deletes; a deletion shows in the chain.)
CREATE TRIGGER IF NOT EXISTS audit_append_only BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
`;

/**
 * Tokens and the audit trail on SQLite, in their own file (the message store's writer thread
 * holds its file's write lock in rounds; these writes are few and must not wait behind them).
 * Every write is a short IMMEDIATE transaction, so the engine and the CLI can write at once.
 */
export class SqliteAccessStore implements AccessStore {
  private readonly db: DatabaseSync;

  constructor(file: string) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    this.db = new DatabaseSync(file);
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec('PRAGMA synchronous = FULL');
    this.db.exec('PRAGMA busy_timeout = 5000');
    this.db.exec(SCHEMA);
  }

  private transaction<T>(work: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.db.exec('COMMIT');
      return result;
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    }
  }

  private last(): { seq: number; hash: string } | undefined {
    const row = this.db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    if (row) return row;
    const anchor = this.db.prepare('SELECT seq, hash FROM audit_anchor WHERE one = 1').get() as { seq: number; hash: string } | undefined;
    return anchor ? { seq: anchor.seq, hash: anchor.hash } : undefined;
  }

  private insert(rows: readonly AuditRow[]): void {
    const stmt = this.db.prepare(
      'INSERT INTO audit (seq, at, action, outcome, actor, target, ip, detail, prev_hash, hash, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (const r of rows) {
      stmt.run(r.seq, r.at, r.action, r.outcome, r.actor, r.target ?? null, r.ip ?? null, r.detail ? JSON.stringify(r.detail) : null, r.prevHash, r.hash, r.keyId ?? null);
    }
  }

  async appendAudit(events: ReadonlyArray<{ event: AuditEvent; at: string }>, key: ChainKey | undefined): Promise<void> {
    if (events.length === 0) return;
    this.transaction(() => this.insert(chainRows(this.last(), events, key)));
  }

  async queryAudit(q: AuditQuery): Promise<AuditRow[]> {
    const args: Array<string | number> = [];
    const where = auditConditions(q, (v) => {
      args.push(v);
      return '?';
    });
    const order = q.afterSeq !== undefined ? 'ASC' : 'DESC';
    const rows = this.db
      .prepare(`SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${order} LIMIT ?`)
      .all(...args, q.limit) as AccessRow[];
    return rows.map(auditRowOf);
  }

  async walkAudit(afterSeq: number, limit: number): Promise<AuditRow[]> {
    return (this.db.prepare('SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?').all(afterSeq, limit) as AccessRow[]).map(auditRowOf);
  }

  async auditAnchor(): Promise<AuditAnchor | undefined> {
    const a = this.db.prepare('SELECT seq, hash FROM audit_anchor WHERE one = 1').get() as { seq: number; hash: string } | undefined;
    return a ? { seq: a.seq, hash: a.hash } : undefined;
  }

  async pruneAudit(before: string, limit: number, key: ChainKey | undefined): Promise<number> {
    return this.transaction(() => {
      const doomed = this.db.prepare('SELECT seq, hash FROM audit WHERE at < ? ORDER BY seq LIMIT ?').all(before, limit) as Array<{ seq: number; hash: string }>;
      // Only a prefix of the chain may go: a row kept before a removed one would leave a hole.
      const first = this.db.prepare('SELECT min(seq) AS seq FROM audit').get() as { seq: number | null };
      const through = contiguous(doomed, first.seq);
      if (!through) return 0;
      const n = through.seq - (first.seq ?? through.seq) + 1;
      this.db.prepare('DELETE FROM audit WHERE seq <= ?').run(through.seq);
      this.db.prepare('INSERT INTO audit_anchor (one, seq, hash) VALUES (1, ?, ?) ON CONFLICT (one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash').run(through.seq, through.hash);
      this.insert(chainRows(this.last(), [{ event: prunedEvent(through, n, before), at: new Date().toISOString() }], key));
      return n;
    });
  }

  async insertToken(t: TokenRecord, secretHash: string): Promise<void> {
    try {
      this.db
        .prepare('INSERT INTO tokens (id, name, role, tenant, secret_hash, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(t.id, t.name, t.role, t.tenant ?? null, secretHash, t.createdAt, t.createdBy, t.expiresAt ?? null);
    } catch (e) {
      if (/UNIQUE constraint failed: tokens\.name/.test(String((e as Error).message))) {
        throw new ConduitError('TOKEN_NAME_TAKEN', `a token named '${t.name}' exists and is not revoked; revoke it first or choose another name`, { location: 'name' });
      }
      throw e;
    }
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (this.db.prepare('SELECT * FROM tokens ORDER BY created_at, id').all() as AccessRow[]).map(tokenOf);
  }

  async tokenByHash(secretHash: string): Promise<TokenRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM tokens WHERE secret_hash = ?').get(secretHash) as AccessRow | undefined;
    return row ? tokenOf(row) : undefined;
  }

  async revokeToken(idOrName: string, at: string): Promise<TokenRecord | undefined> {
    return this.transaction(() => {
      const row = this.db.prepare('SELECT * FROM tokens WHERE id = ? OR (name = ? AND revoked_at IS NULL) ORDER BY revoked_at IS NULL DESC LIMIT 1').get(idOrName, idOrName) as
        | AccessRow
        | undefined;
      if (!row) return undefined;
      if (row.revoked_at === null) this.db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ?').run(at, row.id as string);
      return tokenOf({ ...row, revoked_at: row.revoked_at ?? at });
    });
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }
}
