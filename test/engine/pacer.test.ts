/** IntakePacer (src/engine/pacer.ts): inputs wait while the lanes have no room, and go in arrival order when woken. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as turn, setTimeout as sleep } from 'node:timers/promises';
import { IntakePacer } from '../../src/engine/pacer.ts';

test('inputs go at once while there is room; else they wait, and go in arrival order as room comes (wake)', async () => {
  let room = 1;
  const pacer = new IntakePacer(() => room, { maxWaitMs: 60_000 });
  const gone: number[] = [];
  await pacer.enter();
  room = 0;
  // Each input that goes takes a place, as its commit would.
  const go = (n: number) => () => {
    gone.push(n);
    room--;
  };
  const waiting = [1, 2, 3].map((n) => pacer.enter().then(go(n)));
  pacer.wake();
  await sleep(10);
  assert.deepEqual(gone, [], 'no room: all wait');
  room = 2;
  pacer.wake();
  await sleep(10);
  assert.deepEqual(gone, [1, 2], 'two places: the first two go');
  room = 0;
  // A new input queues behind the one still waiting, even when the lanes have room as it comes.
  const late = pacer.enter().then(go(4));
  room = 5;
  pacer.wake();
  await Promise.all([...waiting, late]);
  assert.deepEqual(gone, [1, 2, 3, 4]);
  assert.equal(pacer.paced, 4);
  assert.equal(pacer.waitedOut, 0, 'every input went on a wake');
  assert.equal(pacer.waitingNow, 0);
});

test('an input waits at most maxWaitMs; close lets every waiting input go', async () => {
  const pacer = new IntakePacer(() => 0, { maxWaitMs: 20 });
  let gone = false;
  await pacer.enter().then(() => {
    gone = true;
  });
  assert.ok(gone, 'let go after its longest wait, though the lanes never had room');
  assert.equal(pacer.waitedOut, 1);
  const closing = new IntakePacer(() => 0, { maxWaitMs: 60_000 });
  const waiting = closing.enter();
  await turn();
  assert.equal(closing.waitingNow, 1);
  closing.close();
  await waiting;
});
