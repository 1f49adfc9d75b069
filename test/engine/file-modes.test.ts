import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { makeEvent } from '../support/events.ts';
import { startTestEngine, webhookToMllpChannel } from '../support/in-process.ts';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('data directory and store file modes', () => {
  test('a new data directory is 0700 and the store files 0600 whatever the umask', async () => {
    const before = process.umask(0o022);
    try {
      const t = await startTestEngine({ 'to-lis.yaml': webhookToMllpChannel('to-lis', 9) });
      try {
        assert.equal((await t.post('/channels/to-lis', makeEvent('res_MODES_1'))).status, 201);
        await t.engine.store.flush();
        const data = join(t.dir, 'data');
        assert.equal(mode(data), 0o700);
        for (const f of ['conduit.db', 'conduit.db-wal', 'conduit.db-shm']) assert.equal(mode(join(data, f)), 0o600, f);
      } finally {
        await t.stop();
      }
    } finally {
      process.umask(before);
    }
  });

  test('an existing world-readable data directory and database are made owner-only, with a warning', async () => {
    const before = process.umask(0o022);
    try {
      // A data directory left by an older version: 0755, and 0644 files.
      const outer = mkdtempSync(join(tmpdir(), 'conduit-modes-'));
      const data = join(outer, 'data');
      mkdirSync(data, { mode: 0o755 });
      writeFileSync(join(data, 'conduit.db'), '', { mode: 0o644 });
      writeFileSync(join(data, 'conduit.db-wal'), '', { mode: 0o644 });
      const t = await startTestEngine({ 'to-lis.yaml': webhookToMllpChannel('to-lis', 9) }, { dataDir: data });
      try {
        assert.equal(mode(data), 0o700);
        assert.equal(mode(join(data, 'conduit.db')), 0o600);
        assert.equal(mode(join(data, 'conduit.db-wal')), 0o600);
        const warnings = t.logs.map((l) => JSON.parse(l) as { level: number; path?: string; msg: string }).filter((l) => l.level === 40 && l.path);
        assert.deepEqual(warnings.map((w) => w.path).sort(), [data, join(data, 'conduit.db'), join(data, 'conduit.db-wal')].sort());
      } finally {
        await t.stop();
        rmSync(outer, { recursive: true, force: true });
      }
    } finally {
      process.umask(before);
    }
  });
});
