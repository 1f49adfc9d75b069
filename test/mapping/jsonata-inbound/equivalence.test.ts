/**
 * mappings/platform-result-jsonata.yaml makes the same canonical reports as the built-in
 * platform-result mapping for every valid sample event, compact and full forms, and refuses
 * the invalid ones naming the same event fields.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { mapPlatformEvent } from '../../../src/mapping/platform-result/map.ts';
import { PlatformResultSettings } from '../../../src/mapping/platform-result/settings.ts';
import { asStored, mappingSettings, PLATFORM_EVENTS_DIR, platformEvent, refusalOf } from '../../support/repo.ts';
import { type Editable, mapped, refusal, validSampleNames } from './support.ts';

const BUILT_IN = PlatformResultSettings.parse(mappingSettings('platform-result.yaml'));

test('there are samples to compare, of both forms', () => {
  const names = validSampleNames();
  assert.ok(names.length >= 8, names.join(', '));
  const forms = names.map((n) => ((platformEvent(n) as { result: { observations?: unknown } }).result.observations ? 'full' : 'compact'));
  assert.ok(forms.includes('full') && forms.includes('compact'), forms.join(', '));
});

for (const name of validSampleNames()) {
  test(`${name}: the jsonata mapping's report equals the built-in mapping's`, async () => {
    const expected = asStored([mapPlatformEvent(platformEvent(name), BUILT_IN)]);
    assert.deepEqual(await mapped(platformEvent(name)), expected);
  });
}

test('corrections, versions and statuses follow the built-in mapping on variations of the samples', async () => {
  const variations: Array<[string, (e: Editable) => void]> = [
    ['a compact correction', (e) => Object.assign(e, { event: 'result.updated' }, { result: { ...e.result, version: 3 } })],
    ['a pending status', (e) => Object.assign(e.result, { status: 'pending' })],
    ['an observation without status or time', (e) => Object.assign(e.result, { observations: [{ analyte: 'NA', value: '140' }] })],
    ['an upper-case sex, no external id', (e) => Object.assign(e.result.patient, { sex: 'F', external_id: undefined })],
    ['a device by reference only', (e) => Object.assign(e.result, { device: undefined, device_ref: 'dev_9' })],
    ['an accession without order', (e) => Object.assign(e.result, { order_ref: undefined })],
    ['an issued time', (e) => Object.assign(e.result, { issued_at: '2026-11-20T09:20:00+01:00' })],
    ['documents only, no observations', (e) => Object.assign(e.result, { observations: [] })],
    ['an empty comment', (e) => Object.assign(e.result.observations[0], { comment: '' })],
  ];
  for (const [what, change] of variations) {
    const event = platformEvent(what.startsWith('a compact') ? 'compact-glucose' : 'full-bmp-panel') as Editable;
    change(event);
    const body = asStored(event);
    assert.deepEqual(await mapped(body), asStored([mapPlatformEvent(body, BUILT_IN)]), what);
  }
});

test('every invalid-* sample is refused by both mappings, the jsonata one naming the event field the built-in names', async () => {
  const invalid = readdirSync(PLATFORM_EVENTS_DIR)
    .filter((f) => /^invalid-[A-Za-z0-9_-]*\.json$/.test(f))
    .map((f) => f.slice(0, -'.json'.length));
  for (const name of invalid) {
    const builtIn = refusalOf(() => mapPlatformEvent(platformEvent(name), BUILT_IN), `${name} was accepted by the built-in mapping`);
    const jsonata = await refusal(platformEvent(name));
    const said = jsonata.issues.map((i) => `${i.path}: ${i.message}`).join('\n');
    for (const i of builtIn.issues) assert.ok(said.includes(i.path), `${name}: the jsonata refusal names ${i.path}:\n${said}`);
  }
});
