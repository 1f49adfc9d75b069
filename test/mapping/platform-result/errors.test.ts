/** Bad events are refused with an InputError naming each bad field by its path. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPlatformResultMapping } from '../../../src/mapping/platform-result/map.ts';
import { refusal, SETTINGS, sample } from './support.ts';

// biome-ignore lint/suspicious/noExplicitAny: events are edited freely below.
type Edit = (e: any) => void;

/** [what is wrong, how to break the full sample, the path refused, its code, a part of its message] */
const CASES: Array<[string, Edit, string, string, RegExp]> = [
  ['no event type', (e) => delete e.event, 'event', 'invalid_value', /'result\.created' or 'result\.updated'/],
  ['an unknown event type', (e) => (e.event = 'result.deleted'), 'event', 'invalid_value', /'result\.created' or 'result\.updated'/],
  ['no result', (e) => delete e.result, 'result', 'invalid_type', /expected object/],
  ['no result id', (e) => delete e.result.id, 'result.id', 'invalid_type', /expected string/],
  ['an empty result id', (e) => (e.result.id = ''), 'result.id', 'too_small', /must not be empty/],
  ['a numeric result id', (e) => (e.result.id = 42), 'result.id', 'invalid_type', /expected string, received number/],
  ['no status', (e) => delete e.result.status, 'result.status', 'invalid_type', /expected string/],
  ['a value as a number', (e) => (e.result.observations[2].value = 14), 'result.observations[2].value', 'invalid_type', /expected the value as a string, e\.g\. "5\.4" or "<0\.5"/],
  ['a value as null', (e) => (e.result.observations[0].value = null), 'result.observations[0].value', 'invalid_type', /as a string/],
  ['a missing value', (e) => delete e.result.observations[1].value, 'result.observations[1].value', 'invalid_type', /as a string/],
  ['an empty analyte', (e) => (e.result.observations[0].analyte = ''), 'result.observations[0].analyte', 'too_small', /must not be empty/],
  ['flags as a string', (e) => (e.result.observations[1].flags = 'H'), 'result.observations[1].flags', 'invalid_type', /expected array/],
  ['a flag that is not a string', (e) => (e.result.observations[1].flags = ['H', 1]), 'result.observations[1].flags[1]', 'invalid_type', /expected string/],
  ['a unit as a number', (e) => (e.result.observations[0].unit = 5), 'result.observations[0].unit', 'invalid_type', /expected string/],
  ['observations as an object', (e) => (e.result.observations = {}), 'result.observations', 'invalid_type', /expected array/],
  ['version zero', (e) => (e.result.version = 0), 'result.version', 'too_small', /expected number to be >0/],
  ['a fractional version', (e) => (e.result.version = 1.5), 'result.version', 'invalid_type', /expected int/],
  ['a version as a string', (e) => (e.result.version = '2'), 'result.version', 'invalid_type', /expected number, received string/],
  ['given names as a string', (e) => (e.result.patient.given = 'Thi'), 'result.patient.given', 'invalid_type', /expected array/],
  ['a birth date not as YYYY-MM-DD', (e) => (e.result.patient.birth_date = '07/03/1984'), 'result.patient.birth_date', 'invalid_format', /YYYY-MM-DD/],
  ['a birth date in month 13', (e) => (e.result.patient.birth_date = '1984-13-07'), 'result.patient.birth_date', 'invalid_format', /YYYY-MM-DD/],
  ['a panel without a code', (e) => (e.result.panel = { display: 'x' }), 'result.panel.code', 'invalid_type', /expected string/],
  ['a document that is not base64', (e) => (e.result.documents[0].data_base64 = 'not base64!'), 'result.documents[0].data_base64', 'invalid_format', /base64/],
  ['a document without content type', (e) => (e.result.documents[0].content_type = ''), 'result.documents[0].content_type', 'too_small', /must not be empty/],
  ['an event time as a number', (e) => (e.occurred_at = 1700000000), 'occurred_at', 'invalid_type', /expected string/],
];

for (const [what, edit, path, code, message] of CASES) {
  test(`${what} is refused at ${path}`, () => {
    const e = sample('full-bmp-panel');
    edit(e);
    const err = refusal(e);
    assert.equal(err.code, 'INPUT_INVALID');
    assert.equal(err.retry, 'permanent');
    assert.equal(err.issues.length, 1, JSON.stringify(err.issues));
    assert.equal(err.issues[0]!.path, path);
    assert.equal(err.issues[0]!.code, code);
    assert.match(err.issues[0]!.message, message);
    // The error's location and message name the path too, for logs and CLI output.
    assert.equal(err.location, path);
    assert.ok(err.message.startsWith(`${path}: `), err.message);
  });
}

test('the compact form: analyte without value is refused at result.value', () => {
  const e = sample('compact-glucose');
  delete e.result.value;
  assert.deepEqual(refusal(e).issues, [{ path: 'result.value', code: 'custom', message: 'required with analyte (compact form)' }]);
});

test('the compact form: a numeric value is refused at result.value', () => {
  const e = sample('compact-glucose');
  e.result.value = 5.4;
  assert.equal(refusal(e).issues[0]!.path, 'result.value');
  assert.match(refusal(e).issues[0]!.message, /as a string/);
});

test('neither observations, nor analyte, nor documents: refused at result.observations', () => {
  const e = sample('full-bmp-panel');
  delete e.result.observations;
  delete e.result.documents;
  assert.deepEqual(refusal(e).issues, [
    { path: 'result.observations', code: 'custom', message: 'expected observations (full form) or analyte and value (compact form)' },
  ]);
});

test('a body that is not an object is refused at (root)', () => {
  for (const body of [null, [], 'text', 42]) {
    const err = refusal(body);
    assert.equal(err.issues.length, 1);
    assert.equal(err.issues[0]!.path, '(root)');
    assert.match(err.issues[0]!.message, /expected object/);
  }
});

test('every bad field of one event is reported together', () => {
  const e = sample('full-bmp-panel');
  e.result.id = '';
  e.result.observations[0].value = 5.4;
  e.result.observations[2].flags = 'HH';
  e.result.patient.birth_date = 'March';
  assert.deepEqual(
    refusal(e)
      .issues.map((i) => i.path)
      .sort(),
    ['result.id', 'result.observations[0].value', 'result.observations[2].flags', 'result.patient.birth_date'],
  );
});

test('semantic problems (status, sex, version) are reported together once the shape is right', () => {
  const e = sample('full-bmp-panel');
  e.event = 'result.updated';
  delete e.result.version;
  e.result.status = 'weird';
  e.result.observations[1].status = 'nah';
  e.result.patient.sex = 'x';
  assert.deepEqual(
    refusal(e).issues.map((i) => i.path),
    ['result.version', 'result.status', 'result.observations[1].status', 'result.patient.sex'],
  );
});

test('malformed JSON text is refused as INPUT_INVALID_JSON at (body)', () => {
  const mapping = createPlatformResultMapping('platform-result', SETTINGS);
  for (const text of ['{"event": ', '', '{"event": "result.created",}', "{'single': 'quotes'}"]) {
    try {
      mapping.map({ text, format: 'json' });
      assert.fail(`accepted ${JSON.stringify(text)}`);
    } catch (e) {
      const err = e as { code: string; issues: Array<{ path: string; code: string; message: string }> };
      assert.equal(err.code, 'INPUT_INVALID_JSON', text);
      assert.equal(err.issues.length, 1);
      assert.equal(err.issues[0]!.path, '(body)');
      assert.equal(err.issues[0]!.code, 'invalid_json');
      assert.match(err.issues[0]!.message, /^not valid JSON: /);
    }
  }
});
