/**
 * The 35 real-world ORU^R01 messages of ../shared/hl7-samples (HAPI, nHapi, Mirth, NIST,
 * ReportStream …), read where they are: each one maps, or is refused with the specific
 * issues listed here. Skipped, saying so, when the folder is absent.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LabReport } from '../../../src/canonical/report.ts';
import { InputError } from '../../../src/errors.ts';
import { mapOruR01 } from '../../../src/mapping/hl7v2-oru/index.ts';
import type { MappedInput } from '../../../src/mapping/types.ts';
import { sharedSamplesPresent } from '../../support/shared-samples.ts';
import { SETTINGS, settings, sharedSamples } from './support.ts';

/** Files refused, with every issue (`path: message`) and why the refusal is right. */
const REFUSED: Record<string, string[]> = {
  // nHapi fixture: every OBX-11 is Z, a code outside HL7 table 0085 (mapped below with a row).
  '07-nhapi-lab-v231-subcomponent-dollar.hl7': Array.from(
    { length: 19 },
    (_, i) => `OBX[${i}]-11: OBX-11 (observation result status) 'Z' is not in HL7 table 0085 or the mapping's observationStatuses: add a row there to say what it means`,
  ),
  // Mirth engine test message: PID-7 'Aug 15, 1942' is not a TS.
  '08-mirth-v24-cmp-nonstandard-dates.hl7': ['PID[0]-7: PID-7 (date of birth) is not a valid HL7 date: expected YYYY[MM[DD]] (a time may follow)'],
  // The OBX carries two extra '|': the SN value sits in OBX-7 and OBX-5 and OBX-11 are empty.
  '21-hl7-elr-realm-hepc-sn-repeated-flags.hl7': [
    'OBX[0]-5: OBX-5 is empty, but OBX-11 (empty) does not say the result is pending, cancelled or deleted (I, O, X, N, D, W or U)',
  ],
  // OBR-22 '2008081830-0700': a 10-digit time stamp read as hour 30.
  '23-hl7-elr-realm-minimal-msh2-3chars.hl7': ['OBR[0]-22: OBR-22 is not an HL7 date/time: hour 30 is out of range'],
  // Stress test: OBX directly after PID and after ORC, an RP (reference pointer) value.
  '28-ms-iowa-phl-v251-stress-extra-segments.hl7': [
    'OBX[0]: OBX before any OBR: an observation must follow the OBR of its order',
    'OBX[1]: OBX before any OBR: an observation must follow the OBR of its order',
    "OBX[3]-2: OBX-2 value type 'RP' is not supported; expected one of NM, SN, ST, TX, FT, CE, CWE, CNE, IS, ID, DT, TM, TS, DTM, ED",
  ],
  // ED data 'AAAAAAAAA': nine Base64 characters cannot encode whole bytes.
  '34-reportstream-ed-jpeg-msh2-5chars.hl7': ['OBX[0]-5.5: OBX-5.5 ED data is not valid Base64'],
  // Parser fixture: DOB placeholder with month 00, OBX-3 left empty on every result.
  '35-nhapi-medtronic-paceart-v26-ihe-pcd.hl7': [
    'PID[0]-7: PID-7 (date of birth) is not a valid HL7 date: expected YYYY[MM[DD]] (a time may follow)',
    ...[0, 1, 2].map((i) => `OBX[${i}]-3: OBX-3 (observation identifier) is empty: a result must say what was measured`),
  ],
  // Converter fixture: TX lines without OBX-3 after the first OBX.
  '36-linuxforhealth-v26-tx-network-address.hl7': [1, 2, 3].map(
    (i) => `OBX[${i}]-3: OBX-3 (observation identifier) is empty: a result must say what was measured`,
  ),
  // Parser fixture: three FT results, none with an OBX-3.
  '37-nhapi-v271-ft-repetitions.hl7': [0, 1, 2].map((i) => `OBX[${i}]-3: OBX-3 (observation identifier) is empty: a result must say what was measured`),
};

function outcome(text: string): MappedInput[] | InputError {
  try {
    return mapOruR01(text, SETTINGS);
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
}

const samples = sharedSamples();
const byName = new Map((samples ?? []).map((s) => [s.name, s.text]));
function maps(name: string): MappedInput[] {
  const r = outcome(byName.get(name)!);
  assert.ok(Array.isArray(r), `${name}: ${r instanceof InputError ? r.message : ''}`);
  return r;
}

test('every shared sample maps to valid reports or is refused with exactly its listed issues', (t) => {
  if (!sharedSamplesPresent(t) || !samples) return;
  assert.ok(samples.length >= 30);
  const refused: string[] = [];
  for (const { name, text } of samples) {
    const r = outcome(text);
    if (r instanceof InputError) {
      refused.push(name);
      assert.equal(r.code, 'INPUT_INVALID', name);
      assert.deepEqual(
        r.issues.map((i) => `${i.path}: ${i.message}`),
        REFUSED[name] ?? [],
        name,
      );
      continue;
    }
    assert.ok(!(name in REFUSED), `${name} was expected to be refused`);
    assert.ok(r.length >= 1, name);
    const ids = r.map((m) => m.report.id);
    assert.equal(new Set(ids).size, ids.length, `${name}: report ids repeat: ${ids.join(', ')}`);
    for (const m of r) assert.ok(LabReport.safeParse(m.report).success, name);
  }
  assert.deepEqual(refused, Object.keys(REFUSED).filter((n) => byName.has(n)));
});

test('shared samples: Z segment before PID, empty PID, OBX without OBR-25, status Z through a mapping row', (t) => {
  if (!sharedSamplesPresent(t) || !samples) return;
  const [olis] = maps('01-hapi-olis-v23-zsegment-before-pid.hl7');
  assert.equal(olis!.report.id, 'T09-100442-RET-0');
  assert.deepEqual(olis!.report.patient?.identifiers, [{ value: '7005728', system: 'TML', type: 'MR', assigningAuthority: { namespace: 'TML' } }]);
  const [gas] = maps('11-hapi-bloodgas-v24-ft-highlight-mixed-eol.hl7');
  assert.equal(gas!.report.patient, undefined, "'PID|' names no patient");
  assert.match(gas!.report.observations[0]!.value, /^Type Venous\n\n Analysis pH : {2}7\.28 \(7\.38-7\.43\)/);
  const [lab] = mapOruR01(byName.get('07-nhapi-lab-v231-subcomponent-dollar.hl7')!, settings({ observationStatuses: { Z: 'preliminary' } }));
  assert.equal(lab!.report.observations.length, 19, 'repeated set ids are separate results');
  assert.deepEqual([lab!.report.status, lab!.report.observations[0]!.status, lab!.report.observations[0]!.statusText], ['preliminary', 'preliminary', 'Z']);
  assert.deepEqual(lab!.report.observations[16]!.flags, ['PL^Y'], 'an IS flag with a stray component is kept verbatim');
});

test('shared samples: preliminary then final (13 → 14) and final then corrected (15 → 16) keep their report ids', (t) => {
  if (!sharedSamplesPresent(t) || !samples) return;
  const pre = maps('13-ms-lab-oru-1-v25-preliminary-pending.hl7');
  const fin = maps('14-ms-lab-oru-2-v25-final-update.hl7');
  assert.deepEqual(pre.map((m) => m.report.id).sort(), fin.map((m) => m.report.id).sort());
  const pending = pre.find((m) => m.report.id === '82503246')!.report.observations[0]!;
  assert.deepEqual([pending.value, pending.status, pending.statusText], ['', 'registered', 'I']);
  const [final] = maps('15-nist-lri-gu-final-msh2-5chars.hl7');
  const [corrected] = maps('16-nist-lri-gu-corrected.hl7');
  assert.equal(final!.report.id, 'R-783274');
  assert.equal(corrected!.report.id, 'R-783274');
  assert.notEqual(final!.sourceId, corrected!.sourceId);
  assert.deepEqual([corrected!.report.correction, corrected!.report.status, corrected!.report.observations[0]!.value], [true, 'corrected', '20']);
  assert.deepEqual(corrected!.report.comments, ['Patient is extremely anxious about needles used for drawing blood.']);
  assert.deepEqual(corrected!.report.observations[0]!.comments, ['Specimen re-analyzed per request of ordering provider.']);
});

test('shared samples: orders without OBX, shared order numbers, parent/child panels, large newborn screening', (t) => {
  if (!sharedSamplesPresent(t) || !samples) return;
  const [rejected] = maps('17-nist-lri-gu-rejected-no-obx.hl7');
  assert.deepEqual([rejected!.report.status, rejected!.report.observations], ['cancelled', []]);
  const [noObx] = maps('27-athena-lri-obr-without-obx.hl7');
  assert.deepEqual([noObx!.report.status, noObx!.report.correction, noObx!.report.comments], ['corrected', true, undefined], 'the NTE after PID is a patient note');
  const joes = maps('24-hl7-elr-realm-two-orders-joes-lab.hl7');
  assert.deepEqual(
    joes.map((m) => [m.sourceId, m.report.id]),
    [
      ['1234567890#1', '9700123/625-4'],
      ['1234567890#2', '9700123/10368-9'],
    ],
  );
  const culture = maps('18-nist-lri-gu-culture-susceptibility-parent-child.hl7');
  assert.deepEqual(
    culture.map((m) => m.report.id),
    ['R-783274-4', 'R-783274-5', 'R-783274-6', 'R-783274-7'],
  );
  assert.deepEqual(
    culture[1]!.report.observations.map((o) => [o.value, o.subId, o.flags]),
    [
      ['<0.06', '1', ['S']],
      ['0.05', '1', ['S']],
      ['0.05', '1', ['S']],
    ],
  );
  const nbs = maps('33-reportstream-cdph-newborn-screening-large.hl7');
  assert.equal(nbs.length, 20);
  assert.equal(nbs[0]!.report.id, '55555555/54089-8');
  assert.equal(nbs[6]!.report.id, '7181233072');
  assert.equal(nbs[18]!.report.id, '55555555/99717-28', 'the panel code comes from the alternate triplet');
  assert.ok(nbs.flatMap((m) => m.report.observations).some((o) => o.unit === 'µmol/L'));
});

test('shared samples: coded values without a code, ranges with separators, POC device, coded results', (t) => {
  if (!sharedSamplesPresent(t) || !samples) return;
  const [pertussis] = maps('25-cerner-healthsentry-elr-ce-without-code.hl7');
  const o = pertussis!.report.observations[0]!;
  // Text with no code: kept as text in its place (CE-2, with CE-3), never taken for a code.
  assert.deepEqual([o.value, o.valueCoding], ['Bordetella pertussis', { code: 'Bordetella pertussis', system: 'SNM', textOnly: true }]);
  const [lead] = maps('26-cerner-healthsentry-elr-lead-caret-range.hl7');
  assert.equal(lead!.report.observations[0]!.referenceRange, '^^10.000000');
  const [cue] = maps('30-reportstream-cue-poc-molecular-aoe.hl7');
  assert.deepEqual(cue!.report.device, { id: '12345-67890-abcd' });
  assert.equal(cue!.report.observations.length, 16);
  assert.deepEqual(cue!.report.observations[15]!.valueCoding, { code: '34' });
  const [hep] = maps('19-nist-lri-gu-ru-hepatitis-reflex.hl7');
  // Every triplet and the original text (CWE-9) as sent.
  assert.deepEqual(hep!.report.observations[0]!.valueCoding, {
    code: '260385009',
    display: 'Negative (qualifier value)',
    system: 'SCT',
    alternates: [{ code: 'NEG', display: 'NEGATIVE', system: 'L' }],
    originalText: 'Negative (qualifier value)',
  });
  assert.equal(hep!.report.observations[3]!.value, '0.40');
  const [covid] = maps('04-reportstream-orchard-v23-covid-nte-escapes.hl7');
  assert.deepEqual(covid!.report.observations[0]!.loinc, { code: '94500-6', display: 'SARS-CoV-2', system: 'LN' });
  assert.match(covid!.report.observations[0]!.comments[0]!, /decisions\. Negative results[\s\S]*\n\nThis test has been authorized/);
});
