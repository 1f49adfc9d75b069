/**
 * `conduit audit verify` on the engine's data directory: 0 and the head on an intact trail;
 * 1 naming the row after someone edits the database file; with a data key, a chain recomputed
 * without the key is found too.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { rowHash } from '../../src/audit/chain.ts';
import { conduit, tempFiles } from '../cli/support.ts';

test('conduit audit verify: ok, then an edited row and an unkeyed forgery are named, exit 1', (t) => {
  const dir = tempFiles(t).dir;
  const data = join(dir, 'data');
  const keyFile = join(dir, 'data.keys');
  writeFileSync(keyFile, `k1 ${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  const args = ['--data', data, '--data-key-file', keyFile];
  for (const name of ['one', 'two', 'three']) assert.equal(conduit(['token', 'create', '--name', name, '--role', 'viewer', ...args]).status, 0);
  const ok = conduit(['audit', 'verify', ...args]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /audit trail: ok, 3 rows verified; head 3:[0-9a-f]{64}/);

  const db = new DatabaseSync(join(data, 'access.db'));
  db.exec('DROP TRIGGER audit_append_only');
  db.exec(`UPDATE audit SET actor = 'someone-else' WHERE seq = 2`);
  db.close();
  const edited = conduit(['audit', 'verify', ...args]);
  assert.equal(edited.status, 1);
  assert.match(edited.stderr, /edited: row 2 \(token\.create at .*\) does not match its hash/);

  // A forger without the key replaces row 2 with an unkeyed row that links up.
  const db2 = new DatabaseSync(join(data, 'access.db'));
  // (Every open by Conduit puts the trigger back.)
  db2.exec('DROP TRIGGER audit_append_only');
  const row1 = db2.prepare('SELECT hash FROM audit WHERE seq = 1').get() as { hash: string };
  const row2 = db2.prepare('SELECT * FROM audit WHERE seq = 2').get() as Record<string, string | number>;
  const forged = {
    seq: 2,
    at: row2.at as string,
    action: 'token.create',
    outcome: 'success' as const,
    actor: 'someone-else',
    target: row2.target as string,
    prevHash: row1.hash,
  };
  db2.prepare('UPDATE audit SET actor = ?, prev_hash = ?, hash = ?, key_id = NULL, detail = NULL, ip = NULL WHERE seq = 2').run('someone-else', row1.hash, rowHash(forged, undefined));
  db2.close();
  const forgedRun = conduit(['audit', 'verify', ...args]);
  assert.equal(forgedRun.status, 1);
  assert.match(forgedRun.stderr, /row 2 is not keyed though the rows before it are/);
  // The verify runs were recorded too.
  const rows = new DatabaseSync(join(data, 'access.db'));
  const actions = (rows.prepare('SELECT action, outcome FROM audit ORDER BY seq').all() as Array<{ action: string; outcome: string }>).map((r) => `${r.action}:${r.outcome}`);
  rows.close();
  assert.deepEqual(actions.slice(3), ['audit.verify:success', 'audit.verify:failure', 'audit.verify:failure']);
});

test('conduit audit verify with a key file that cannot be read says so, exit 1', (t) => {
  const dir = tempFiles(t).dir;
  const r = conduit(['audit', 'verify', '--data', join(dir, 'data'), '--data-key-file', join(dir, 'missing.keys')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^conduit: .*missing\.keys/);
});
