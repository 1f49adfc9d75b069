/**
 * Every message of samples/hl7v2/ maps, and its key fields come out exactly as sent.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { mapped, report, sample, sampleNames } from './support.ts';

test('every sample in samples/hl7v2 maps to valid canonical reports', () => {
  const names = sampleNames();
  assert.ok(names.length >= 6, `only ${names.length} samples`);
  for (const name of names) {
    const out = mapped(sample(name));
    assert.ok(out.length >= 1, name);
    for (const m of out) {
      assert.ok(m.report.id.length > 0, name);
      assert.equal(m.report.provenance.kind, 'hl7v2', name);
      assert.match(m.sourceVersion, /^[0-9a-f]{16}$/, name);
    }
  }
});

test('01 POC glucose (v2.3): patient, encounter, order, device, operator, value, flag, NTE; local times stay local', () => {
  const [m] = mapped(sample('01-poc-glucose-v23.hl7'));
  assert.equal(m!.sourceId, 'PG-000417');
  const r = m!.report;
  assert.equal(r.id, 'P2611200417');
  assert.equal(r.version, 1);
  assert.equal(r.correction, false);
  assert.equal(r.status, 'final');
  assert.deepEqual(r.patient, {
    id: 'MRN-004211',
    identifiers: [
      { value: 'MRN-004211', system: 'NORTHSIDE', type: 'MR', assigningAuthority: { namespace: 'NORTHSIDE' } },
      { value: 'PAT19XK2', system: 'CATENIX', type: 'PI', assigningAuthority: { namespace: 'CATENIX' } },
    ],
    family: 'Nguyen',
    given: ['Thi', 'Mai'],
    birthDate: '1984-03-07',
    sex: 'female',
  });
  assert.deepEqual(r.encounter, { id: 'VN-3K9QX' });
  assert.deepEqual(r.order, { id: 'ORD-77120', accession: 'P2611200417', placerAuthority: { namespace: 'POCNET' }, fillerAuthority: { namespace: 'POCNET' } });
  assert.deepEqual(r.device, { id: 'GM7-88231', model: 'GLUCOMETER 7' });
  assert.deepEqual(r.operator, { id: 'OP12', name: 'Jide Okafor' });
  assert.deepEqual(r.panel, { code: 'GLU-POC', display: 'Glucose, point of care', system: 'L' });
  assert.equal(r.observedAt, '2026-11-20T09:13:41');
  assert.equal(r.issuedAt, '2026-11-20T09:15:00');
  assert.deepEqual(r.provenance, { kind: 'hl7v2', eventId: 'PG-000417', eventType: 'ORU^R01', occurredAt: '2026-11-20T09:15:00' });
  assert.deepEqual(r.observations, [
    {
      code: { code: 'GLU', display: 'Glucose', system: 'L', alternates: [{ code: '2345-7', display: 'Glucose [Mass/volume] in Serum or Plasma', system: 'LN' }] },
      loinc: { code: '2345-7', display: 'Glucose [Mass/volume] in Serum or Plasma', system: 'LN' },
      value: '7.9',
      valueType: 'NM',
      unit: 'mmol/L',
      ucum: 'mmol/L',
      unitCoding: { code: 'mmol/L', system: 'UCUM' },
      referenceRange: '3.9-5.5',
      flags: ['H'],
      status: 'final',
      statusText: 'F',
      observedAt: '2026-11-20T09:13:41',
      comments: ['Patient not fasting (ate 07:30).'],
    },
  ]);
  assert.deepEqual(r.attachments, []);
  assert.equal(r.comments, undefined);
});

test("02 CBC (v2.3.1, '$' subcomponents): 15 results in order, LOINC alternates, flags, escaped units, NTEs", () => {
  const r = report(sample('02-cbc-v231-dollar-subcomponent.hl7'));
  assert.equal(r.id, 'H26112100981');
  // CX-4 is RIVERSIDE$1.2.826…$ISO: read through the message's own '$', kept whole; the OID is the system.
  assert.deepEqual(r.patient?.identifiers, [
    {
      value: 'H0042871',
      system: 'urn:oid:1.2.826.0.1.3680043.10.1',
      type: 'MR',
      assigningAuthority: { namespace: 'RIVERSIDE', universalId: '1.2.826.0.1.3680043.10.1', universalIdType: 'ISO' },
    },
  ]);
  assert.equal(r.patient?.family, "O'Brien");
  assert.deepEqual(r.patient?.given, ['Seán', 'Pádraig']);
  assert.deepEqual(r.panel, {
    code: 'CBC',
    display: 'Full blood count',
    system: '99RIV',
    alternates: [{ code: '58410-2', display: 'CBC panel - Blood by Automated count', system: 'LN' }],
  });
  assert.deepEqual(r.device, { id: 'HX5-20931', model: 'HEMALYZER 5' });
  assert.equal(r.operator, undefined);
  assert.deepEqual(
    r.observations.map((o) => [o.code.code, o.loinc?.code, o.value, o.unit, o.referenceRange, o.flags]),
    [
      ['WBC', '6690-2', '11.8', '10^9/L', '4.0-10.0', ['H']],
      ['RBC', '789-8', '4.12', '10^12/L', '4.20-5.40', ['L']],
      ['HGB', '718-7', '118', 'g/L', '120-160', ['L']],
      ['HCT', '4544-3', '0.36', 'L/L', '0.37-0.47', ['L']],
      ['MCV', '787-2', '87.4', 'fL', '80.0-100.0', []],
      ['MCH', '785-6', '28.6', 'pg', '27.0-33.0', []],
      ['MCHC', '786-4', '328', 'g/L', '320-360', []],
      ['RDW', '788-0', '15.9', '%', '11.5-14.5', ['H']],
      ['PLT', '777-3', '38', '10^9/L', '150-400', ['LL']],
      ['MPV', '32623-1', '11.2', 'fL', '7.5-11.5', []],
      ['NEUT%', '770-8', '78.1', '%', '40.0-75.0', ['H']],
      ['LYMPH%', '736-9', '13.2', '%', '20.0-45.0', ['L']],
      ['MONO%', '5905-5', '6.9', '%', '2.0-10.0', []],
      ['EOS%', '713-8', '1.5', '%', '0.0-6.0', []],
      ['BASO%', '706-2', '0.3', '%', '0.0-2.0', []],
    ],
  );
  // Units were sent without a coding system: no UCUM is claimed for them.
  assert.ok(r.observations.every((o) => o.ucum === undefined));
  assert.deepEqual(r.observations[8]!.comments, ['Platelet clumps seen on the film & the count may be falsely low.', 'Please send a citrate sample.']);
  assert.deepEqual(r.observations[0]!.code, {
    code: 'WBC',
    display: 'Leukocytes',
    system: '99RIV',
    alternates: [{ code: '6690-2', display: 'Leukocytes [#/volume] in Blood by Automated count', system: 'LN' }],
  });
});

test('03 blood gas (v2.4, CRLF): negative NM, SN above range, offsets kept, FT comment as plain text, birth year only', () => {
  const r = report(sample('03-blood-gas-v24-crlf.hl7'));
  assert.equal(r.id, 'BG26112200031');
  assert.deepEqual(r.order, { accession: 'BG26112200031', fillerAuthority: { namespace: 'BGMIDDLEWARE' } });
  assert.equal(r.patient?.birthDate, '1949');
  assert.equal(r.observedAt, '2026-11-22T03:10:02+01:00');
  assert.equal(r.issuedAt, '2026-11-22T03:15:44+01:00');
  assert.deepEqual(r.panel, { code: '24336-0', display: 'Gas panel - Arterial blood', system: 'LN' });
  assert.deepEqual(r.operator, { id: 'N0451', name: 'Ria Verhoeven' });
  assert.deepEqual(r.device, { id: 'BGA-00417', model: 'BLOODGAS 900' });
  assert.deepEqual(
    r.observations.map((o) => [o.loinc?.code, o.valueType, o.value, o.ucum, o.flags.join(',')]),
    [
      ['2744-1', 'NM', '7.28', '[pH]', 'L'],
      ['2019-8', 'NM', '6.9', 'kPa', 'H'],
      ['2703-7', 'NM', '8.1', 'kPa', 'L'],
      ['1960-4', 'NM', '23.4', 'mmol/L', ''],
      ['1925-7', 'NM', '-2.1', 'mmol/L', 'L'],
      ['2708-6', 'NM', '91.0', '%', 'L'],
      ['2524-7', 'SN', '>15.0', 'mmol/L', 'HH'],
      ['2947-0', 'NM', '139', 'mmol/L', ''],
      ['6298-4', 'NM', '4.1', 'mmol/L', ''],
      ['30350-3', 'NM', '142', 'g/L', ''],
      [undefined, 'FT', 'Sample: arterial, syringe\nPatient temperature: 37.0 Cel\nFiO2: 0.40\nLactate above measuring range', undefined, ''],
    ],
  );
  assert.equal(r.observations[4]!.referenceRange, '-2.0-3.0');
  assert.ok(r.observations.every((o) => o.observedAt === '2026-11-22T03:10:02+01:00'));
});

test('04 COVID antigen (v2.5.1): CWE result with its coding, LOINC code, AOE answers, report NTE', () => {
  const r = report(sample('04-covid-antigen-cwe-v251.hl7'));
  assert.equal(r.id, 'AG26112300012');
  assert.deepEqual(r.patient?.identifiers, [
    {
      value: 'TS-90411',
      system: 'urn:oid:2.16.840.1.113883.19.7.2',
      type: 'PI',
      assigningAuthority: { namespace: 'TESTSITE', universalId: '2.16.840.1.113883.19.7.2', universalIdType: 'ISO' },
    },
  ]);
  assert.deepEqual(r.comments, ['Self-collected anterior nasal swab, observed by staff.']);
  assert.deepEqual(r.device, { id: 'RDR-300-01945', model: 'RAPIDREADER 300' });
  assert.deepEqual(r.operator, { id: 'STAFF07', name: 'Marisol Reyes' });
  const [result, symptoms, age] = r.observations;
  assert.deepEqual(result, {
    // CWE-7: the LOINC version; OBX-5 keeps its local alternate and its SNOMED CT version.
    code: { code: '94558-4', display: 'SARS-CoV-2 (COVID-19) Ag [Presence] in Respiratory specimen by Rapid immunoassay', system: 'LN', version: '2.74' },
    loinc: { code: '94558-4', display: 'SARS-CoV-2 (COVID-19) Ag [Presence] in Respiratory specimen by Rapid immunoassay', system: 'LN', version: '2.74' },
    value: 'Not detected',
    valueType: 'CWE',
    valueCoding: { code: '260415000', display: 'Not detected', system: 'SCT', version: '20260301', alternates: [{ code: 'NEG', display: 'Negative', system: 'L' }] },
    referenceRange: 'Not detected',
    flags: ['N'],
    status: 'final',
    statusText: 'F',
    observedAt: '2026-11-23T10:12:00-05:00',
    comments: [],
  });
  assert.equal(symptoms!.value, 'No');
  assert.deepEqual(symptoms!.valueCoding, { code: 'N', display: 'No', system: 'HL70136' });
  assert.deepEqual([age!.value, age!.unit, age!.ucum], ['25', 'a', 'a']);
  assert.equal(r.provenance.eventType, 'ORU^R01');
});

test('05 → 06: a correction keeps the report id, has a new sourceId, OBR-25 C and the corrected OBX alone C', () => {
  const [first] = mapped(sample('05-chemistry-final-v251.hl7'));
  const [corrected] = mapped(sample('06-chemistry-corrected-v251.hl7'));
  assert.equal(first!.report.id, 'C26112100412');
  assert.equal(corrected!.report.id, first!.report.id);
  assert.notEqual(corrected!.sourceId, first!.sourceId);
  assert.deepEqual([first!.report.correction, first!.report.status], [false, 'final']);
  assert.deepEqual([corrected!.report.correction, corrected!.report.status], [true, 'corrected']);
  const k = (m: typeof first) => m!.report.observations[1]!;
  assert.deepEqual([k(first).value, k(first).flags, k(first).status], ['6.8', ['HH'], 'final']);
  assert.deepEqual([k(corrected).value, k(corrected).flags, k(corrected).status, k(corrected).statusText], ['4.1', [], 'corrected', 'C']);
  assert.deepEqual(k(corrected).comments, ['Corrected result: the first sample was haemolysed (previously reported 6.8 mmol/L).']);
  assert.deepEqual(
    corrected!.report.observations.map((o) => o.statusText),
    ['F', 'C', 'F', 'F', 'F'],
  );
  // eGFR '>90' was sent as NM: it stays the text as sent.
  assert.equal(first!.report.observations[4]!.value, '>90');
  assert.equal(first!.report.observations[4]!.ucum, 'mL/min/{1.73_m2}');
  assert.equal(first!.report.patient?.identifiers[0]?.assigningAuthority?.namespace, 'RIVERSIDE');
});

test('07 two orders (v2.5): two reports with their own ids, statuses, NTEs and values; sourceIds MSH-10#n', () => {
  const out = mapped(sample('07-two-orders-urine-serology-v25.hl7'));
  assert.deepEqual(
    out.map((m) => [m.sourceId, m.report.id, m.report.status, m.report.order]),
    [
      ['LL-0000981#1', 'U26112400077', 'final', { id: 'GP-5521', accession: 'U26112400077', placerAuthority: { namespace: 'PRACTICE' }, fillerAuthority: { namespace: 'LABLIS' } }],
      ['LL-0000981#2', 'S26112400078', 'preliminary', { id: 'GP-5522', accession: 'S26112400078', placerAuthority: { namespace: 'PRACTICE' }, fillerAuthority: { namespace: 'LABLIS' } }],
    ],
  );
  assert.equal(out[0]!.sourceVersion, out[1]!.sourceVersion);
  const [urine, serology] = out.map((m) => m.report);
  assert.deepEqual(urine!.patient, serology!.patient);
  assert.deepEqual(
    urine!.observations.map((o) => [o.valueType, o.value, o.unit ?? null, o.flags]),
    [
      ['NM', '6.0', '[pH]', []],
      ['NM', '1.020', null, []],
      ['CE', 'Negative', null, []],
      ['ST', '2+ (moderate)', null, ['A']],
      ['SN', '10-20', '/[HPF]', ['H']],
      ['SN', '<2', '/[HPF]', []],
    ],
  );
  assert.deepEqual(urine!.observations[2]!.valueCoding, { code: 'NEG', display: 'Negative', system: '99NS' });
  assert.deepEqual(urine!.observations[5]!.comments, ['Bacteria seen & squamous epithelial cells present.']);
  assert.equal(urine!.comments, undefined);
  assert.deepEqual(serology!.comments, ['Referred to the regional reference laboratory for confirmation.']);
  assert.deepEqual(
    serology!.observations.map((o) => [o.value, o.referenceRange, o.status]),
    [
      ['1:160', '<1:80', 'preliminary'],
      ['Titre above the cut-off.\nConsistent with recent or past exposure; a second sample\nin 2-3 weeks is advised.', undefined, 'preliminary'],
    ],
  );
});

test('08 HbA1c with a PDF printout (ED): the document becomes an attachment, byte for byte; no observation for it', () => {
  const text = sample('08-hba1c-pdf-printout-ed-v251.hl7');
  const r = report(text);
  assert.deepEqual(
    r.observations.map((o) => [o.code.code, o.value, o.unit]),
    [
      ['59261-8', '48', 'mmol/mol'],
      ['4548-4', '6.5', '%'],
    ],
  );
  assert.equal(r.attachments.length, 1);
  const a = r.attachments[0]!;
  assert.equal(a.contentType, 'application/pdf');
  assert.equal(a.title, 'Device printout');
  const pdf = Buffer.from(a.dataBase64, 'base64');
  assert.equal(pdf.subarray(0, 8).toString('latin1'), '%PDF-1.4');
  assert.match(pdf.subarray(-6).toString('latin1'), /%%EOF\n$/);
  // The same bytes as in OBX-5.5 of the file.
  const sent = /\^AP\^PDF\^Base64\^([A-Za-z0-9+/=]+)/.exec(text)![1]!;
  assert.equal(createHash('sha256').update(pdf).digest('hex'), createHash('sha256').update(Buffer.from(sent, 'base64')).digest('hex'));
});
