/**
 * Issue 11: the audit trail is append-only and hash-chained, on both stores. `verifyTrail`
 * (what `conduit audit verify` and GET /api/audit/verify run) finds an edited row, a deleted
 * one, a forged one, and rows removed from the start without retention's record of it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, test, type TestContext } from 'node:test';
import pg from 'pg';
import { pino } from 'pino';
import { type AuditRow, type ChainKey, chainRows, rowHash } from '../../src/audit/chain.ts';
import type { AuditEvent } from '../../src/audit/event.ts';
import type { AccessStore } from '../../src/audit/store.ts';
import { AuditTrail, verifyTrail } from '../../src/audit/trail.ts';
import { PostgresAccessStore } from '../../src/store/postgres/access.ts';
import { SqliteAccessStore } from '../../src/store/sqlite/access.ts';
import { postgresUnavailable, tempDatabase } from '../support/postgres.ts';

const log = pino({ level: 'silent' });
const KEY: ChainKey = { id: 'k1', key: Buffer.alloc(32, 7) };

function event(i: number): AuditEvent {
  return { action: 'message.content.read', outcome: 'success', actor: 'lab-ops', target: `message:M${i}`, ip: '127.0.0.1', detail: { channel: 'to-lis' } };
}

/** A backend and a way to run SQL on it past the engine (as someone with the database file or a superuser would). */
interface Backend {
  open(): AccessStore;
  sql(statement: string, values?: unknown[]): Promise<void>;
}

function sqliteBackend(t: TestContext): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-audit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'access.db');
  return {
    open: () => new SqliteAccessStore(file),
    async sql(statement, values = []) {
      const db = new DatabaseSync(file);
      try {
        db.prepare(statement).run(...(values as Array<string | number | null>));
      } finally {
        db.close();
      }
    },
  };
}

async function postgresBackend(t: TestContext): Promise<Backend> {
  const opened: AccessStore[] = [];
  const url = await tempDatabase(t, async () => {
    await Promise.all(opened.map((s) => s.close().catch(() => {})));
  });
  return {
    open: () => {
      const s = new PostgresAccessStore(url);
      opened.push(s);
      return s;
    },
    async sql(statement, values = []) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(statement, values);
      } finally {
        await c.end();
      }
    },
  };
}

const unavailable = await postgresUnavailable();

for (const [name, backend] of [
  ['SQLite', async (t: TestContext) => sqliteBackend(t)],
  ['PostgreSQL', postgresBackend],
] as const) {
  describe(`audit trail on ${name}`, { skip: name === 'PostgreSQL' ? unavailable : undefined }, () => {
    async function filled(t: TestContext, n: number, key: ChainKey | undefined = KEY): Promise<{ b: Backend; store: AccessStore; trail: AuditTrail }> {
      const b = await backend(t);
      const store = b.open();
      t.after(() => store.close());
      const trail = new AuditTrail(store, key, log);
      await Promise.all(Array.from({ length: n }, (_, i) => trail.record(event(i + 1))));
      return { b, store, trail };
    }
    const keys = new Map([[KEY.id, KEY.key]]);

    test('events recorded together are chained in order and verify', async (t) => {
      const { store } = await filled(t, 25);
      const v = await verifyTrail(store, keys);
      assert.deepEqual(v.problems, []);
      assert.equal(v.rows, 25);
      assert.equal(v.head.seq, 25);
      const rows = await store.queryAudit({ limit: 5 });
      assert.deepEqual(
        rows.map((r) => r.seq),
        [25, 24, 23, 22, 21],
      );
      assert.equal(rows[0]!.keyId, 'k1');
      assert.deepEqual(rows[0]!.detail, { channel: 'to-lis' });
    });

    test('an UPDATE is refused by the database itself', async (t) => {
      const { b } = await filled(t, 2);
      await assert.rejects(b.sql(`UPDATE audit SET actor = 'someone-else' WHERE seq = 1`), /append-only/);
    });

    test('an edited row is found (with the trigger dropped first)', async (t) => {
      const { b, store } = await filled(t, 10);
      await b.sql(name === 'SQLite' ? 'DROP TRIGGER audit_append_only' : 'DROP TRIGGER audit_append_only ON audit');
      await b.sql(`UPDATE audit SET target = 'message:OTHER' WHERE seq = 4`);
      const v = await verifyTrail(store, keys);
      assert.deepEqual(
        v.problems.map((p) => [p.seq, p.problem]),
        [[4, 'edited']],
      );
      assert.match(v.problems[0]!.message, /row 4 \(message\.content\.read at .*\) does not match its hash/);
    });

    test('a deleted row is found', async (t) => {
      const { b, store } = await filled(t, 10);
      await b.sql('DELETE FROM audit WHERE seq IN (5, 6)');
      const v = await verifyTrail(store, keys);
      assert.deepEqual(
        v.problems.map((p) => [p.seq, p.problem]),
        [[7, 'deleted']],
      );
      assert.match(v.problems[0]!.message, /rows 5 to 6 are missing/);
    });

    test('a forged row is found even when every later hash is recomputed, unless the forger has the key', async (t) => {
      const { b, store } = await filled(t, 6);
      const rows = await store.walkAudit(0, 100);
      // The forger replaces row 3 and rehashes 3..6 so the chain links up again, without the key.
      const forged: AuditRow[] = [];
      let prev = rows[1]!.hash;
      for (const r of rows.slice(2)) {
        const { hash: _old, ...rest } = { ...r, ...(r.seq === 3 ? { actor: 'nobody' } : {}), prevHash: prev };
        const hash = rowHash(rest, undefined);
        forged.push({ ...rest, hash });
        prev = hash;
      }
      await b.sql('DELETE FROM audit WHERE seq >= 3');
      for (const r of forged) {
        await b.sql(
          `INSERT INTO audit (seq, at, action, outcome, actor, target, ip, detail, prev_hash, hash, key_id) VALUES (${name === 'SQLite' ? '?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?' : '$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11'})`,
          [r.seq, r.at, r.action, r.outcome, r.actor, r.target ?? null, r.ip ?? null, JSON.stringify(r.detail), r.prevHash, r.hash, r.keyId ?? null],
        );
      }
      const v = await verifyTrail(store, keys);
      assert.deepEqual(
        v.problems.map((p) => [p.seq, p.problem]),
        [
          [3, 'edited'],
          [4, 'edited'],
          [5, 'edited'],
          [6, 'edited'],
        ],
      );
      // Without the key configured the rows cannot be checked: said so, never passed silently.
      const blind = await verifyTrail(store, new Map());
      assert.ok(blind.problems.length > 0 && blind.problems.every((p) => p.problem === 'unverifiable' || p.problem === 'edited'));
    });

    test('retention removes the oldest rows and records where the chain now starts; removing more by hand is found', async (t) => {
      const { b, store, trail } = await filled(t, 8);
      // Everything is older than a minute from now.
      const removed = await trail.prune(new Date(Date.now() + 60_000).toISOString());
      assert.equal(removed, 8);
      const v = await verifyTrail(store, keys);
      assert.deepEqual(v.problems, []);
      const [pruned] = await store.queryAudit({ action: 'audit.pruned', limit: 1 });
      assert.equal(pruned!.detail?.throughSeq, 8);
      await trail.record(event(99));
      assert.deepEqual((await verifyTrail(store, keys)).problems, []);
      // Someone deletes the retention row too and moves nothing: the start no longer matches.
      await b.sql(`DELETE FROM audit WHERE action = 'audit.pruned'`);
      const after = await verifyTrail(store, keys);
      assert.ok(after.problems.some((p) => p.problem === 'anchor'));
    });

    test('rows deleted from the start without retention are found', async (t) => {
      const { b, store } = await filled(t, 5);
      await b.sql('DELETE FROM audit WHERE seq <= 2');
      const v = await verifyTrail(store, keys);
      assert.deepEqual(
        v.problems.map((p) => [p.seq, p.problem]),
        [[3, 'deleted']],
      );
    });

    test('two writers (the engine and the CLI) never fork the chain', async (t) => {
      const b = await backend(t);
      const one = b.open();
      const two = b.open();
      t.after(async () => {
        await one.close();
        await two.close();
      });
      const a = new AuditTrail(one, KEY, log);
      const c = new AuditTrail(two, KEY, log);
      await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : c).record(event(i))));
      const v = await verifyTrail(one, keys);
      assert.deepEqual(v.problems, []);
      assert.equal(v.rows, 40);
    });
  });
}

test('chainRows: each row hashes the one before; the first follows the genesis', () => {
  const rows = chainRows(undefined, [0, 1].map((i) => ({ event: event(i), at: '2026-12-07T00:00:00.000Z' })), undefined);
  assert.equal(rows[0]!.prevHash, '0'.repeat(64));
  assert.equal(rows[1]!.prevHash, rows[0]!.hash);
  assert.notEqual(rowHash(rows[0]!, undefined), rowHash(rows[0]!, KEY.key));
});
