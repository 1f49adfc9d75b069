/**
 * What a `jsonata` mapping refuses at run time, each with the report field, the event field it
 * came from where an expression read it from a path, its code and its exact message.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { platformEvent } from '../../support/repo.ts';
import { type Editable, issues, jsonataMapping, minimalReport, refusal } from './support.ts';

const full = (): Editable => platformEvent('full-bmp-panel');

test('a number where the report takes text (the value) is refused, never turned into text', async () => {
  const e = full();
  e.result.observations[1].value = 6.1;
  const err = await refusal(e);
  assert.equal(err.code, 'INPUT_INVALID');
  assert.deepEqual(err.issues, [
    {
      path: 'report.observations[1].value',
      code: 'invalid_type',
      message: 'expected a string; the mapping gave a number from result.observations[1].value; a number is not turned into text (write $string(…) in the mapping to convert it knowingly)',
    },
  ]);
  // The compact form reads it from result.value.
  assert.deepEqual(await issues({ event: 'result.created', result: { id: 'r', status: 'final', analyte: 'GLU', value: 5.4 } }), [
    'report.observations[0].value: expected a string; the mapping gave a number from result.value; a number is not turned into text (write $string(…) in the mapping to convert it knowingly)',
  ]);
});

test('a missing id is a required issue naming the event field that is missing', async () => {
  const e = full();
  delete e.result.id;
  const err = await refusal(e);
  assert.deepEqual(err.issues, [{ path: 'report.id', code: 'required', message: 'required, but the mapping gave nothing: result.id is not in the input' }]);
  const compact: Editable = platformEvent('compact-glucose');
  delete compact.result.analyte;
  delete compact.result.value;
  assert.deepEqual(await issues(compact), ['report.observations: expected result.observations (full form), or result.analyte and result.value (compact form)']);
  delete compact.result.status;
  compact.result.analyte = 'GLU';
  assert.deepEqual(await issues(compact), [
    'report.status: required, but the mapping gave nothing: result.status is not in the input',
    'report.observations[0].value: required, but the mapping gave nothing: result.value is not in the input',
    'report.observations[0].status: required, but the mapping gave nothing: result.status is not in the input',
  ]);
});

test('values of the wrong type or shape are named with what was expected and where they came from', async () => {
  const e = full();
  e.result.version = 'two';
  e.result.patient.given = ['Thi', 7];
  e.result.device.model = 7;
  e.result.observed_at = '20/11/2026';
  e.result.observations[0].flags = 'H';
  e.result.observations[2].analyte = '';
  assert.deepEqual(await issues(e), [
    'report.version: expected a number; the mapping gave a string from result.version',
    'report.patient.given[1]: expected a string; the mapping gave a number from result.patient.given[1]; a number is not turned into text (write $string(…) in the mapping to convert it knowingly)',
    'report.device.model: expected a string; the mapping gave a number from result.device.model; a number is not turned into text (write $string(…) in the mapping to convert it knowingly)',
    'report.observedAt: expected an ISO 8601 date-time such as 2026-11-20T09:13:41+01:00; the mapping gave another string from result.observed_at',
    'report.observations[0].observedAt: expected an ISO 8601 date-time such as 2026-11-20T09:13:41+01:00; the mapping gave another string from result.observed_at',
    'report.observations[1].observedAt: expected an ISO 8601 date-time such as 2026-11-20T09:13:41+01:00; the mapping gave another string from result.observed_at',
    'report.observations[2].code.code: must not be empty; the mapping gave an empty string from result.observations[2].analyte',
    'report.observations[2].observedAt: expected an ISO 8601 date-time such as 2026-11-20T09:13:41+01:00; the mapping gave another string from result.observed_at',
  ]);
});

test('a status or sex outside the table goes through to be refused by name, not lost', async () => {
  const e = full();
  e.result.status = 'done-ish';
  e.result.observations[2].status = 'weird';
  e.result.patient.sex = 'x';
  const err = await refusal(e);
  assert.deepEqual(
    err.issues.map((i) => [i.path, i.code]),
    [
      ['report.status', 'invalid_value'],
      ['report.patient.sex', 'invalid_value'],
      ['report.observations[2].status', 'invalid_value'],
    ],
  );
  assert.equal(
    err.issues[0]!.message,
    'expected one of registered, preliminary, final, corrected, amended, cancelled, entered-in-error, unknown; the mapping gave another string from result.status',
  );
  assert.equal(err.issues[2]!.message.endsWith('from result.observations[2].status'), true, err.issues[2]!.message);
  // Messages name fields, never the values sent: those may be health data.
  for (const i of err.issues) assert.doesNotMatch(i.message, /done-ish|weird|'x'/);
});

test("the mapping's own $error refuses the event with its reason, at the field being mapped", async () => {
  const e = full();
  e.event = 'result.updated';
  delete e.result.version;
  const err = await refusal(e);
  assert.equal(err.code, 'INPUT_INVALID');
  assert.deepEqual(err.issues, [
    { path: 'report.version', code: 'invalid', message: 'result.version is required for result.updated, so that a correction is not taken for a repeat' },
  ]);
  const empty = full();
  empty.result.observations[1].value = '';
  assert.deepEqual(await issues(empty), ['report.observations: a result value must not be empty; send the result as text, e.g. "5.4" or "NEGATIVE"']);
});

test('an expression that fails on an input is MAPPING_FAILED at its field, with the JSONata message', async () => {
  const mapping = jsonataMapping({ report: minimalReport({ observedAt: '=result.observed_at + 1' }) });
  const err = await refusal({ result: { id: 'r', observed_at: '2026-11-20', observations: [{ analyte: 'A', value: '1' }] } }, mapping);
  assert.equal(err.code, 'MAPPING_FAILED');
  assert.deepEqual(err.issues, [
    {
      path: 'report.observedAt',
      code: 'expression_failed',
      message: `the mapping's expression failed: The left side of the "+" operator must evaluate to a number at character 20 ('+')`,
    },
  ]);
});

test('a field an expression makes that the report does not have is refused, not silently dropped', async () => {
  const mapping = jsonataMapping({
    report: minimalReport({ observations: '=result.observations.{ "code": { "code": analyte }, "value": value, "status": "final", "refrence_range": range }' }),
  });
  assert.deepEqual(await issues({ result: { id: 'r', observations: [{ analyte: 'A', value: '1', range: '1-2' }] } }, mapping), [
    "report.observations[0].refrence_range: 'refrence_range' is not a field of the canonical report; the mapping gave it, so it would be lost",
  ]);
});

test('a body that is not JSON is INPUT_INVALID_JSON; JSON that is not an event is refused by what is missing', async () => {
  const bad = await refusal('{"event": ');
  assert.equal(bad.code, 'INPUT_INVALID_JSON');
  assert.equal(bad.issues[0]!.path, '(body)');
  // Every problem at once: the mapping's own refusal and what the report misses.
  assert.deepEqual(await issues('[1, 2]'), [
    'report.observations: expected result.observations (full form), or result.analyte and result.value (compact form)',
    'report.id: required, but the mapping gave nothing',
    'report.status: required, but the mapping gave nothing',
  ]);
});

test('the idempotency key must be text: a number is refused with the way to convert it', async () => {
  const mapping = jsonataMapping({ sourceId: '=result.number', report: minimalReport() });
  assert.deepEqual(await issues({ result: { id: 'r', number: 42, observations: [{ analyte: 'A', value: '1' }] } }, mapping), [
    'sourceId: expected a non-empty string; the mapping gave a number from result.number (write $string(…) to make text of a number)',
  ]);
  assert.deepEqual(await issues({ result: { id: 'r', observations: [{ analyte: 'A', value: '1' }] } }, mapping), [
    'sourceId: required, but the mapping gave nothing: result.number is not in the input',
  ]);
});
