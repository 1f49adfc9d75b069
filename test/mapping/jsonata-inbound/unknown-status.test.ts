/**
 * Issue 8 with the jsonata sample mapping: a platform status the statuses table does not know
 * is refused at the report field it would fill, 'unknown' included (which is also the name of
 * a canonical status, and so went through to FHIR as one before).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { platformEvent } from '../../support/repo.ts';
import { type Editable, refusal } from './support.ts';

test("a result or observation status 'unknown' outside the table is refused like any other", async () => {
  const e: Editable = platformEvent('full-bmp-panel');
  e.result.status = 'unknown';
  e.result.observations[1].status = 'unknown';
  const err = await refusal(e);
  assert.deepEqual(
    err.issues.map((i) => [i.path, i.code]),
    [
      ['report.status', 'invalid_value'],
      ['report.observations[1].status', 'invalid_value'],
    ],
  );
});

test('the compact form too', async () => {
  const e: Editable = platformEvent('compact-glucose');
  e.result.status = 'unknown';
  const err = await refusal(e);
  assert.deepEqual(
    err.issues.map((i) => i.path),
    ['report.status', 'report.observations[0].status'],
  );
});
