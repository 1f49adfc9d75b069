import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const script = fileURLToPath(new URL('../fixtures/threads/report-heaps.ts', import.meta.url));

test("a thread's young generation is the size it was started with, not the main thread's --max-semi-space-size", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--max-semi-space-size=8', script]);
  const heaps = JSON.parse(stdout) as { main: number; thread: number };
  // 6 MB of young generation: two semi-spaces of 2 MB. Before startThreadBeside reset the flag, the thread got 16.
  assert.ok(heaps.thread <= 4, `the thread's new space grew to ${heaps.thread} MB`);
  // The main thread keeps the flag's size (two semi-spaces of 8 MB).
  assert.ok(heaps.main >= 12, `the main thread's new space is ${heaps.main} MB`);
});
