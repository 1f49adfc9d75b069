/**
 * `conduit test` end to end, as a child process: the repository's own channels pass; in a temp
 * copy, a broken, missing or stale expected file fails with a readable diff, and --update
 * fixes it.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { COPIED_CHANNELS, conduit, REPO, repoCopy, summary } from './support.ts';

const LIS = 'samples/platform-events/full-bmp-panel.platform-to-lis.lis.hl7';
const EHR = 'samples/platform-events/full-bmp-panel.platform-to-ehr.ehr.json';

test("the repository's own channels pass their golden tests", async () => {
  const r = await conduit(['test']);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.equal(r.stderr, '');
  const { passed, failed } = summary(r);
  assert.equal(failed, 0);
  // 2 platform-event channels × every platform sample, plus hl7-to-ehr × every HL7 sample.
  const events = readdirSync(join(REPO, 'samples', 'platform-events')).filter((f) => /^[^.]+\.json$/.test(f));
  assert.ok(events.length >= 17, `${events.length} platform samples`);
  assert.ok(passed >= 2 * events.length + 8, `${passed} passed`);
  for (const line of r.lines.slice(0, -1)) assert.match(line, /^(ok {4}samples\/\S+|# [a-z0-9-]+: no inbound mapping, nothing to test)$/);
});

test('every invalid-* sample is golden-tested by the refusal it gets, and gives no output', async () => {
  // HL7 v2 samples are read as the channel's source reads them: undecodable bytes are a refusal too.
  for (const [folder, ext, channels] of [
    ['platform-events', '.json', ['platform-to-ehr', 'platform-to-lis']],
    ['hl7v2', '.hl7', ['file-drop-to-lis', 'hl7-to-ehr']],
  ] as const) {
    const files = readdirSync(join(REPO, 'samples', folder));
    const invalid = files.filter((f) => f.startsWith('invalid-') && f.endsWith(ext) && !f.slice(0, -ext.length).includes('.'));
    assert.ok(invalid.length >= 2, folder);
    for (const f of invalid) {
      const name = f.slice(0, -ext.length);
      const outputs = files.filter((x) => x.startsWith(`${name}.`) && x !== f);
      assert.deepEqual(
        outputs.filter((x) => !x.endsWith('.error.txt')),
        [],
      );
      for (const channel of channels) assert.ok(outputs.includes(`${name}.${channel}.error.txt`), `${name}: ${outputs}`);
    }
  }
});

// Each in its own temp copy, so they run side by side.
describe('in a temp copy', { concurrency: true }, () => {
  test('a changed OBX-5 and a changed FHIR value: exit 1, the segment and field, and the JSON path; --update fixes both', async (t) => {
    const copy = await repoCopy(t);
    const [lisBefore, ehrBefore] = [copy.read(LIS), copy.read(EHR)];
    // The potassium result: its OBX and its Observation entry, wherever the encoders put them.
    const hl7 = copy.read(LIS).split('\n');
    const obx = hl7.filter((l) => l.startsWith('OBX|'));
    const k = obx.findIndex((l) => l.split('|')[5] === '6.1');
    assert.ok(k >= 0, 'an OBX with 6.1');
    const broken = obx[k]!.split('|');
    broken[5] = '6.2';
    copy.write(LIS, hl7.map((l) => (l === obx[k] ? broken.join('|') : l)).join('\n'));
    const json = copy.read(EHR);
    const entry = (JSON.parse(json) as { entry: Array<{ resource: { valueQuantity?: { value: number } } }> }).entry.findIndex(
      (e) => e.resource.valueQuantity?.value === 6.1,
    );
    assert.equal(json.split('"value": 6.1,').length, 2, 'one value 6.1 in the Bundle');
    copy.write(EHR, json.replace('"value": 6.1,', '"value": 6.10,'));

    const r = await conduit(['test'], copy.dir);
    assert.equal(r.status, 1, r.stdout);
    assert.ok(r.lines.includes(`FAIL  ${LIS}`), r.stdout);
    assert.ok(r.lines.includes(`FAIL  ${EHR}`), r.stdout);
    const diff = r.stdout.slice(r.stdout.indexOf('\n\n'));
    assert.ok(diff.includes(`\nFAIL ${LIS}\n  OBX[${k + 1}]-5: expected '6.2', got '6.1'\n`), r.stdout);
    assert.ok(diff.includes(`\nFAIL ${EHR}\n  entry[${entry}].resource.valueQuantity.value: expected 6.10, got 6.1\n`), r.stdout);
    assert.equal(summary(r).failed, 2);

    const u = await conduit(['test', '--update'], copy.dir);
    assert.equal(u.status, 0, u.stdout);
    assert.ok(u.lines.includes(`wrote   ${LIS}`) && u.lines.includes(`wrote   ${EHR}`), u.stdout);
    assert.match(u.lines.at(-1)!, /^\d+ unchanged, 2 written, 0 removed$/);
    const again = await conduit(['test'], copy.dir);
    assert.equal(again.status, 0, again.stdout);
    assert.equal(copy.read(LIS), lisBefore);
    assert.equal(copy.read(EHR), ehrBefore);
  });

  test('a missing expected file fails as new; --update writes it as it was', async (t) => {
    const copy = await repoCopy(t);
    const file = 'samples/platform-events/compact-glucose.platform-to-lis.lis.hl7';
    const before = copy.read(file);
    rmSync(copy.path(file));
    const r = await conduit(['test'], copy.dir);
    assert.equal(r.status, 1);
    assert.ok(r.lines.includes(`new   ${file}`), r.stdout);
    assert.match(r.stdout, /no expected file for the outputs marked new/);
    assert.equal(summary(r).failed, 1);
    assert.equal((await conduit(['test', '--update'], copy.dir)).status, 0);
    assert.equal(copy.read(file), before);
  });

  test('a changed refusal is diffed line by line', async (t) => {
    const copy = await repoCopy(t);
    const file = 'samples/platform-events/invalid-value-number.platform-to-lis.error.txt';
    const lines = copy.read(file).trimEnd().split('\n');
    copy.write(file, `${[`${lines[0]} (old wording)`, ...lines.slice(1)].join('\n')}\n`);
    const r = await conduit(['test', '--channel', 'platform-to-lis'], copy.dir);
    assert.equal(r.status, 1);
    assert.ok(r.stdout.includes(`\nFAIL ${file}\n  line 1: expected '${lines[0]} (old wording)', got '${lines[0]}'\n`), r.stdout);
  });

  test('expected files of a destination or channel that no longer exists fail as stale; --update removes them', async (t) => {
    const copy = await repoCopy(t);
    copy.write('channels/platform-to-lis.yaml', copy.read('channels/platform-to-lis.yaml').replace('  - id: lis\n', '  - id: lis-main\n'));
    rmSync(copy.path('channels/platform-to-ehr.yaml'));
    const r = await conduit(['test'], copy.dir);
    assert.equal(r.status, 1);
    assert.ok(r.lines.includes(`FAIL  ${LIS}`), r.stdout);
    assert.ok(r.lines.includes('new   samples/platform-events/full-bmp-panel.platform-to-lis.lis-main.hl7'), r.stdout);
    assert.ok(r.lines.includes(`FAIL  ${EHR}`), r.stdout);
    assert.match(r.stdout, new RegExp(`\nFAIL ${EHR.replaceAll('.', '\\.')}\n  there is no channel 'platform-to-ehr'\n`));
    assert.match(r.stdout, /\n {2}the channel no longer gives this output/);

    const u = await conduit(['test', '--update'], copy.dir);
    assert.equal(u.status, 0, u.stdout);
    assert.ok(u.lines.includes(`removed ${LIS}`) && u.lines.includes(`removed ${EHR}`), u.stdout);
    assert.ok(!existsSync(copy.path(LIS)) && !existsSync(copy.path(EHR)));
    const files = readdirSync(copy.path('samples/platform-events'));
    assert.deepEqual(
      files.filter((f) => f.includes('.platform-to-ehr.') || f.includes('.platform-to-lis.lis.')),
      [],
    );
    assert.equal((await conduit(['test'], copy.dir)).status, 0);
  });

  test('--channel runs one channel; an unknown channel exits 2', async (t) => {
    const copy = await repoCopy(t);
    const r = await conduit(['test', '--channel', 'platform-to-lis'], copy.dir);
    assert.equal(r.status, 0, r.stdout);
    assert.ok(r.lines.length > 20);
    for (const line of r.lines.slice(0, -1)) assert.match(line, /^ok {4}samples\/platform-events\/[^.]+\.platform-to-lis\./);
    const unknown = await conduit(['test', '--channel', 'no-such-channel'], copy.dir);
    assert.equal(unknown.status, 2);
    assert.equal(unknown.stdout, '');
    assert.equal(unknown.stderr.split('\n')[0], `conduit: no channel 'no-such-channel'; channels: ${COPIED_CHANNELS.join(', ')}`);
  });

  test('an invalid configuration: its problems with file and line, exit 1, nothing tested', async (t) => {
    const copy = await repoCopy(t);
    copy.write('channels/platform-to-lis.yaml', copy.read('channels/platform-to-lis.yaml').replace('mapping: oru-r01-lis', 'mapping: no-such-mapping'));
    const r = await conduit(['test'], copy.dir);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^channels\/platform-to-lis\.yaml:\d+: destinations\[0\]\.mapping: no mapping file 'no-such-mapping\.yaml'/m);
    assert.match(r.stderr, /configuration problem/);
  });

  test('a report a filter sends nowhere is golden-tested by the rule that filtered it', async (t) => {
    const copy = await repoCopy(t);
    const channel = copy.read('channels/platform-to-lis.yaml').replace(
      '\ndestinations:\n',
      "\nfilters:\n  - name: northside-only\n    when: report.provenance.tenant = 'northside-clinics'\ndestinations:\n",
    );
    copy.write('channels/platform-to-lis.yaml', channel);
    const r = await conduit(['test', '--channel', 'platform-to-lis'], copy.dir);
    assert.equal(r.status, 1);
    assert.ok(r.lines.includes('new   samples/platform-events/compact-glucose.platform-to-lis.filtered.txt'), r.stdout);
    assert.ok(r.lines.includes('FAIL  samples/platform-events/compact-glucose.platform-to-lis.lis.hl7'), r.stdout);
    assert.ok(r.lines.includes(`ok    ${LIS}`), r.stdout);
    assert.equal((await conduit(['test', '--channel', 'platform-to-lis', '--update'], copy.dir)).status, 0);
    assert.equal(copy.read('samples/platform-events/compact-glucose.platform-to-lis.filtered.txt'), 'filter northside-only\n');
    assert.ok(!existsSync(copy.path('samples/platform-events/compact-glucose.platform-to-lis.lis.hl7')));
    assert.equal((await conduit(['test'], copy.dir)).status, 0);
  });
});
