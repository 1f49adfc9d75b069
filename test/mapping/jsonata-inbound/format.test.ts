/**
 * The `jsonata` mapping file format: literals and expressions, what is left out, lists of one,
 * tree lists, several reports from one input, the idempotency key, tables, values as sent.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pick, prng } from '../../support/prng.ts';
import { issues, jsonataMapping, mapped, minimalReport } from './support.ts';

const EVENT = { id: 'evt_1', result: { id: 'res_1', observations: [{ analyte: 'GLU', value: '5.4' }] } };

test("a leaf starting with '=' is an expression, any other a literal; a literal '=' text is written as an expression", async () => {
  const mapping = jsonataMapping({
    report: minimalReport({ version: '=2', correction: true, panel: { code: 'POC', display: '="=not an expression"', system: 'L' } }),
  });
  const [m] = await mapped(EVENT, mapping);
  assert.equal(m!.report.version, 2);
  assert.equal(m!.report.correction, true);
  assert.deepEqual(m!.report.panel, { code: 'POC', display: '=not an expression', system: 'L' });
});

test('an optional object whose expressions give nothing is left out; a required one keeps its literals', async () => {
  const mapping = jsonataMapping({
    report: minimalReport({
      order: { id: '=result.order_ref', accession: '=result.accession' },
      panel: { code: '=result.panel.code', system: 'L' },
      patient: { identifiers: "=[result.mrn ? { 'value': result.mrn, 'type': 'MR' }]", given: '=result.given' },
      provenance: { kind: 'platform-event', eventId: '=id', tenant: '=tenant' },
    }),
  });
  const [bare] = await mapped({ result: EVENT.result }, mapping);
  assert.equal(bare!.report.order, undefined);
  assert.equal(bare!.report.panel, undefined);
  // An empty list is nothing too: no identifiers and no names make no patient.
  assert.equal(bare!.report.patient, undefined);
  assert.deepEqual(bare!.report.provenance, { kind: 'platform-event' });
  const [full] = await mapped({ ...EVENT, result: { ...EVENT.result, accession: 'A1', mrn: 'M1' } }, mapping);
  assert.deepEqual(full!.report.order, { accession: 'A1' });
  assert.deepEqual(full!.report.patient, { identifiers: [{ value: 'M1', type: 'MR' }], given: [] });
});

test('one match is a list of one where the report has a list (JSONata gives the item, not a list of it)', async () => {
  const mapping = jsonataMapping({
    report: minimalReport({
      observations: '=result.observations.{ "code": { "code": analyte }, "value": value, "status": "final", "flags": flag, "comments": note }',
      patient: { given: '=result.name' },
    }),
  });
  const [m] = await mapped({ result: { id: 'r', name: 'Mai', observations: [{ analyte: 'K', value: '6.1', flag: 'H', note: 'haemolysed' }] } }, mapping);
  assert.equal(m!.report.observations.length, 1);
  assert.deepEqual(m!.report.observations[0]!.flags, ['H']);
  assert.deepEqual(m!.report.observations[0]!.comments, ['haemolysed']);
  assert.deepEqual(m!.report.patient!.given, ['Mai']);
});

test('a list in the tree: items whose expressions give nothing are left out, and issues name the item the report has', async () => {
  const mapping = jsonataMapping({
    report: minimalReport({
      patient: {
        identifiers: [
          { value: '=result.pid', system: 'CATENIX', type: 'PI' },
          { value: '=result.mrn', system: 'MRN', type: 'MR' },
        ],
      },
    }),
  });
  const [m] = await mapped({ result: { ...EVENT.result, mrn: 'M1' } }, mapping);
  assert.deepEqual(m!.report.patient!.identifiers, [{ value: 'M1', system: 'MRN', type: 'MR' }]);
  assert.deepEqual(await issues({ result: { ...EVENT.result, mrn: 77 } }, mapping), [
    'report.patient.identifiers[0].value: expected a string; the mapping gave a number from result.mrn; a number is not turned into text (write $string(…) in the mapping to convert it knowingly)',
  ]);
});

test('reports: one input holding several results gives one report each, with its own key; $event is the whole input', async () => {
  const mapping = jsonataMapping({
    reports: '=results',
    report: minimalReport({
      id: '=id',
      observations: '=[{ "code": { "code": analyte }, "value": value, "status": "final" }]',
      provenance: { kind: 'rest', eventId: '=$event.batch', tenant: '=$$.site' },
    }),
    sourceVersion: '=$string(rev)',
  });
  const batch = {
    batch: 'B-7',
    results: [
      { id: 'r1', rev: 1, analyte: 'GLU', value: '5.4', site: 'north' },
      { id: 'r2', rev: 3, analyte: 'K', value: '4.1' },
    ],
  };
  const out = await mapped(batch, mapping);
  assert.deepEqual(
    out.map((m) => [m.sourceId, m.sourceVersion, m.report.observations[0]!.code.code, m.report.provenance]),
    [
      ['r1', '1', 'GLU', { kind: 'rest', eventId: 'B-7', tenant: 'north' }],
      ['r2', '3', 'K', { kind: 'rest', eventId: 'B-7' }],
    ],
  );
  // Issues name the report by its place and the input field by its path in the whole input.
  const bad = structuredClone(batch) as { results: Array<Record<string, unknown>> };
  bad.results[1]!.value = 4.1;
  delete bad.results[0]!.id;
  assert.deepEqual(await issues(bad, mapping), [
    'reports[0].id: required, but the mapping gave nothing: results[0].id is not in the input',
    'reports[1].observations[0].value: expected a string; the mapping gave a number from results[1].value; a number is not turned into text (write $string(…) in the mapping to convert it knowingly)',
  ]);
  // One result, not in a list, is one report.
  assert.equal((await mapped({ results: batch.results[0] }, mapping)).length, 1);
  assert.deepEqual(await issues({ batch: 'B-8' }, mapping), ['reports: the mapping gave no reports: results is not in the input']);
});

test('the whole report may be one expression; the key defaults to the report id and version', async () => {
  const mapping = jsonataMapping({
    report: `=result.{
      "id": id, "version": 4, "correction": false, "status": "final",
      "observations": observations.{ "code": { "code": analyte }, "value": value, "status": "final" },
      "provenance": { "kind": "platform-event" }
    }`,
  });
  const [m] = await mapped(EVENT, mapping);
  assert.equal(m!.sourceId, 'res_1');
  assert.equal(m!.sourceVersion, '4');
  assert.equal(m!.report.observations[0]!.value, '5.4');
  assert.deepEqual(await issues({ result: { observations: [{ analyte: 'A', value: 1 }] } }, mapping), [
    'report.id: required, but the mapping gave nothing: result.id is not in the input',
    'report.observations[0].value: expected a string; the mapping gave a number from result.observations[0].value; a number is not turned into text (write $string(…) in the mapping to convert it knowingly)',
  ]);
});

test('inline tables: $lookup reads a column of the row keyed on the value', async () => {
  const mapping = jsonataMapping({
    tables: { analytes: { GLU: { loinc: '2345-7', display: 'Glucose' } } },
    report: minimalReport({
      observations: `=result.observations.{
        "code": { "code": analyte },
        "loinc": $lookup('analytes', analyte) ? { "code": $lookup('analytes', analyte, 'loinc'), "system": "http://loinc.org" },
        "value": value, "status": "final" }`,
    }),
  });
  const [m] = await mapped({ result: { id: 'r', observations: [{ analyte: 'GLU', value: '5.4' }, { analyte: 'XYZ', value: '1' }] } }, mapping);
  assert.deepEqual(m!.report.observations[0]!.loinc, { code: '2345-7', system: 'http://loinc.org' });
  assert.equal(m!.report.observations[1]!.loinc, undefined);
});

test('values, units, ranges, flags and comments are carried exactly as sent (seeded random text)', async () => {
  const rand = prng(4711);
  const alphabet = ['5', '.', '0', '<', '>', '=', ' ', '|', '^', '~', '\\', '&', 'é', '中', '🧪', '\n', 'E', '-', '+', '"', "'", '$', '{', '}'];
  const text = () => Array.from({ length: 1 + Math.floor(rand() * 12) }, () => pick(rand, alphabet)).join('');
  const mapping = jsonataMapping({
    report: minimalReport({
      observations:
        '=result.observations.{ "code": { "code": analyte }, "value": value, "unit": unit, "referenceRange": range, "flags": flags, "comments": comment, "status": "final" }',
    }),
  });
  for (let round = 0; round < 25; round++) {
    const observations = Array.from({ length: 1 + Math.floor(rand() * 4) }, (_, i) => ({
      analyte: `A${i}`,
      value: text(),
      unit: text(),
      range: text(),
      flags: [text(), text()],
      comment: text(),
    }));
    const [m] = await mapped({ result: { id: 'r', observations } }, mapping);
    assert.deepEqual(
      m!.report.observations.map((o) => [o.value, o.unit, o.referenceRange, o.flags, o.comments]),
      observations.map((o) => [o.value, o.unit, o.range, o.flags, [o.comment]]),
      `round ${round}`,
    );
  }
  // Text that looks like a number stays text, as written.
  const [m] = await mapped({ result: { id: 'r', observations: [{ analyte: 'A', value: '5.40' }, { analyte: 'B', value: '007' }, { analyte: 'C', value: '1e3' }] } }, mapping);
  assert.deepEqual(
    m!.report.observations.map((o) => o.value),
    ['5.40', '007', '1e3'],
  );
});

test('an object of literals only is always made; a literal-only object inside a list too', async () => {
  const mapping = jsonataMapping({
    report: minimalReport({ panel: { code: 'POC', system: 'L' }, patient: { identifiers: [{ value: 'SITE-1', system: 'SITE' }], family: '=result.family' } }),
  });
  const [m] = await mapped(EVENT, mapping);
  assert.deepEqual(m!.report.panel, { code: 'POC', system: 'L' });
  // The patient has expressions, none of which gave anything: its literal identifier alone does not make it.
  assert.equal(m!.report.patient, undefined);
  const [named] = await mapped({ result: { ...EVENT.result, family: 'Nguyen' } }, mapping);
  assert.deepEqual(named!.report.patient, { identifiers: [{ value: 'SITE-1', system: 'SITE' }], family: 'Nguyen', given: [] });
});
