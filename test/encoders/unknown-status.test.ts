/**
 * Issue 8: a status with no HL7 code is never sent as final. `unknown` (only reachable through
 * a mapping row an integrator wrote) is refused by the ORU^R01 encoder, naming each status;
 * a report that came as HL7 v2 carries its OBX-11 / OBR-25 codes as sent.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { encode, encodeAndParse, observation, report } from './support.ts';

function refusal(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    return e;
  }
  assert.fail('the report was encoded');
}

test('status unknown is refused, naming the report status and each observation status', () => {
  const e = refusal(() =>
    encode(report({ status: 'unknown', observations: [observation(), observation({ status: 'unknown', statusText: 'validated' })] })),
  );
  assert.equal(e.code, 'ENCODING_FAILED');
  assert.deepEqual(
    e.issues.map((i) => i.path),
    ['report.status', 'report.observations[1].status'],
  );
  assert.match(e.issues[1]!.message, /status 'unknown' \(sent as 'validated'\) has no OBX-11 \(HL7 table 0085\) code/);
  assert.match(e.issues[0]!.message, /no OBR-25 \(HL7 table 0123\) code/);
});

test('an attached document of a report with status unknown is refused too', () => {
  const e = refusal(() => encode(report({ status: 'unknown', statusText: 'Q', observations: [], attachments: [{ contentType: 'application/pdf', dataBase64: 'QQ==' }], provenance: { kind: 'hl7v2' } })));
  assert.deepEqual(
    e.issues.map((i) => i.path),
    ['report.status'],
  );
});

test('a report from HL7 v2 carries OBX-11 and OBR-25 as sent: D stays D, a LIS code Z stays Z', () => {
  const m = encodeAndParse(
    report({
      status: 'preliminary',
      statusText: 'A',
      observations: [
        observation({ status: 'entered-in-error', statusText: 'D', value: '' }),
        observation({ status: 'preliminary', statusText: 'Z' }),
        observation({ status: 'unknown', statusText: 'Q' }),
        observation({ status: 'preliminary' }),
      ],
      provenance: { kind: 'hl7v2', eventId: 'CTRL-1' },
    }),
  );
  assert.equal(m.segment('OBR')!.get(25), 'A');
  assert.deepEqual(
    m.all('OBX').map((o) => o.get(11)),
    ['D', 'Z', 'Q', 'P'],
    'an OBX that came without OBX-11 gets the code of its status',
  );
});

test('a platform status text is not an HL7 code: the canonical status decides', () => {
  const m = encodeAndParse(report({ status: 'registered', observations: [observation({ status: 'registered', statusText: 'pending' })] }));
  assert.deepEqual([m.segment('OBR')!.get(25), m.segment('OBX')!.get(11)], ['I', 'I']);
});
