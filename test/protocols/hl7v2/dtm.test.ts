/**
 * DTM ↔ ISO 8601 (v2.5.1 section 2.A.22). Conversions are textual: the sender's offset
 * and precision survive, nothing goes through Date and the machine's time zone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DateTimeFormatError, dtmToIso, isoToDtm } from '../../../src/protocols/hl7v2/index.ts';

test('isoToDtm keeps the offset: +01:00 → +0100, Z → +0000', () => {
  assert.equal(isoToDtm('2025-01-02T03:04:05+01:00'), '20250102030405+0100');
  assert.equal(isoToDtm('2025-01-02T03:04:05-05:30'), '20250102030405-0530');
  assert.equal(isoToDtm('2025-01-02T03:04:05+0100'), '20250102030405+0100');
  assert.equal(isoToDtm('2025-01-02T03:04:05Z'), '20250102030405+0000');
  assert.equal(isoToDtm('2025-01-02T03:04:05-00:00'), '20250102030405-0000');
  assert.equal(isoToDtm('2025-06-30T23:59:59+14:00'), '20250630235959+1400');
});

test('isoToDtm keeps the precision it was given', () => {
  assert.equal(isoToDtm('2025'), '2025');
  assert.equal(isoToDtm('2025-01'), '202501');
  assert.equal(isoToDtm('2025-01-02'), '20250102');
  assert.equal(isoToDtm('2025-01-02T03:04'), '202501020304');
  assert.equal(isoToDtm('2025-01-02T03:04+02:00'), '202501020304+0200');
  assert.equal(isoToDtm('2025-01-02T03:04:05'), '20250102030405', 'no zone given, none invented');
  assert.equal(isoToDtm('2025-01-02 03:04:05'), '20250102030405', 'a space may separate date and time');
  assert.equal(isoToDtm('  2025-01-02T03:04:05Z '), '20250102030405+0000');
});

test('isoToDtm cuts fractions to four digits, never rounds', () => {
  assert.equal(isoToDtm('2025-01-02T03:04:05.1Z'), '20250102030405.1+0000');
  assert.equal(isoToDtm('2025-01-02T03:04:05.12+01:00'), '20250102030405.12+0100');
  assert.equal(isoToDtm('2025-01-02T03:04:05.1234Z'), '20250102030405.1234+0000');
  assert.equal(isoToDtm('2025-01-02T03:04:05.99999-03:00'), '20250102030405.9999-0300');
  assert.equal(isoToDtm('2025-01-02T03:04:05.123456789Z'), '20250102030405.1234+0000');
  assert.equal(isoToDtm('2025-12-31T23:59:59.99999Z'), '20251231235959.9999+0000', 'no carry into the next year');
});

test('isoToDtm rejects what is not an ISO date-time', () => {
  for (const bad of [
    '',
    'garbage',
    'yesterday',
    '20250102',
    '2025-1-2',
    '2025/01/02',
    '2025-01-02T03',
    '2025-01-02T3:04',
    '2025-01-02T03:04:05+1',
    '2025-01-02T03:04:05 +01:00',
    '2025-01-02T03:04:05.Z',
    '2025-01-02T03:04:05.1234567891Z',
    '02/01/2025',
    'Aug 15, 1942',
    '2025-01-02T03:04:05+01:00x',
  ]) {
    assert.throws(
      () => isoToDtm(bad),
      (e: unknown) => e instanceof DateTimeFormatError && e.message.includes(`'${bad}'`) && /ISO 8601/.test(e.message),
      `'${bad}' was accepted`,
    );
  }
});

test('dtmToIso keeps offset and precision', () => {
  assert.equal(dtmToIso('2025'), '2025');
  assert.equal(dtmToIso('202501'), '2025-01');
  assert.equal(dtmToIso('20250102'), '2025-01-02');
  assert.equal(dtmToIso('2025010203'), '2025-01-02T03:00:00', 'FHIR dateTime needs seconds once hours are given');
  assert.equal(dtmToIso('202501020304'), '2025-01-02T03:04:00');
  assert.equal(dtmToIso('20250102030405'), '2025-01-02T03:04:05');
  assert.equal(dtmToIso('20250102030405.1'), '2025-01-02T03:04:05.1');
  assert.equal(dtmToIso('20250102030405.1234'), '2025-01-02T03:04:05.1234');
  assert.equal(dtmToIso('20250102030405+0100'), '2025-01-02T03:04:05+01:00');
  assert.equal(dtmToIso('20250102030405-0530'), '2025-01-02T03:04:05-05:30');
  assert.equal(dtmToIso('20250102030405.12-0500'), '2025-01-02T03:04:05.12-05:00');
  assert.equal(dtmToIso('20250102030405+0000'), '2025-01-02T03:04:05+00:00', 'an explicit +0000 stays as sent');
  assert.equal(dtmToIso('20020215093000+0600'), '2002-02-15T09:30:00+06:00');
});

test('dtmToIso applies a default offset only when the DTM has none', () => {
  assert.equal(dtmToIso('202501020304', '+01:00'), '2025-01-02T03:04:00+01:00');
  assert.equal(dtmToIso('202501020304', '-0800'), '2025-01-02T03:04:00-08:00');
  assert.equal(dtmToIso('202501020304', '+00:00'), '2025-01-02T03:04:00Z');
  assert.equal(dtmToIso('20250102030405-0500', '+01:00'), '2025-01-02T03:04:05-05:00', "the sender's offset wins");
  assert.equal(dtmToIso('20250102', '+01:00'), '2025-01-02', 'a date has no zone');
  assert.equal(dtmToIso('202501020304', ''), '2025-01-02T03:04:00', 'an empty default is no default');
});

test("dtmToIso accepts 'Z' as default offset and rejects a malformed one", () => {
  // Regression: 'Z' (the form isoToDtm accepts) gave '2025-01-02T03:04:00Z:'.
  assert.equal(dtmToIso('202501020304', 'Z'), '2025-01-02T03:04:00Z');
  for (const bad of ['+1', 'UTC', '+01:0', '0100', 'Europe/Paris']) {
    assert.throws(() => dtmToIso('202501020304', bad), (e: unknown) => e instanceof DateTimeFormatError && e.message.includes(`'${bad}'`), bad);
  }
});

test('dtmToIso rejects what is not a DTM', () => {
  for (const bad of ['', 'garbage', '2025-01-02', '202', '2025010', '20250102T0304', '20250102030405.12345', '20250102030405+01', '20250102030405+01:00', 'Aug 15, 1942', '19100000000000+0000x']) {
    assert.throws(
      () => dtmToIso(bad),
      (e: unknown) => e instanceof DateTimeFormatError && e.message.includes(`'${bad}'`) && /HL7 DTM/.test(e.message),
      `'${bad}' was accepted`,
    );
  }
});

test('ISO → DTM → ISO gives the same instant text back', () => {
  for (const iso of [
    '2025',
    '2025-01',
    '2025-01-02',
    '2025-01-02T03:04:05',
    '2025-01-02T03:04:05+01:00',
    '2025-01-02T03:04:05-05:30',
    '2025-01-02T03:04:05.1234+09:00',
    '1999-12-31T23:59:59.5-12:00',
  ]) {
    assert.equal(dtmToIso(isoToDtm(iso)), iso);
  }
  // Z comes back as the equivalent +00:00 (DTM has no Z).
  assert.equal(dtmToIso(isoToDtm('2025-01-02T03:04:05Z')), '2025-01-02T03:04:05+00:00');
});

test('DTM → ISO → DTM gives the same DTM back for the precisions FHIR keeps', () => {
  for (const dtm of ['2025', '202501', '20250102', '20250102030405', '20250102030405+0100', '20250102030405.1234-0500', '20110531140551-0500']) {
    assert.equal(isoToDtm(dtmToIso(dtm)), dtm);
  }
});
