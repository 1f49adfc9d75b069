/**
 * Issue 8, faults of the store: a full disk under a running engine. The data directory is on a
 * small tmpfs (needs root to mount; skipped loudly otherwise), filled up with a real file. The
 * process keeps running: intake answers 503 STORE_FAILED, deliveries pause, /health says
 * `database: degraded`, admin reads keep working; once space is back, everything resumes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildAck, DEFAULT_DELIMITERS, Hl7Message } from '../../src/protocols/hl7v2/index.ts';
import { MllpServer } from '../../src/protocols/mllp/index.ts';
import { makeEvent } from '../support/events.ts';
import { releasedPort, startTestEngine, webhookToMllpChannel } from '../support/in-process.ts';

type Health = { status: string; components: Record<string, string>; details?: Record<string, Record<string, unknown>> };

/** Mounts a tmpfs of `size` on a fresh directory; undefined (with the reason) when not permitted. */
function mountTmpfs(size: string): { dir: string; unmount(): void } | { refused: string } {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return { refused: String((e as { stderr?: Buffer }).stderr ?? e).trim() };
  }
  return {
    dir,
    unmount() {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes a file until the filesystem has no space left. */
function fillDisk(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
}

test('disk full: the engine keeps running, intake 503 STORE_FAILED, deliveries pause, health degraded, admin reads work; all resumes after', { timeout: 60_000 }, async (t) => {
  const fs = mountTmpfs('16m');
  if ('refused' in fs) {
    t.skip(`SKIPPED: mounting a small tmpfs for a real full disk needs root (mount said: ${fs.refused})`);
    return;
  }
  const port = await releasedPort();
  const dataDir = join(fs.dir, 'data');
  mkdirSync(dataDir);
  const e = await startTestEngine(
    { 'to-lis.yaml': webhookToMllpChannel('to-lis', port, 'maxAttempts: 1000\n      initialBackoffMs: 20\n      maxBackoffMs: 50') },
    { dataDir },
  );
  const lis = new MllpServer();
  const received: string[] = [];
  t.after(async () => {
    await e.stop();
    await lis.close();
    fs.unmount();
  });
  const rejections: unknown[] = [];
  const onRejection = (r: unknown) => rejections.push(r);
  process.on('unhandledRejection', onRejection);
  t.after(() => process.off('unhandledRejection', onRejection));

  // Stored while there is space; the LIS is down, so it waits for its retries.
  const first = await e.post('/channels/to-lis', makeEvent('res_FULL_1'));
  assert.equal(first.status, 201);
  const { messageId } = (await first.json()) as { messageId: string };
  const filler = join(fs.dir, 'filler');
  fillDisk(filler);

  let h: Health;
  do {
    await sleep(20);
    h = (await (await e.admin("/health")).json()) as Health;
  } while (h.components.database !== 'degraded');
  assert.equal(h.status, 'degraded');
  assert.match(String(h.details?.database?.reason), /full/);

  const refused = await e.post('/channels/to-lis', makeEvent('res_FULL_2'));
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '5');
  assert.match(JSON.stringify(await refused.json()), /STORE_FAILED/);

  // Admin reads work while writes fail; a read of one message must be recorded in the audit
  // trail first (on the same full disk), so it is refused, saying why.
  const view = await e.admin(`/api/messages/${messageId}`);
  assert.equal(view.status, 503);
  assert.match(JSON.stringify(await view.json()), /AUDIT_FAILED/);
  const list = await e.admin('/api/messages');
  assert.equal(list.status, 200);
  assert.deepEqual(((await list.json()) as { messages: Array<{ id: string }> }).messages.map((m) => m.id), [messageId]);
  const channels = await e.admin('/api/channels');
  assert.equal(channels.status, 200);
  const lane = (await channels.json()) as { channels: Array<{ destinations: Array<{ state: string }> }> };
  // The lane pauses: with the LIS up now, nothing may be sent that the store cannot record.
  await lis.listen({
    host: '127.0.0.1',
    port,
    maxFrameBytes: 1 << 20,
    handler: async (frame) => {
      const m = Hl7Message.parse(frame.toString('utf8'));
      received.push(m.controlId);
      return buildAck(m, DEFAULT_DELIMITERS, { code: 'AA', controlId: `A${received.length}`, timestamp: '20261122' });
    },
  });
  let state = lane.channels[0]!.destinations[0]!.state;
  while (state !== 'paused') {
    await sleep(20);
    state = ((await (await e.admin('/api/channels')).json()) as typeof lane).channels[0]!.destinations[0]!.state;
  }
  assert.deepEqual(received, [], 'nothing sent while the store cannot record it');

  unlinkSync(filler);
  await e.drained();
  assert.equal(received.length, 1);
  h = (await (await e.admin("/health")).json()) as Health;
  assert.equal(h.components.database, 'healthy');
  assert.equal(h.status, 'healthy');
  const after = (await (await e.admin(`/api/messages/${messageId}`)).json()) as { status: string };
  assert.equal(after.status, 'acknowledged');
  assert.equal((await e.post('/channels/to-lis', makeEvent('res_FULL_2'))).status, 201);
  assert.deepEqual(rejections, []);
  assert.ok(e.logs.some((l) => l.includes('the store cannot write')));
  assert.ok(e.logs.some((l) => l.includes('the store writes again')));
});
