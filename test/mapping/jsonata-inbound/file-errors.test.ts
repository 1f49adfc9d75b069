/**
 * A broken `jsonata` mapping file is refused at load, every problem in one pass, each with the
 * file, the line of its key, the path inside the file and what is wrong, and the mapping is
 * not used. Checked through the configuration loader, as `conduit validate` and a reload see it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import type { ConfigIssue } from '../../../src/config/yaml-file.ts';
import { CONDUIT_FUNCTIONS, JSONATA_FUNCTIONS } from '../../../src/mapping/jsonata-inbound/compile.ts';
import { channelYaml, configDir, issueAt, lineOf } from '../../config/support.ts';
import { settingsProblems } from './support.ts';

/** A mapping file whose report tree is `report` (YAML lines, indented by four). */
function mappingFile(report: string, extra = ''): string {
  return `kind: jsonata
description: a mapping under test
settings:
  sourceId: '=result.id'
  tables:
    statuses:
      final: { canonical: final }
${extra}  report:
    id: '=result.id'
    version: 1
    correction: false
    status: "=$lookup('statuses', result.status, 'canonical')"
    provenance: { kind: platform-event }
${report}`;
}

const OBSERVATIONS = `    observations: '=result.observations.{ "code": { "code": analyte }, "value": value, "status": "final" }'\n`;

/** Loads a configuration with one channel using the mapping file `text`; its issues and whether the channel loaded. */
function load(text: string): { issues: readonly ConfigIssue[]; file: string; loaded: boolean } {
  const dir = configDir({ channels: { 'c.yaml': channelYaml('c', { 'mapping: platform-result': 'mapping: under-test' }) }, mappings: { 'under-test.yaml': text } });
  try {
    const { channels, issues } = dir.load();
    return { issues, file: dir.mappingFile('under-test.yaml'), loaded: channels.length === 1 };
  } finally {
    dir.remove();
  }
}

test('a good mapping file loads, and the repository sample loads', () => {
  const good = load(mappingFile(OBSERVATIONS));
  assert.deepEqual(good.issues, []);
  assert.ok(good.loaded);
  const dir = configDir({ channels: { 'c.yaml': channelYaml('c', { 'mapping: platform-result': 'mapping: platform-result-jsonata' }) } });
  try {
    assert.deepEqual(dir.load().issues, []);
  } finally {
    dir.remove();
  }
});

test('a syntax error names the field, the line of its key, the JSONata message and where in the expression', () => {
  const text = mappingFile(`    observations: |-
      =result.observations.{
        "code": { "code": analyte },
        "value": value
        "status": "final"
      }
`);
  const { issues, file, loaded } = load(text);
  const i = issueAt(issues, file, 'settings.report.observations');
  assert.equal(i.line, lineOf(text, 'observations: |-'));
  assert.equal(i.code, 'expression_syntax');
  assert.equal(i.message, `invalid expression: Expected "}", got "status" at character 80 ('status') (line 4 of the expression), near '"status"⟨here⟩: "final"'`);
  assert.equal(issues.length, 1);
  assert.equal(loaded, false);
  const oneLine = load(mappingFile(`    observations: '=result.observations[0'\n`));
  assert.equal(
    issueAt(oneLine.issues, oneLine.file, 'settings.report.observations').message,
    `invalid expression: Expected "]" before end of expression at character 21 ('(end)'), near 'result.observations[0⟨here⟩'`,
  );
});

test("the file's own tables: (CSV files) serve $lookup beside settings.tables; a name in both is refused", async () => {
  const loinc = `${OBSERVATIONS.replace('"status": "final" }', '"status": "final", "loinc": { "code": $lookup("analytes", analyte, "loinc") } }')}`;
  const text = mappingFile(loinc).replace('description: a mapping under test\n', 'description: a mapping under test\ntables:\n  analytes: tables/analytes.csv\n');
  const dir = configDir({ channels: { 'c.yaml': channelYaml('c', { 'mapping: platform-result': 'mapping: under-test' }) }, mappings: { 'under-test.yaml': text } });
  try {
    const { channels, issues } = dir.load();
    assert.deepEqual(issues, []);
    const [m] = await channels[0]!.mapping!.map({ text: JSON.stringify({ result: { id: 'r', status: 'final', observations: [{ analyte: 'GLU', value: '5.4' }] } }), format: 'json' });
    assert.deepEqual(m!.report.observations[0]!.loinc, { code: '14743-9' });
  } finally {
    dir.remove();
  }
  const twice = load(text.replace('    statuses:\n', '    analytes:\n      GLU: { loinc: x }\n    statuses:\n'));
  const i = issueAt(twice.issues, twice.file, 'tables.analytes');
  assert.equal(i.code, 'table_name');
  assert.equal(i.message, "table 'analytes' is also defined in settings.tables");
});

test('a lookup of a table the file does not have names the table and the tables there are', () => {
  const text = mappingFile(OBSERVATIONS).replace("$lookup('statuses'", "$lookup('statusez'");
  const { issues, file } = load(text);
  const i = issueAt(issues, file, 'settings.report.status');
  assert.equal(i.line, lineOf(text, 'status: "=$lookup'));
  assert.equal(i.code, 'table_missing');
  assert.equal(i.message, "invalid expression: $lookup of unknown table 'statusez'; tables: statuses, near '⟨here⟩$lookup('statusez','");
});

test('a call of a function that does not exist is refused at load, not on every message', () => {
  const text = mappingFile(`${OBSERVATIONS}    observedAt: '=$fhirDatetime(result.observed_at)'\n`);
  const { issues, file } = load(text);
  assert.equal(issueAt(issues, file, 'settings.report.observedAt').code, 'unknown_function');
  assert.equal(
    issueAt(issues, file, 'settings.report.observedAt').message,
    "unknown function $fhirDatetime, near '$fhirDatetime⟨here⟩(result.observed_at)'; the functions are JSONata's own and Conduit's $lookup, $hl7dtm, $fhirDateTime, $identifier",
  );
  // Functions the expression defines itself are known.
  assert.deepEqual(load(mappingFile(`${OBSERVATIONS}    issuedAt: '=($f := function($x) { $x }; $f(result.issued_at))'\n`)).issues, []);
});

test('the list of JSONata functions is the library’s own, so that none is taken for unknown', async () => {
  const { compileExpression } = await import('../../../src/mapping/expressions/index.ts');
  for (const name of [...JSONATA_FUNCTIONS, ...CONDUIT_FUNCTIONS]) {
    assert.equal(await compileExpression(`$type($${name})`).evaluate({}), 'function', `$${name}`);
  }
  // And the other way round, read from the library's source: a JSONata upgrade that adds a
  // function fails here rather than refusing mapping files that use it.
  const source = readFileSync(createRequire(import.meta.url).resolve('jsonata'), 'utf8');
  const bound = [...source.matchAll(/staticFrame\.bind\('(\w+)'/g)].map((m) => m[1]!);
  assert.ok(bound.length > 50);
  assert.deepEqual(bound.filter((f) => !JSONATA_FUNCTIONS.has(f)), []);
});

test('a field the canonical report does not have is refused, listing the fields there', () => {
  const text = mappingFile(`${OBSERVATIONS}    patient:\n      family: '=result.patient.family'\n      nickname: '=result.patient.nickname'\n`);
  const { issues, file } = load(text);
  const i = issueAt(issues, file, 'settings.report.patient.nickname');
  assert.equal(i.line, lineOf(text, 'nickname:'));
  assert.equal(i.code, 'unknown_field');
  assert.equal(i.message, "'nickname' is not a field of the canonical report here; expected one of id, identifiers, family, given, nameNulls, nameHighlighting, birthDate, sex");
});

test('a required field the tree leaves out (the id) is refused where it belongs', () => {
  const text = mappingFile(OBSERVATIONS).replace("    id: '=result.id'\n", '');
  const { issues, file } = load(text);
  const i = issueAt(issues, file, 'settings.report');
  assert.equal(i.line, lineOf(text, '  report:'));
  assert.equal(i.code, 'required');
  assert.equal(i.message, "'id' is required by the canonical report: set it with a literal or an '=' expression");
  // Inside an optional object too: a panel needs its code.
  const panel = load(mappingFile(`${OBSERVATIONS}    panel:\n      display: '=result.panel.display'\n`));
  assert.equal(issueAt(panel.issues, panel.file, 'settings.report.panel').message, "'code' is required by the canonical report: set it with a literal or an '=' expression");
});

test('a literal of the wrong type is refused at load, saying what the field takes', () => {
  const text = mappingFile(`${OBSERVATIONS}    panel:\n      code: 1234\n`).replace('    version: 1\n', "    version: 'one'\n").replace('correction: false', 'correction: no-it-is-not');
  const { issues, file } = load(text);
  assert.equal(issueAt(issues, file, 'settings.report.version').message, "expected a number; the file gives a string (start it with '=' for an expression)");
  assert.equal(issueAt(issues, file, 'settings.report.correction').message, "expected true or false; the file gives a string (start it with '=' for an expression)");
  assert.equal(issueAt(issues, file, 'settings.report.panel.code').message, "expected a string; the file gives a number (quote it to make it text, or start it with '=' for an expression)");
  assert.equal(issueAt(issues, file, 'settings.report.panel.code').line, lineOf(text, 'code: 1234'));
  assert.equal(issueAt(issues, file, 'settings.report.panel.code').code, 'invalid_literal');
  const status = load(mappingFile(OBSERVATIONS).replace(/ {4}status: .*\n/, '    status: done\n'));
  assert.equal(
    issueAt(status.issues, status.file, 'settings.report.status').message,
    "expected one of registered, preliminary, final, corrected, amended, cancelled, entered-in-error, unknown; the file gives another value (start it with '=' for an expression)",
  );
  const date = load(mappingFile(`${OBSERVATIONS}    observedAt: yesterday\n`));
  assert.equal(
    issueAt(date.issues, date.file, 'settings.report.observedAt').message,
    "expected an ISO 8601 date-time such as 2026-11-20T09:13:41+01:00 (a literal here; start it with '=' for an expression)",
  );
});

test('a list or object where the report has a value, and the other way round, are refused', () => {
  assert.deepEqual(settingsProblems({ report: { id: { value: '=result.id' } } }).slice(0, 1), [
    "settings.report.id: the canonical report has a string here, not an object: write a literal or an '=' expression",
  ]);
  assert.deepEqual(settingsProblems({ report: { id: ['=result.id'] } }).slice(0, 1), [
    "settings.report.id: the canonical report has a string here, not a list: write a literal or an '=' expression",
  ]);
});

test('settings of the wrong shape: no report, a reports that is no expression, an unknown key, a table of the wrong shape', () => {
  assert.deepEqual(settingsProblems({}), ["settings.report: expected the report: a tree of fields, or one '=' expression"]);
  assert.deepEqual(settingsProblems({ report: '=$', reports: 'results' }), ["settings.reports: expected a JSONata expression starting with '='"]);
  assert.deepEqual(settingsProblems({ report: '=$', format: 'hl7v2' }), ["settings.format: expected 'json'"]);
  assert.deepEqual(settingsProblems({ report: '=$', tables: { statuses: { final: { canonical: 1 } } } }), [
    'settings.tables.statuses.final.canonical: expected text (quote numbers in YAML)',
  ]);
  const { issues, file } = load(mappingFile(OBSERVATIONS, '  mapping: yes\n'));
  assert.equal(issueAt(issues, file, 'settings.mapping').message, "unknown key 'mapping'");
});

test('every problem of a file is reported in one pass', () => {
  const text = mappingFile(`    observations: '=result.observations.{'
    observedAt: '=$nope()'
    patient:
      nickname: x
`).replace("$lookup('statuses'", "$lookup('statusez'");
  const { issues } = load(text);
  assert.deepEqual(
    issues.map((i) => `${i.line}: ${i.path}`),
    [
      `${lineOf(text, 'status: "=')}: settings.report.status`,
      `${lineOf(text, 'observations:')}: settings.report.observations`,
      `${lineOf(text, 'observedAt:')}: settings.report.observedAt`,
      `${lineOf(text, 'nickname:')}: settings.report.patient.nickname`,
    ],
  );
});
