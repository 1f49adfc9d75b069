/** result.updated is a correction of an earlier version; the idempotency key is id + version. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapped, refusal, sample } from './support.ts';

test('result.updated is a correction: status corrected, final observations corrected', () => {
  const m = mapped(sample('correction-potassium'));
  assert.equal(m.report.correction, true);
  assert.equal(m.report.status, 'corrected');
  assert.equal(m.report.version, 2);
  assert.equal(m.report.observations[0]!.status, 'corrected');
  assert.equal(m.report.provenance.eventType, 'result.updated');
  assert.equal(m.sourceId, 'res_8F2C41');
  assert.equal(m.sourceVersion, '2');
});

test('in a correction, final observations become corrected and the others keep their status', () => {
  const e = sample('full-bmp-panel');
  e.event = 'result.updated';
  e.result.version = 3;
  e.result.observations[1].status = 'preliminary';
  e.result.observations[2].status = 'amended';
  const r = mapped(e).report;
  assert.deepEqual(
    r.observations.map((o) => o.status),
    ['corrected', 'preliminary', 'amended'],
  );
  // What the platform wrote is kept beside it.
  assert.deepEqual(
    r.observations.map((o) => o.statusText),
    ['final', 'preliminary', 'amended'],
  );
});

test('a correction whose result is not final keeps that status', () => {
  for (const [status, expected] of [
    ['preliminary', 'preliminary'],
    ['amended', 'amended'],
    ['entered-in-error', 'entered-in-error'],
  ]) {
    const e = sample('correction-potassium');
    e.result.status = status;
    assert.equal(mapped(e).report.status, expected, status);
    assert.equal(mapped(e).report.correction, true);
  }
});

test('result.created is never a correction, even at a higher version', () => {
  const e = sample('full-bmp-panel');
  e.result.version = 5;
  const m = mapped(e);
  assert.equal(m.report.correction, false);
  assert.equal(m.report.status, 'final');
  assert.deepEqual(
    m.report.observations.map((o) => o.status),
    ['final', 'final', 'final'],
  );
  assert.equal(m.sourceVersion, '5');
});

test('result.updated without a version is refused at result.version', () => {
  const e = sample('correction-potassium');
  delete e.result.version;
  assert.deepEqual(refusal(e).issues, [
    { path: 'result.version', code: 'required', message: 'required for result.updated, so that a correction is not taken for a repeat' },
  ]);
});

test('the idempotency key is the result id and version: the same pair maps to the same key, a new version to a new one', () => {
  const first = mapped(sample('full-bmp-panel'));
  const again = mapped(sample('full-bmp-panel'));
  const corrected = mapped(sample('correction-potassium'));
  assert.deepEqual([first.sourceId, first.sourceVersion], [again.sourceId, again.sourceVersion]);
  assert.equal(corrected.sourceId, first.sourceId);
  assert.notEqual(corrected.sourceVersion, first.sourceVersion);
});

test('the event id is provenance, not part of the key: a redelivery with a new event id has the same key', () => {
  const a = sample('full-bmp-panel');
  const b = sample('full-bmp-panel');
  b.id = 'evt_REDELIVERED';
  b.occurred_at = '2026-11-20T08:20:00Z';
  const ma = mapped(a);
  const mb = mapped(b);
  assert.deepEqual([ma.sourceId, ma.sourceVersion], [mb.sourceId, mb.sourceVersion]);
  assert.equal(mb.report.provenance.eventId, 'evt_REDELIVERED');
});
