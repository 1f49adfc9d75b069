/**
 * Issue 13, rules 2 and 3, from an inbound ORU^R01 to both outputs: OBX-3, coded OBX-5 and
 * OBR-4 go out in the ORU^R01 with the triplets as sent and in FHIR as one coding per
 * triplet plus text; PID-3 goes out with CX-4 whole, and in FHIR with the OID as system and
 * CX-5 as identifier.type.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Bundle, DiagnosticReport, Observation, Patient, ServiceRequest } from '@medplum/fhirtypes';
import type { LabReport } from '../../src/canonical/report.ts';
import { codeSystem } from '../../src/encoders/fhir-bundle/resources.ts';
import { FhirBundleSettings } from '../../src/encoders/fhir-bundle/settings.ts';
import type { Encoded } from '../../src/encoders/types.ts';
import { Hl7v2OruSettings, mapOruR01 } from '../../src/mapping/hl7v2-oru/index.ts';
import { fhirEncoder } from './mapping-support.ts';
import { CTX, encodeAndParse } from './support.ts';

const INBOUND = [
  'MSH|^~\\&|LIS|LAB|CONDUIT|HOSP|20261120091500+0100||ORU^R01^ORU_R01|C-1|P|2.5.1',
  'PID|1||000731^^^NORTH&2.16.840.1.113883.19.5&ISO^MR~K-19^^^CATENIX^PI||Doe^Jane||19800102|F',
  'ORC|RE|PLC-1|FIL-1',
  'OBR|1|PLC-1|FIL-1|BMP^Basic metabolic panel^99LAB^51990-0^Basic metabolic panel - Blood^LN|||20261120091000+0100|||||||||||||||20261120091400+0100|||F',
  'OBX|1|NM|2951-2^Sodium SerPl-sCnc^LN^NA^Sodium^99LAB^2.77||139|mmol/L^mmol/L^UCUM|136-145||||F',
  'OBX|2|CWE|GLU-U^Glucose urine^99LAB||NEG^Negative^99LAB^260385009^Negative^SCT^^^neg.||||||F',
].join('\r');

function mapped(): LabReport {
  const [m] = mapOruR01(INBOUND, Hl7v2OruSettings.parse({}));
  return m!.report;
}

const LOCAL = 'https://lab.example/fhir/CodeSystem/99lab';

function bundle(settings: Record<string, unknown> = { codeSystems: { '99LAB': LOCAL } }): Bundle {
  return JSON.parse((fhirEncoder(settings).encoder.encode(mapped(), CTX) as Encoded).payload) as Bundle;
}
const resources = <T>(b: Bundle, type: string) => b.entry!.map((e) => e.resource!).filter((r) => r.resourceType === type) as T[];

test('ORU^R01: OBX-3, coded OBX-5 and OBR-4 carry the triplets, versions and original text as sent', () => {
  const m = encodeAndParse(mapped());
  const [obx1, obx2] = m.segments.filter((s) => s.name === 'OBX');
  assert.equal(obx1!.raw(3), '2951-2^Sodium SerPl-sCnc^LN^NA^Sodium^99LAB^2.77');
  assert.equal(obx2!.raw(3), 'GLU-U^Glucose urine^99LAB');
  assert.equal(obx2!.raw(5), 'NEG^Negative^99LAB^260385009^Negative^SCT^^^neg.');
  assert.equal(m.segment('OBR')!.raw(4), 'BMP^Basic metabolic panel^99LAB^51990-0^Basic metabolic panel - Blood^LN');
});

test('ORU^R01: PID-3 carries CX-4 whole (namespace, OID, ISO) and CX-5; leading zeros kept', () => {
  const m = encodeAndParse(mapped());
  assert.equal(m.segment('PID')!.raw(3), '000731^^^NORTH&2.16.840.1.113883.19.5&ISO^MR~K-19^^^CATENIX^PI');
});

test('FHIR: one coding per triplet, LOINC, SNOMED CT and the local system named, with the original text', () => {
  const b = bundle();
  const [sodium, glucose] = resources<Observation>(b, 'Observation');
  assert.deepEqual(sodium!.code, {
    coding: [
      { system: 'http://loinc.org', version: '2.77', code: '2951-2', display: 'Sodium SerPl-sCnc' },
      { system: LOCAL, code: 'NA', display: 'Sodium' },
    ],
    text: 'Sodium SerPl-sCnc',
  });
  assert.deepEqual(glucose!.valueCodeableConcept, {
    coding: [
      { system: LOCAL, code: 'NEG', display: 'Negative' },
      { system: 'http://snomed.info/sct', code: '260385009', display: 'Negative' },
    ],
    text: 'neg.',
  });
  const panel = { coding: [{ system: LOCAL, code: 'BMP', display: 'Basic metabolic panel' }, { system: 'http://loinc.org', code: '51990-0', display: 'Basic metabolic panel - Blood' }], text: 'Basic metabolic panel' };
  assert.deepEqual(resources<DiagnosticReport>(b, 'DiagnosticReport')[0]!.code, panel);
  assert.deepEqual(resources<ServiceRequest>(b, 'ServiceRequest')[0]!.code, panel);
});

test('FHIR: a local coding system not configured is named under localCodeSystem; HL7 tables and OIDs by their URI', () => {
  const [, glucose] = resources<Observation>(bundle({}), 'Observation');
  assert.equal(glucose!.valueCodeableConcept!.coding![0]!.system, 'urn:conduit:code:local:99LAB');
  const s = FhirBundleSettings.parse({});
  assert.deepEqual(
    ['LN', 'SCT', 'SNM', '2.16.840.1.113883.6.96', 'HL70136', 'HL70078', '1.2.840.10008.2.16.4', 'L', '99', undefined].map((n) => codeSystem(n, s)),
    [
      'http://loinc.org',
      'http://snomed.info/sct',
      'http://snomed.info/sct',
      'http://snomed.info/sct',
      'http://terminology.hl7.org/CodeSystem/v2-0136',
      'http://terminology.hl7.org/CodeSystem/v2-0078',
      'urn:oid:1.2.840.10008.2.16.4',
      'urn:conduit:code:local',
      'urn:conduit:code:local',
      'urn:conduit:code:local',
    ],
  );
});

test('FHIR: the patient identifier system is the OID of CX-4, its type the CX-5 code of table 0203', () => {
  const [patient] = resources<Patient>(bundle(), 'Patient');
  assert.deepEqual(patient!.identifier, [
    { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR', display: 'Medical record number' }] }, system: 'urn:oid:2.16.840.1.113883.19.5', value: '000731' },
    { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PI', display: 'Patient internal identifier' }] }, system: 'urn:conduit:identifier:CATENIX', value: 'K-19' },
  ]);
});

test('FHIR: a CX-5 code of table 0203 is coded, another one is kept as text', () => {
  const inbound = INBOUND.replace('PID|1||000731^^^NORTH&2.16.840.1.113883.19.5&ISO^MR~K-19^^^CATENIX^PI', 'PID|1||12-345^^^&2.16.840.1.113883.4.1&ISO^SS~77^^^NORTH^LOCALTYPE');
  const [m] = mapOruR01(inbound, Hl7v2OruSettings.parse({}));
  const b = JSON.parse((fhirEncoder({}).encoder.encode(m!.report, CTX) as Encoded).payload) as Bundle;
  assert.deepEqual(resources<Patient>(b, 'Patient')[0]!.identifier, [
    { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'SS' }] }, system: 'urn:oid:2.16.840.1.113883.4.1', value: '12-345' },
    { type: { text: 'LOCALTYPE' }, system: 'urn:conduit:identifier:NORTH', value: '77' },
  ]);
});

test('ORU^R01: OBX-4 sub-ids go out as sent, so an isolate and its susceptibilities stay together', () => {
  const inbound = [
    ...INBOUND.split('\r').slice(0, 4),
    'OBX|1|CWE|630-4^Bacteria identified^LN|1|112283007^Escherichia coli^SCT||||||F',
    'OBX|2|SN|18955-5^Nitrofurantoin [Susceptibility]^LN|1|<=^16|ug/mL|||||F',
    'OBX|3|CWE|630-4^Bacteria identified^LN|2|3092008^Staphylococcus aureus^SCT||||||F',
  ].join('\r');
  const [m] = mapOruR01(inbound, Hl7v2OruSettings.parse({}));
  const obx = encodeAndParse(m!.report).segments.filter((s) => s.name === 'OBX');
  assert.deepEqual(
    obx.map((s) => s.raw(4)),
    ['1', '1', '2'],
  );
});
