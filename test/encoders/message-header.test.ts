/** MSH and the message structure of the ORU^R01, and the settings read from mapping files. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { createOruR01Encoder } from '../../src/encoders/oru-r01/encode.ts';
import { OruR01Settings } from '../../src/encoders/oru-r01/settings.ts';
import { CTX, encode, encodeAndParse, names, report, SETTINGS } from './support.ts';

test('MSH: delimiters, applications, the given control id, type, version and UTF-8', () => {
  const msh = encodeAndParse(report()).msh;
  assert.equal(msh.raw(1), '|');
  assert.equal(msh.raw(2), '^~\\&');
  assert.deepEqual(
    [msh.get(3), msh.get(4), msh.get(5), msh.get(6)],
    ['CONDUIT', 'POC-PLATFORM', 'LIS', 'LAB'],
  );
  assert.deepEqual(msh.components(9), ['ORU', 'R01', 'ORU_R01']);
  assert.equal(msh.get(10), 'CTRL-0001');
  assert.equal(msh.get(11), 'P');
  assert.equal(msh.get(12), '2.5.1');
  assert.equal(msh.get(18), 'UNICODE UTF-8');
});

test('MSH-7 is the creation time with its offset kept, never converted to UTC', () => {
  const at = (createdAt: string) => encodeAndParse(report(), SETTINGS, { controlId: 'C', createdAt }).msh.get(7);
  assert.equal(at('2026-11-20T09:14:05.123+01:00'), '20261120091405.123+0100');
  assert.equal(at('2026-11-20T09:14:05-05:30'), '20261120091405-0530');
  assert.equal(at('2026-11-20T08:14:05Z'), '20261120081405+0000');
});

test('MSH-10 is exactly the control id given, on every encoding of the same report', () => {
  const r = report();
  const a = encodeAndParse(r, SETTINGS, { ...CTX, controlId: 'C19A2B3C4D5E6F7G8H9' });
  const b = encodeAndParse(r, SETTINGS, { ...CTX, controlId: 'C19A2B3C4D5E6F7G8H9' });
  assert.equal(a.controlId, 'C19A2B3C4D5E6F7G8H9');
  assert.equal(a.toString(), b.toString());
});

test('the segments are MSH PID PV1 ORC OBR then OBX (with NTE after the one it comments)', () => {
  assert.deepEqual(names(encodeAndParse(report())), ['MSH', 'PID', 'PV1', 'ORC', 'OBR', 'OBX', 'OBX']);
});

test('segments end with CR, including the last; there is no LF', () => {
  const text = encode(report());
  assert.ok(text.endsWith('\r'));
  assert.ok(!text.includes('\n'));
  assert.equal(text.split('\r').length, 8);
});

test('MSH-3..6 may be HD objects: namespace^universal id^type', () => {
  const settings = OruR01Settings.parse({
    sendingApplication: { namespace: 'CONDUIT', universalId: '1.2.3.4', universalIdType: 'ISO' },
    sendingFacility: { namespace: 'NORTH' },
    receivingApplication: 'LIS',
    receivingFacility: { namespace: 'LAB', universalId: 'lab.example.org', universalIdType: 'DNS' },
  });
  const msh = encodeAndParse(report(), settings).msh;
  assert.deepEqual(msh.components(3), ['CONDUIT', '1.2.3.4', 'ISO']);
  assert.deepEqual(msh.components(4), ['NORTH']);
  assert.equal(msh.raw(4), 'NORTH');
  assert.deepEqual(msh.components(5), ['LIS']);
  assert.deepEqual(msh.components(6), ['LAB', 'lab.example.org', 'DNS']);
});

test('defaults: MSH-3 CONDUIT, MSH-4..6 empty, processing P, no ack types', () => {
  const msh = encodeAndParse(report(), OruR01Settings.parse({})).msh;
  assert.deepEqual(
    [3, 4, 5, 6, 11, 15, 16].map((f) => msh.raw(f)),
    ['CONDUIT', '', '', '', 'P', '', ''],
  );
});

test('processing id and acknowledgement types from the settings go to MSH-11, -15 and -16', () => {
  const settings = OruR01Settings.parse({ processingId: 'T', acceptAckType: 'AL', applicationAckType: 'NE' });
  const msh = encodeAndParse(report(), settings).msh;
  assert.deepEqual([msh.get(11), msh.get(15), msh.get(16)], ['T', 'AL', 'NE']);
});

test('special characters in application names are escaped in MSH and read back', () => {
  const settings = OruR01Settings.parse({ sendingApplication: 'A|B^C', receivingFacility: { namespace: 'L~A&B\\' } });
  const msh = encodeAndParse(report(), settings).msh;
  assert.equal(msh.get(3), 'A|B^C');
  assert.equal(msh.get(6), 'L~A&B\\');
});

test('the settings schema refuses unknown keys and values outside the HL7 tables', () => {
  assert.equal(OruR01Settings.safeParse({ processingId: 'X' }).success, false);
  assert.equal(OruR01Settings.safeParse({ acceptAckType: 'ALWAYS' }).success, false);
  assert.equal(OruR01Settings.safeParse({ sendingApp: 'A' }).success, false);
  assert.equal(OruR01Settings.safeParse({ sendingApplication: { namespace: 'A', oid: '1.2' } }).success, false);
  assert.equal(OruR01Settings.safeParse({ patientClass: '' }).success, false);
});

test('the encoder object: kind oru-r01, hl7v2 payload as application/hl7-v2', () => {
  const encoder = createOruR01Encoder(SETTINGS);
  assert.equal(encoder.kind, 'oru-r01');
  assert.equal(encoder.format, 'hl7v2');
  const out = encoder.encode(report(), CTX);
  assert.equal(out.contentType, 'application/hl7-v2');
  assert.equal(out.payload, encode(report()));
});

/** Settings as a mapping file gives them: the `settings` block of a YAML file. */
function settingsOf(yamlText: string): OruR01Settings {
  return OruR01Settings.parse((parse(yamlText) as { settings: unknown }).settings);
}

test("the repository's mappings/oru-r01-lis.yaml fills MSH-3..6 and MSH-11", () => {
  const text = readFileSync(join(import.meta.dirname, '..', '..', 'mappings', 'oru-r01-lis.yaml'), 'utf8');
  const msh = encodeAndParse(report(), settingsOf(text)).msh;
  assert.deepEqual(
    [3, 4, 5, 6, 11].map((f) => msh.raw(f)),
    ['CONDUIT', 'POC-PLATFORM', 'LIS', 'LAB', 'P'],
  );
});

test('a mapping file may give MSH-3..6 as HD blocks', () => {
  const text = [
    'kind: oru-r01',
    'settings:',
    '  sendingApplication:',
    '    namespace: CONDUIT',
    '    universalId: 2.16.840.1.113883.3.999',
    '    universalIdType: ISO',
    '  sendingFacility: NORTH',
    '  receivingApplication: { namespace: LIS }',
    '  receivingFacility:',
    '    namespace: LAB',
    '    universalId: lab.example.org',
    '    universalIdType: DNS',
    '',
  ].join('\n');
  const msh = encodeAndParse(report(), settingsOf(text)).msh;
  assert.deepEqual(
    [3, 4, 5, 6].map((f) => msh.raw(f)),
    ['CONDUIT^2.16.840.1.113883.3.999^ISO', 'NORTH', 'LIS', 'LAB^lab.example.org^DNS'],
  );
});
