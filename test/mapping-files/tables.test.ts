/**
 * Code tables named by mapping files: read relative to mappings/, checked once however many
 * mappings use them, reported with file and line; and part of each mapping's version.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ConfigIssue } from '../../src/config/yaml-file.ts';
import { channelYaml, configDir, issueAt, lineOf, REPO } from '../config/support.ts';

const ORU = readFileSync(join(REPO, 'mappings', 'oru-r01-lis.yaml'), 'utf8');
const ANALYTES = readFileSync(join(REPO, 'mappings', 'tables', 'analytes.csv'), 'utf8');
const CTX = { controlId: 'C1', createdAt: '2026-01-02T03:04:05Z' };

/** A channel with an ORU^R01 destination (oru-r01-lis) and a FHIR one (fhir-r4-ehr). */
const BOTH = channelYaml('c', {
  'delivery:': '    delivery:\n      maxAttempts: 3\n  - id: ehr\n    mapping: fhir-r4-ehr\n    sender:\n      type: fhir\n      baseUrl: http://127.0.0.1:1/fhir',
  'maxAttempts: 3': null,
});

function versions(dir: ReturnType<typeof configDir>): Record<string, string> {
  const { channels, issues } = dir.load();
  assert.deepEqual(issues, []);
  const out: Record<string, string> = {};
  for (const c of channels) {
    if (c.mappingVersion) out[c.config.mapping!] = c.mappingVersion;
    for (const d of c.destinations) out[d.config.mapping] = d.mappingVersion;
  }
  return out;
}

test('editing a table changes the version of every mapping that names it, and of no other', (t) => {
  const a = configDir({ channels: { 'c.yaml': BOTH } });
  const b = configDir({ channels: { 'c.yaml': BOTH } });
  const edited = configDir({ channels: { 'c.yaml': BOTH }, mappings: { 'tables/analytes.csv': ANALYTES.replace('GLU,"Glucose, capillary', 'GLU,"Glucose (capillary)') } });
  t.after(() => {
    for (const x of [a, b, edited]) x.remove();
  });
  const [va, vb, ve] = [versions(a), versions(b), versions(edited)];
  assert.deepEqual(Object.keys(va).sort(), ['fhir-r4-ehr', 'oru-r01-lis', 'platform-result']);
  assert.deepEqual(va, vb, 'the same files give the same versions');
  assert.notEqual(ve['oru-r01-lis'], va['oru-r01-lis']);
  assert.notEqual(ve['fhir-r4-ehr'], va['fhir-r4-ehr']);
  assert.equal(ve['platform-result'], va['platform-result'], 'platform-result names no table');
  assert.match(ve['oru-r01-lis']!, /^oru-r01-lis@[0-9a-f]{12}$/);
});

test('pointing a mapping at another copy of the same table changes its version too', (t) => {
  const dir = configDir({
    channels: { 'c.yaml': channelYaml('c') },
    mappings: { 'tables/analytes-lis.csv': ANALYTES, 'oru-r01-lis.yaml': ORU.replace('analytes: tables/analytes.csv', 'analytes: tables/analytes-lis.csv') },
  });
  const plain = configDir({ channels: { 'c.yaml': channelYaml('c') } });
  t.after(() => {
    dir.remove();
    plain.remove();
  });
  assert.notEqual(versions(dir)['oru-r01-lis'], versions(plain)['oru-r01-lis']);
});

test('a loaded mapping encodes with its tables: a YAML table and $lookup in an expression', async (t) => {
  const mapping = [
    'kind: oru-r01',
    'tables:',
    '  lis: tables/lis-codes.yaml',
    'fields:',
    "  OBX-3: '=[$lookup(\"lis\", observation.code.code, \"lis_code\"), observation.code.display, \"99LIS\"]'",
    '',
  ].join('\n');
  const dir = configDir({
    channels: { 'c.yaml': channelYaml('c') },
    mappings: { 'oru-r01-lis.yaml': mapping, 'tables/lis-codes.yaml': '- { code: GLU, lis_code: "GLUC-POC" }\n' },
  });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  assert.deepEqual(issues, []);
  const report = {
    id: 'r', version: 1, correction: false, status: 'final' as const, attachments: [], provenance: { kind: 'platform-event' as const },
    observations: [{ code: { code: 'GLU', display: 'Glucose' }, value: '5.4', flags: [], status: 'final' as const, comments: [] }],
  };
  const out = await channels[0]!.destinations[0]!.encoder.encode(report, CTX);
  assert.match(out.payload, /\rOBX\|1\|NM\|GLUC-POC\^Glucose\^99LIS\|\|5\.4\|/);
  assert.equal(out.warnings, undefined, 'this mapping names no analytes table');
});

test('table references that cannot be used are reported in the mapping file at the table', (t) => {
  const mapping = [
    'kind: oru-r01',
    'tables:',
    '  analytes: tables/nowhere.csv',
    '  units: ../units.csv',
    '  flags: tables/flags.txt',
    '  "lis codes": tables/analytes.csv',
    '  n: 5',
    '',
  ].join('\n');
  const dir = configDir({ channels: { 'c.yaml': channelYaml('c') }, mappings: { 'oru-r01-lis.yaml': mapping } });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  const file = dir.mappingFile('oru-r01-lis.yaml');
  const at = (path: string) => issueAt(issues, file, path);
  assert.deepEqual(channels, []);
  assert.equal(at('tables.n').message, 'expected a path relative to the mappings directory, e.g. tables/analytes.csv');
  assert.equal(at('tables.n').line, lineOf(mapping, 'n: 5'));
  // The shape is wrong, so the references are looked at once it is fixed.
  const fixed = mapping.replace('  n: 5\n', '');
  const dir2 = configDir({ channels: { 'c.yaml': channelYaml('c') }, mappings: { 'oru-r01-lis.yaml': fixed } });
  t.after(() => dir2.remove());
  const second = dir2.load().issues;
  const at2 = (path: string) => issueAt(second, dir2.mappingFile('oru-r01-lis.yaml'), path);
  assert.deepEqual(
    ['tables.analytes', 'tables.units', 'tables.flags', 'tables.lis codes'].map((p) => [at2(p).line, at2(p).code, at2(p).message]),
    [
      [lineOf(fixed, 'analytes:'), 'table_missing', `no table file 'tables/nowhere.csv' in ${dir2.mappingFile('')}`],
      [lineOf(fixed, 'units:'), 'table_path', "'../units.csv' is outside the mappings directory; expected a path relative to it, e.g. tables/units.csv"],
      [lineOf(fixed, 'flags:'), 'table_path', "'tables/flags.txt' is not a table file; expected a .csv, .yaml, .yml, .json file"],
      [lineOf(fixed, 'lis codes'), 'table_name', "'lis codes' is not a table name; expected letters, digits, _ or -, starting with a letter, e.g. analytes"],
    ],
  );
  assert.equal(second.length, 4);
});

test('a broken table used by two mappings is reported once, in the table file at its line; neither mapping is used', (t) => {
  const broken = ANALYTES.replace('K,"Potassium, whole blood (POC analyser)"', 'K,Potassium, whole blood (POC analyser)');
  const dir = configDir({ channels: { 'c.yaml': BOTH }, mappings: { 'tables/analytes.csv': broken } });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  assert.deepEqual(channels, []);
  assert.deepEqual(
    issues.map((i: ConfigIssue) => [i.file, i.line, i.path, i.code]),
    [[dir.mappingFile('tables/analytes.csv'), lineOf(broken, 'K,Potassium, whole'), '(row)', 'table_columns']],
  );
  assert.match(issues[0]!.message, /^row has 9 fields; expected 8, as the header names \(code,display,loinc,loinc_display,unit,ucum,specimen,checked\)/);
});

test('a table named by a mapping whose kind or settings are wrong is still checked in the same pass', (t) => {
  const dir = configDir({
    channels: { 'c.yaml': channelYaml('c') },
    mappings: { 'oru-r01-lis.yaml': ORU.replace('processingId: P', 'processingId: X'), 'tables/units.csv': 'unit,ucum\nmmol/L,mmol/L\nmmol/L,mmol/L\n' },
  });
  t.after(() => dir.remove());
  const { issues } = dir.load();
  assert.deepEqual(issues.map((i) => [i.path, i.line]).sort(), [
    ['settings.processingId', lineOf(ORU, 'processingId: P')],
    ['unit', 3],
  ]);
});
