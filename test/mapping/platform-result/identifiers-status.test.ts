/** Identifiers, statuses and sex: what the mapping settings configure, and what is refused. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PlatformResultSettings } from '../../../src/mapping/platform-result/settings.ts';
import { mapped, refusal, SETTINGS, sample } from './support.ts';

test('patient identifiers use the configured systems: platform id as PI, external id as MR', () => {
  const settings = PlatformResultSettings.parse({ patientIdSystem: 'urn:oid:1.2.3', externalIdSystem: 'NORTHSIDE-MRN' });
  assert.deepEqual(mapped(sample('full-bmp-panel'), settings).report.patient!.identifiers, [
    { value: 'pat_19XK2', system: 'urn:oid:1.2.3', type: 'PI' },
    { value: 'MRN-004211', system: 'NORTHSIDE-MRN', type: 'MR' },
  ]);
});

test('the settings default to CATENIX and MRN, as the repository mapping file says', () => {
  const defaults = PlatformResultSettings.parse({});
  assert.equal(defaults.patientIdSystem, 'CATENIX');
  assert.equal(defaults.externalIdSystem, 'MRN');
  assert.deepEqual(defaults, SETTINGS);
});

test('the settings refuse unknown keys and statuses that are not canonical', () => {
  assert.equal(PlatformResultSettings.safeParse({ patientIdSytem: 'X' }).success, false);
  assert.equal(PlatformResultSettings.safeParse({ statuses: { done: 'finished' } }).success, false);
  assert.equal(PlatformResultSettings.safeParse({ patientIdSystem: '' }).success, false);
});

for (const [platform, canonical] of [
  ['final', 'final'],
  ['preliminary', 'preliminary'],
  ['corrected', 'corrected'],
  ['amended', 'amended'],
  ['cancelled', 'cancelled'],
  ['entered-in-error', 'entered-in-error'],
  ['registered', 'registered'],
  ['pending', 'registered'],
]) {
  test(`status '${platform}' maps to '${canonical}' for the report and its observations`, () => {
    const e = sample('compact-glucose');
    e.result.status = platform;
    const r = mapped(e).report;
    assert.equal(r.status, canonical);
    assert.equal(r.observations[0]!.status, canonical);
    assert.equal(r.observations[0]!.statusText, platform);
  });
}

test('statuses come from the settings: a custom table applies, and what it lacks is unknown', () => {
  const settings = PlatformResultSettings.parse({ statuses: { done: 'final', prelim: 'preliminary' } });
  const e = sample('compact-glucose');
  e.result.status = 'done';
  assert.equal(mapped(e, settings).report.status, 'final');
  e.result.status = 'final';
  const err = refusal(e, settings);
  assert.deepEqual(err.issues, [{ path: 'result.status', code: 'invalid_value', message: "unknown status 'final'; expected one of done, prelim" }]);
});

test('an observation status of its own wins over the result status; otherwise it inherits it', () => {
  const e = sample('full-bmp-panel');
  e.result.observations[1].status = 'preliminary';
  delete e.result.observations[2].status;
  const obs = mapped(e).report.observations;
  assert.deepEqual(
    obs.map((o) => [o.status, o.statusText]),
    [
      ['final', 'final'],
      ['preliminary', 'preliminary'],
      ['final', 'final'],
    ],
  );
});

test('an unknown result status is refused at result.status, listing the known ones', () => {
  const e = sample('full-bmp-panel');
  e.result.status = 'done-ish';
  const err = refusal(e);
  assert.equal(err.code, 'INPUT_INVALID');
  assert.deepEqual(err.issues, [
    {
      path: 'result.status',
      code: 'invalid_value',
      message: "unknown status 'done-ish'; expected one of final, preliminary, corrected, amended, cancelled, entered-in-error, registered, pending",
    },
  ]);
});

test('an unknown observation status is refused at its own path', () => {
  const e = sample('full-bmp-panel');
  e.result.observations[2].status = 'FINAL';
  assert.deepEqual(
    refusal(e).issues.map((i) => i.path),
    ['result.observations[2].status'],
  );
});

test("names of Object.prototype are unknown statuses ('constructor', 'toString', '__proto__')", () => {
  for (const s of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    const e = sample('compact-glucose');
    e.result.status = s;
    assert.deepEqual(
      refusal(e).issues.map((i) => i.path),
      ['result.status'],
      s,
    );
  }
});

for (const [given, expected] of [
  ['female', 'female'],
  ['F', 'female'],
  ['Male', 'male'],
  ['m', 'male'],
  ['other', 'other'],
  ['O', 'other'],
  ['unknown', 'unknown'],
  ['U', 'unknown'],
]) {
  test(`sex '${given}' maps to '${expected}'`, () => {
    const e = sample('full-bmp-panel');
    e.result.patient.sex = given;
    assert.equal(mapped(e).report.patient!.sex, expected);
  });
}

test('an unknown sex is refused at result.patient.sex, and so are names of Object.prototype', () => {
  for (const s of ['x', 'woman', 'constructor', 'toString', '']) {
    const e = sample('full-bmp-panel');
    e.result.patient.sex = s;
    assert.deepEqual(refusal(e).issues, [{ path: 'result.patient.sex', code: 'invalid_value', message: "expected 'female', 'male', 'other' or 'unknown'" }], s);
  }
});

test('a patient without sex has none', () => {
  const e = sample('full-bmp-panel');
  delete e.result.patient.sex;
  assert.ok(!('sex' in mapped(e).report.patient!));
});
