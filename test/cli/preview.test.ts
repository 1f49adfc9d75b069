import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Hl7Message } from '../../src/protocols/hl7v2/index.ts';
import { startTestEngine, type TestEngine } from '../support/in-process.ts';
import { conduit, SAMPLES, tempFiles } from './support.ts';

const FULL = join(SAMPLES, 'full-bmp-panel.json');

test('preview prints one segment per line, MSH first, with the OBX and NTE lines', () => {
  const r = conduit(['preview', 'platform-to-lis', FULL]);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.ok(!r.stdout.includes('\r'));
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^MSH\|\^~\\&\|CONDUIT\|POC-PLATFORM\|LIS\|LAB\|\d{14}/);
  assert.deepEqual(
    lines.map((l) => l.slice(0, 4)),
    ['MSH|', 'PID|', 'PV1|', 'ORC|', 'OBR|', 'OBX|', 'OBX|', 'OBX|', 'NTE|', 'OBX|'],
  );
  // LOINC (OBX-3 alternate) and UCUM (OBX-6) come from mappings/tables/analytes.csv and units.csv.
  const glu = 'GLU^Glucose^L^14743-9^Glucose [Moles/volume] in Capillary blood by Glucometer^LN';
  assert.ok(lines.includes(`OBX|1|NM|${glu}||5.4|mmol/L^mmol/L^UCUM|3.9-5.5||||F|||20261120091341+0100||op_12^J. Okafor||AF2-11873^Afinion 2`));
  const k = 'K^Potassium^L^6298-4^Potassium [Moles/volume] in Blood^LN';
  assert.ok(lines.includes(`OBX|2|NM|${k}||6.1|mmol/L^mmol/L^UCUM|3.5-5.1|H|||F|||20261120091341+0100||op_12^J. Okafor||AF2-11873^Afinion 2`));
  const a1c = 'HBA1C^Haemoglobin A1c^L^4548-4^Hemoglobin A1c/Hemoglobin.total in Blood^LN';
  assert.ok(lines.includes(`OBX|3|SN|${a1c}||>^14.0|%^%^UCUM||HH|||F|||20261120091341+0100||op_12^J. Okafor||AF2-11873^Afinion 2`));
  assert.ok(lines.includes('NTE|1|L|Above measuring range'));
  assert.match(lines[9]!, /^OBX\|4\|ED\|DOC\^Device printout\^L\|\|\^AP\^PDF\^Base64\^JVBERi0x/);
  assert.ok(lines.includes('PID|1||pat_19XK2^^^CATENIX^PI~MRN-004211^^^MRN^MR||Nguyen^Thi^Mai||19840307|F'));
});

test('preview --raw prints the exact bytes: CR-terminated segments, no LF, parseable', () => {
  const raw = conduit(['preview', 'platform-to-lis', FULL, '--raw']);
  assert.equal(raw.status, 0);
  assert.ok(raw.stdout.endsWith('\r'));
  assert.ok(!raw.stdout.includes('\n'));
  const m = Hl7Message.parse(raw.stdout);
  assert.equal(m.toString(), raw.stdout);
  assert.deepEqual(
    m.segments.map((s) => s.name),
    ['MSH', 'PID', 'PV1', 'ORC', 'OBR', 'OBX', 'OBX', 'OBX', 'NTE', 'OBX'],
  );
  assert.equal(m.messageType, 'ORU^R01');
  assert.deepEqual(m.msh.components(9), ['ORU', 'R01', 'ORU_R01']);
  assert.equal(m.version, '2.5.1');
  // Apart from MSH-7 (time) and MSH-10 (a new control id each run), the same message as the pretty form.
  const pretty = conduit(['preview', 'platform-to-lis', FULL]).stdout.trimEnd().split('\n');
  const withoutIdAndTime = (l: string) => (l.startsWith('MSH|') ? l.split('|').filter((_, i) => i !== 6 && i !== 9).join('|') : l);
  assert.deepEqual(raw.stdout.slice(0, -1).split('\r').map(withoutIdAndTime), pretty.map(withoutIdAndTime));
});

test('preview escapes special characters and keeps non-ASCII as UTF-8', () => {
  const special = conduit(['preview', 'platform-to-lis', join(SAMPLES, 'special-characters.json'), '--raw']);
  assert.equal(special.status, 0);
  const pid = Hl7Message.parse(special.stdout).segment('PID')!;
  assert.equal(pid.get(5, 1), 'Smith-Jones|Pipe');
  assert.equal(pid.get(5, 2), 'Ann^Marie');
  assert.equal(pid.get(3, 1, 1, 1), 'MRN~7|8');
  const unicode = conduit(['preview', 'platform-to-lis', join(SAMPLES, 'non-ascii-names.json')]);
  assert.equal(unicode.status, 0);
  assert.match(unicode.stdout, /^PID\|1\|\|pat_JP_1\^\^\^CATENIX\^PI~東京-0042\^\^\^MRN\^MR\|\|山田\^太郎\|/m);
  assert.match(unicode.stdout, /^NTE\|1\|L\|Ελληνικά · Tiếng Việt · 中文 · emoji 🧪$/m);
});

test('preview --canonical prints the canonical report as JSON', () => {
  const r = conduit(['preview', 'platform-to-lis', join(SAMPLES, 'correction-potassium.json'), '--canonical']);
  assert.equal(r.status, 0);
  const report = JSON.parse(r.stdout) as { id: string; version: number; correction: boolean; status: string; observations: Array<{ value: string; status: string }> };
  assert.deepEqual([report.id, report.version, report.correction, report.status], ['res_8F2C41', 2, true, 'corrected']);
  assert.deepEqual(
    report.observations.map((o) => [o.value, o.status]),
    [
      ['5.4', 'corrected'],
      ['4.6', 'corrected'],
      ['>14.0', 'corrected'],
    ],
  );
});

test('preview --destination of a destination the channel lacks: exit 2 naming it', () => {
  const r = conduit(['preview', 'platform-to-lis', FULL, '--destination', 'nope']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^conduit: channel platform-to-lis has no destination 'nope'$/m);
});

test('preview of an unknown channel: exit 2 with the valid channels listed', () => {
  const r = conduit(['preview', 'no-such-channel', FULL]);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^conduit: no valid channel 'no-such-channel'; channels: .*platform-to-lis/m);
  assert.match(r.stderr, /conduit --help/);
});

test('preview without its arguments: exit 2', () => {
  const r = conduit(['preview', 'platform-to-lis']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /preview needs a channel id and an input file/);
});

test('preview of a file that does not exist: exit 1 naming the file', () => {
  const r = conduit(['preview', 'platform-to-lis', 'samples/platform-events/no-such-file.json']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no-such-file\.json/);
});

/** Bad inputs, each in its own file, and the issue lines preview and the webhook must both give. */
const BAD_INPUTS: Array<[string, (sample: Record<string, unknown>) => string, string, RegExp]> = [
  ['malformed.json', () => '{"event": "result.created", "result": {', 'INPUT_INVALID_JSON', /^\(body\): not valid JSON: /],
  [
    'missing-result-id.json',
    (e) => {
      delete (e.result as Record<string, unknown>).id;
      return JSON.stringify(e);
    },
    'INPUT_INVALID',
    /^result\.id: Invalid input: expected string, received undefined$/,
  ],
  [
    'value-as-number.json',
    (e) => {
      ((e.result as Record<string, unknown>).observations as Array<Record<string, unknown>>)[2]!.value = 14;
      return JSON.stringify(e);
    },
    'INPUT_INVALID',
    /^result\.observations\[2\]\.value: expected the value as a string, e\.g\. "5\.4" or "<0\.5"$/,
  ],
];

describe('preview of invalid input: exit 1 with the same issues the webhook answers', () => {
  let engine: TestEngine;
  before(async () => {
    engine = await startTestEngine({ 'hook.yaml': 'id: hook\nsource:\n  type: webhook\nmapping: platform-result\n' });
  });
  after(async () => {
    await engine.stop();
  });

  for (const [name, make, code, issue] of BAD_INPUTS) {
    test(name, async (t) => {
      const files = tempFiles(t);
      const body = make(JSON.parse(readFileSync(FULL, 'utf8')) as Record<string, unknown>);
      const file = files.write(name, body);
      const r = conduit(['preview', 'platform-to-lis', file]);
      assert.equal(r.status, 1);
      assert.equal(r.stdout, '');
      const [head, ...issues] = r.stderr.trimEnd().split('\n');
      assert.equal(head, `${file}: ${code}`);
      assert.equal(issues.length, 1, r.stderr);
      assert.ok(issues[0]!.startsWith('  '));
      assert.match(issues[0]!.trim(), issue);

      const res = await engine.post('/channels/hook', body);
      assert.equal(res.status, code === 'INPUT_INVALID_JSON' ? 400 : 422);
      const outcome = (await res.json()) as { issue: Array<{ diagnostics: string; details?: { text: string } }> };
      assert.deepEqual(
        outcome.issue.map((i) => i.diagnostics),
        issues.map((l) => l.trim()),
      );
      assert.equal(outcome.issue[0]!.details?.text, code);
    });
  }
});
