/** The memory of used webhook signatures: replays within the window, forgetting, and its bound. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeenSignatures } from '../../../src/sources/webhook/replay.ts';

test('a digest is a replay until its timestamp leaves the window, then forgotten', () => {
  const seen = new SeenSignatures();
  assert.equal(seen.remember('a', 1_300, 1_000), true);
  assert.equal(seen.remember('a', 1_300, 1_299), false, 'still within the window');
  assert.equal(seen.remember('b', 2_000, 1_300), true);
  assert.equal(seen.size, 1, "'a' ended and was dropped");
  assert.equal(seen.remember('a', 1_900, 1_300), true, 'past its window it is new again (a replay would be refused as stale first)');
});

test('a forgotten digest (its request stored nothing) is no replay', () => {
  const seen = new SeenSignatures();
  assert.equal(seen.remember('a', 10_000, 0), true);
  seen.forget('a');
  assert.equal(seen.remember('a', 10_000, 1), true);
});

test('at the bound the oldest is forgotten early and the owner is told', () => {
  let full = 0;
  const seen = new SeenSignatures({ max: 3, onFull: () => full++ });
  for (const d of ['a', 'b', 'c', 'd']) assert.equal(seen.remember(d, 10_000, 0), true);
  assert.equal(seen.size, 3);
  assert.equal(full, 1);
  assert.equal(seen.remember('d', 10_000, 1), false, 'the newest are still remembered');
  assert.equal(seen.remember('a', 10_000, 1), true, "the oldest, 'a', was forgotten");
});
