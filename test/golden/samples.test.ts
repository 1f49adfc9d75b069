/** Which files of samples/ are samples and which are the expected outputs beside them. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { errorFileName, filteredFileName, listSamples, outputFileName, parseExpectedFile } from '../../src/testing/samples.ts';

test('expected file names: sample, channel, destination, report number, format', () => {
  assert.equal(outputFileName('full-bmp-panel', 'platform-to-lis', 'lis', 'hl7'), 'full-bmp-panel.platform-to-lis.lis.hl7');
  assert.equal(outputFileName('07-two-orders', 'hl7-to-ehr', 'ehr', 'json', 2), '07-two-orders.hl7-to-ehr.ehr.2.json');
  assert.equal(errorFileName('invalid-value-number', 'platform-to-lis'), 'invalid-value-number.platform-to-lis.error.txt');
  assert.equal(filteredFileName('x', 'c'), 'x.c.filtered.txt');
  for (const f of ['full-bmp-panel.platform-to-lis.lis.hl7', '07-two-orders.hl7-to-ehr.ehr.2.json', 'a_b.c.error.txt', 'x.c.filtered.txt']) {
    assert.ok(parseExpectedFile(f), f);
  }
  assert.deepEqual(parseExpectedFile('full-bmp-panel.platform-to-lis.lis.hl7'), { sample: 'full-bmp-panel', channel: 'platform-to-lis' });
  for (const f of ['full-bmp-panel.json', 'README.md', 'a.b.c.txt', 'a.B.c.hl7', '.a.b.hl7', 'a.b.c.d.hl7']) assert.equal(parseExpectedFile(f), undefined, f);
});

test('listSamples: samples only, sorted, invalid-* marked; expected outputs and other files left out', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-samples-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const f of ['b.json', 'a.json', 'invalid-x.json', 'a.platform-to-ehr.ehr.json', 'a.platform-to-lis.lis.hl7', 'README.md', 'c.hl7']) writeFileSync(join(dir, f), '');
  assert.deepEqual(
    listSamples(dir, 'json').map((s) => [s.name, s.invalid]),
    [
      ['a', false],
      ['b', false],
      ['invalid-x', true],
    ],
  );
  assert.deepEqual(
    listSamples(dir, 'hl7v2').map((s) => s.name),
    ['c'],
  );
  assert.deepEqual(listSamples(join(dir, 'missing'), 'json'), []);
});
