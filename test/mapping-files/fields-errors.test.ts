/**
 * Every problem of a broken `fields:` / `segments:` section is refused when the configuration
 * is loaded, in the mapping file, with its line and what was expected; the mapping (and so its
 * channel) is not used.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ConfigIssue } from '../../src/config/yaml-file.ts';
import { channelYaml, configDir, lineOf, REPO } from '../config/support.ts';

const ORU = readFileSync(join(REPO, 'mappings', 'oru-r01-lis.yaml'), 'utf8');

/** Loads the repository's oru-r01-lis.yaml with `extra` appended; its issues, and whether the channel loaded. */
function load(extra: string, t: { after(fn: () => void): void }): { issues: ConfigIssue[]; text: string; file: string; loaded: boolean; at(needle: string): number } {
  const text = `${ORU}\n${extra}`;
  // Lines of the appended text: the repository file has commented examples of the same keys.
  const at = (needle: string) => ORU.split('\n').length + lineOf(extra, needle);
  const dir = configDir({ channels: { 'c.yaml': channelYaml('c') }, mappings: { 'oru-r01-lis.yaml': text } });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  return { issues: [...issues], text, file: dir.mappingFile('oru-r01-lis.yaml'), loaded: channels.length === 1, at };
}

/** [path, line, code, message] of each issue, for comparing all of them at once. */
const brief = (issues: readonly ConfigIssue[]) => issues.map((i) => [i.path, i.line, i.code, i.message]);

test('the repository mapping with valid fields and segments loads', (t) => {
  const r = load("fields:\n  MSH-5: LABSYS\n  PID-3[*].4: NORTHSIDE\nsegments:\n  - { name: ZRS, after: OBX, fields: { 1: '=report.device.site' } }\n", t);
  assert.deepEqual(r.issues, []);
  assert.ok(r.loaded);
});

test('bad field paths: not a path, a lower-case segment, a zero, an NTE, a reserved MSH field', (t) => {
  const r = load('fields:\n  PID3.4: X\n  pid-3: X\n  PID-3[0].1: X\n  OBX-0: X\n  NTE-3: X\n  MSH-10: X\n  MSH-2: X\n  PID-3.4.1.2: X\n', t);
  assert.ok(!r.loaded);
  assert.ok(r.issues.every((i) => i.file === r.file));
  assert.deepEqual(brief(r.issues), [
    ['fields.PID3.4', r.at('PID3.4:'), 'field_path', "'PID3.4' is not a field path; expected SEG-n[.c[.s]], e.g. PID-3.4 (first repetition), PID-3[*].4 (every repetition) or PID-3[2].4 (the second)"],
    ['fields.pid-3', r.at('pid-3:'), 'segment_name', "'pid' in 'pid-3' is not a segment name; expected three upper-case letters or digits, e.g. PID"],
    ['fields.PID-3[0].1', r.at('PID-3[0].1:'), 'field_path', "'PID-3[0].1': fields, repetitions, components and subcomponents count from 1"],
    ['fields.OBX-0', r.at('OBX-0:'), 'field_path', "'OBX-0': fields, repetitions, components and subcomponents count from 1"],
    ['fields.NTE-3', r.at('NTE-3:'), 'field_segment', 'fields: cannot set NTE segments; expected a path in one of MSH, PID, PV1, ORC, OBR, OBX (add other segments under segments:)'],
    ['fields.MSH-10', r.at('MSH-10:'), 'field_reserved', 'MSH-10 cannot be set: MSH-10 is the control id the acknowledgement must echo (MSA-2)'],
    ['fields.MSH-2', r.at('MSH-2:'), 'field_reserved', 'MSH-2 cannot be set: MSH-1 and MSH-2 are the delimiters the encoder writes'],
    ['fields.PID-3.4.1.2', r.at('PID-3.4.1.2:'), 'field_path', "'PID-3.4.1.2' is not a field path; expected SEG-n[.c[.s]], e.g. PID-3.4 (first repetition), PID-3[*].4 (every repetition) or PID-3[2].4 (the second)"],
  ]);
});

test('a value that is a map or list is refused at its key', (t) => {
  const r = load('fields:\n  OBX-5: { a: 1 }\n  OBX-6: [a, b]\n', t);
  assert.deepEqual(brief(r.issues), [
    ['fields.OBX-5', r.at('OBX-5:'), 'invalid_union', "expected a literal value or a JSONata expression starting with '='"],
    ['fields.OBX-6', r.at('OBX-6:'), 'invalid_union', "expected a literal value or a JSONata expression starting with '='"],
  ]);
});

test('a JSONata syntax error is refused at its line, with the JSONata message and position in the value', (t) => {
  const r = load("fields:\n  MSH-5: LABSYS\n  OBX-3: '=[observation.code.code, '\n  OBX-4: '=observation.code.code +* 2'\n", t);
  assert.deepEqual(brief(r.issues), [
    ['fields.OBX-3', r.at('OBX-3:'), 'expression', `bad JSONata expression: Expected "]" before end of expression at character 25 ('(end)')`],
    ['fields.OBX-4', r.at('OBX-4:'), 'expression', "bad JSONata expression: Syntax error: 2 at character 27 ('2')"],
  ]);
});

test('a multi-line expression names the line of the expression where the error is', (t) => {
  const r = load('fields:\n  OBX-17: |-\n    =observation.code.code = "GLU"\n      ? "A"\n      : (\n', t);
  assert.equal(r.issues.length, 1);
  assert.equal(r.issues[0]!.line, r.at('OBX-17:'));
  assert.match(r.issues[0]!.message, /^bad JSONata expression: .* at character \d+ \(line 3 of the expression\)/);
});

test('a $lookup of a table the mapping does not name is refused, listing the tables it names', (t) => {
  const r = load("fields:\n  OBX-3.4: '=$lookup(\"lis_codes\", observation.code.code, \"code\")'\n", t);
  assert.deepEqual(brief(r.issues), [
    ['fields.OBX-3.4', r.at('OBX-3.4:'), 'expression', "bad JSONata expression: $lookup of unknown table 'lis_codes'; tables: analytes, units, flags"],
  ]);
});

test('bad segments: a bad name, MSH, an unknown anchor, a bad per, a bad field key, an unknown key, a bad expression — all in one pass', (t) => {
  const extra = [
    'segments:',
    '  - name: zrs',
    '    after: OBR',
    '  - name: MSH',
    '    after: OBR',
    '  - name: ZRT',
    '    after: XYZ',
    '    per: sometimes',
    '    colour: red',
    '    fields:',
    '      A: x',
    "      2: '=report.('",
    '  - name: ZRU',
    '    after: ZRT',
    '  - just text',
  ].join('\n');
  const r = load(`${extra}\n`, t);
  const { at } = r;
  assert.deepEqual(brief(r.issues), [
    ['segments[0].name', at('name: zrs'), 'segment_name', "'zrs' is not a segment name; expected three upper-case letters or digits starting with a letter, e.g. ZRS"],
    ['segments[1].name', at('name: MSH'), 'segment_name', 'a message has one MSH; expected another segment name, e.g. ZRS'],
    ['segments[2].colour', at('colour: red'), 'unrecognized_keys', "unknown key 'colour'; expected name, after, per, fields"],
    ['segments[2].per', at('per: sometimes'), 'invalid_value', 'Invalid option: expected one of "report"|"observation"'],
    ['segments[2].after', at('after: XYZ'), 'segment_after', "'XYZ' is not a segment of the message; expected one of MSH, PID, PV1, ORC, OBR, OBX, NTE or a segment added above"],
    // Integer-like keys come first in a JavaScript object.
    ['segments[2].fields.2', at("2: '=report.('"), 'expression', `bad JSONata expression: Expected ")" before end of expression at character 9 ('(end)')`],
    ['segments[2].fields.A', at('A: x'), 'field_path', "'A' is not a field of this segment; expected n[.c[.s]], e.g. 1, 2.1 or 3[2].1"],
    ['segments[4]', at('- just text'), 'invalid_type', 'expected a segment such as { name: ZRS, after: OBR, per: report, fields: { 1: POC } }'],
  ]);
  assert.ok(!r.issues.some((i) => i.path.startsWith('segments[3]')), 'ZRU may follow ZRT, which is named well even though it has problems');
});

test('fields that is not a map, or segments that is not a list, is refused at the key', (t) => {
  const r = load('fields: [MSH-5]\nsegments: { name: ZRS }\n', t);
  assert.deepEqual(brief(r.issues), [
    ['fields', r.at('fields: [MSH-5]'), 'invalid_type', 'expected a map of field path → value, e.g. MSH-5: LABSYS'],
    ['segments', r.at('segments: {'), 'invalid_type', 'expected a list of segments, e.g. - { name: ZRS, after: OBR, fields: { 1: POC } }'],
  ]);
});

test('fields: in a mapping whose kind does not read it is an unknown key', (t) => {
  const fhir = readFileSync(join(REPO, 'mappings', 'fhir-r4-ehr.yaml'), 'utf8');
  const text = `${fhir}\nfields:\n  MSH-5: LABSYS\n`;
  const channel = channelYaml('c', { 'mapping: oru-r01-lis': '    mapping: fhir-r4-ehr', 'type: mllp': '      type: fhir', 'host: 127.0.0.1': '      baseUrl: http://127.0.0.1:1/fhir', 'port: 2575': null });
  const dir = configDir({ channels: { 'c.yaml': channel }, mappings: { 'fhir-r4-ehr.yaml': text } });
  t.after(() => dir.remove());
  const { issues, channels } = dir.load();
  assert.deepEqual(brief(issues), [['fields', lineOf(text, 'fields:'), 'unrecognized_keys', "unknown key 'fields'; kind fhir-bundle does not read it"]]);
  assert.deepEqual(channels, []);
});
