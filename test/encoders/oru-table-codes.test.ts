/**
 * The ORU^R01 encoder with code tables: LOINC as the OBX-3 alternate triplet, UCUM in OBX-6,
 * flags mapped to table 0078 only with mapFlags, and a warning (no patient data) for an analyte
 * without LOINC, which still goes out with its local code.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Encoded } from '../../src/encoders/types.ts';
import { Hl7Message } from '../../src/protocols/hl7v2/index.ts';
import { encodeWith, oruFromYaml, repoTables, table } from './mapping-support.ts';
import { CTX, observation, report } from './support.ts';

async function encoded(r = report(), opts: Parameters<typeof oruFromYaml>[1] = {}): Promise<{ out: Encoded; obx: ReturnType<Hl7Message['all']> }> {
  const out = await encodeWith('', r, opts);
  return { out, obx: Hl7Message.parse(out.payload).all('OBX') };
}

test('OBX-3 gets the LOINC triplet of the analytes table as its alternate (CWE-4..6)', async () => {
  const { out, obx } = await encoded();
  assert.equal(obx[0]!.raw(3), 'GLU^Glucose^L^14743-9^Glucose [Moles/volume] in Capillary blood by Glucometer^LN');
  assert.equal(obx[1]!.raw(3), 'K^Potassium^L^6298-4^Potassium [Moles/volume] in Blood^LN');
  assert.equal(out.warnings, undefined, 'every analyte has LOINC: no warnings');
});

test('a LOINC the report carries wins over the table', async () => {
  const r = report({ observations: [observation({ loinc: { code: '2345-7', display: 'Glucose [Mass/volume] in Serum or Plasma', system: 'LN' } })] });
  const { obx } = await encoded(r);
  assert.equal(obx[0]!.raw(3), 'GLU^Glucose^L^2345-7^Glucose [Mass/volume] in Serum or Plasma^LN');
});

test('OBR-4 of a single-result report without panel gets the same LOINC alternate', async () => {
  const r = report({ panel: undefined, observations: [observation({ code: { code: 'CRP', display: 'CRP' }, unit: 'mg/L' })] });
  const m = Hl7Message.parse((await encodeWith('', r)).payload);
  assert.equal(m.segment('OBR')!.raw(4), 'CRP^CRP^L^1988-5^C reactive protein [Mass/volume] in Serum or Plasma^LN');
});

test('OBX-6 is ucum^unit^UCUM when the unit maps in the units table; an unknown unit goes alone, as sent', async () => {
  const r = report({
    observations: [
      observation({ unit: 'mmol/l' }),
      observation({ code: { code: 'WBC' }, value: '7.1', unit: 'x10^9/L' }),
      observation({ code: { code: 'GLU' }, unit: 'mmol per litre' }),
    ],
  });
  const { obx } = await encoded(r);
  assert.deepEqual(
    obx.map((s) => s.get(6, 1) + ' | ' + s.get(6, 2) + ' | ' + s.get(6, 3)),
    ['mmol/L | mmol/l | UCUM', '10*9/L | x10^9/L | UCUM', 'mmol per litre |  | '],
  );
});

test("without a units row, the analyte's own row gives UCUM when its unit is the unit sent", async () => {
  const tables = repoTables();
  tables.set('units', table('tables/units.csv', 'unit,ucum\n'));
  const r = report({ observations: [observation({ code: { code: 'TNI-HS' }, value: '12', unit: 'ng/L' }), observation({ code: { code: 'TNI-HS' }, value: '0.012', unit: 'ug/L' })] });
  const { obx } = await encoded(r, { tables });
  assert.equal(obx[0]!.raw(6), 'ng/L^ng/L^UCUM');
  assert.equal(obx[1]!.raw(6), 'ug/L', 'a unit other than the row\'s is not guessed');
});

test('an analyte without LOINC goes with its local code alone, and the encoding carries a warning naming the table', async () => {
  const r = report({ observations: [observation({ code: { code: 'XYZ', display: 'Secret-ish display' }, value: 'Nguyen' }), observation(), observation({ code: { code: 'XYZ' } })] });
  const { out, obx } = await encoded(r);
  assert.equal(obx[0]!.raw(3), 'XYZ^Secret-ish display^L');
  assert.deepEqual(out.warnings, ["analyte 'XYZ' has no LOINC code in tables/analytes.csv; sent with its local code only"]);
  assert.ok(!out.warnings!.join().includes('Nguyen'));
});

test('a mapping without an analytes table sends local codes by design: no LOINC, no warning', async () => {
  const { out, obx } = await encoded(report(), { tables: new Map() });
  assert.equal(obx[0]!.raw(3), 'GLU^Glucose^L');
  assert.equal(obx[0]!.raw(6), 'mmol/L');
  assert.equal(out.warnings, undefined);
});

test('flags go as sent unless mapFlags maps them through the hl7_0078 column; an unmapped one goes as sent, with a warning', async () => {
  const tables = repoTables();
  tables.set('flags', table('tables/flags.csv', 'flag,hl7_0078,fhir_code\nH,H,H\n+,H,H\nE,,E\n'));
  const r = report({ observations: [observation({ flags: ['+', 'E', 'QQ'] })] });
  assert.equal((await encoded(r, { tables })).obx[0]!.raw(8), '+~E~QQ');
  const mapped = await encoded(r, { tables, settings: { mapFlags: true } });
  assert.equal(mapped.obx[0]!.raw(8), 'H~E~QQ');
  assert.deepEqual(mapped.out.warnings, [
    "flag 'E' has no HL7 table 0078 code in tables/flags.csv; sent as received",
    "flag 'QQ' has no HL7 table 0078 code in tables/flags.csv; sent as received",
  ]);
});

test('expressions see the report with the table codes filled in', async () => {
  const out = await encodeWith("fields:\n  OBX-17: '=observation.loinc.code & \" \" & observation.ucum'\n", report());
  assert.deepEqual(
    Hl7Message.parse(out.payload)
      .all('OBX')
      .map((s) => s.raw(17)),
    ['14743-9 mmol/L', '6298-4 mmol/L'],
  );
});

test('a table the encoder reads must have its columns; mapFlags needs a flags table', () => {
  const tables = repoTables();
  tables.set('analytes', table('tables/a.yaml', '- { code: GLU, display: Glucose }\n'));
  tables.set('units', table('tables/u.csv', 'unit,code\n'));
  tables.delete('flags');
  const { issues } = oruFromYaml('', { tables, settings: { mapFlags: true } });
  assert.deepEqual(issues, [
    { path: ['tables', 'analytes'], code: 'table_columns', message: "table 'analytes' (tables/a.yaml) has no column 'loinc'; the oru-r01 encoder reads loinc from it" },
    { path: ['tables', 'units'], code: 'table_columns', message: "table 'units' (tables/u.csv) has no column 'ucum'; the oru-r01 encoder reads ucum from it" },
    { path: ['settings', 'mapFlags'], code: 'table_missing', message: 'mapFlags needs a flags table; expected tables: { flags: tables/flags.csv } in this file' },
  ]);
  const flags = repoTables();
  flags.set('flags', table('tables/flags.csv', 'flag,fhir_code\n'));
  assert.deepEqual(oruFromYaml('', { tables: flags, settings: { mapFlags: true } }).issues.map((i) => i.message), [
    "table 'flags' (tables/flags.csv) has no column 'hl7_0078'; the oru-r01 encoder reads hl7_0078 from it",
  ]);
  assert.deepEqual(oruFromYaml('', { tables: flags }).issues, [], 'without mapFlags the flags table is not read');
});

test('the synchronous encoder gives warnings too', () => {
  const { encoder } = oruFromYaml('');
  const out = encoder.encode(report({ observations: [observation({ code: { code: 'NOPE' } })] }), CTX) as Encoded;
  assert.deepEqual(out.warnings, ["analyte 'NOPE' has no LOINC code in tables/analytes.csv; sent with its local code only"]);
});
