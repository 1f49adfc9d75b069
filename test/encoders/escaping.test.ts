/**
 * Every HL7 special character (| ^ ~ \ &), line breaks and non-ASCII text in every kind of
 * field are escaped by the encoder and read back identically with our codec.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LabReport } from '../../src/canonical/report.ts';
import { OruR01Settings } from '../../src/encoders/oru-r01/settings.ts';
import type { Hl7Message, Hl7Segment } from '../../src/protocols/hl7v2/index.ts';
import { pick, prng } from '../support/prng.ts';
import { encode, encodeAndParse, observation, report } from './support.ts';

const NASTY = 'a|b^c~d\\e&f';
const TEXT = { formatting: 'text' } as const;

/** Every text field of the report as [label, value in the report, value read back from the message]. */
function fieldsOf(r: LabReport, m: Hl7Message): Array<[string, string | undefined, string]> {
  const pid = m.segment('PID')!;
  const obx = m.all('OBX');
  const o = r.observations[0]!;
  const ed = obx[r.observations.length];
  const a = r.attachments[0];
  const out: Array<[string, string | undefined, string]> = [
    ['PID-3.1[0]', r.patient!.identifiers[0]!.value, pid.get(3, 1, 1, 0)],
    ['PID-3.4[0]', r.patient!.identifiers[0]!.system, pid.get(3, 4, 1, 0)],
    ['PID-3.5[0]', r.patient!.identifiers[0]!.type, pid.get(3, 5, 1, 0)],
    ['PID-3.1[1]', r.patient!.identifiers[1]!.value, pid.get(3, 1, 1, 1)],
    ['PID-5.1', r.patient!.family, pid.get(5, 1)],
    ['PID-5.2', r.patient!.given[0], pid.get(5, 2)],
    ['PID-5.3', r.patient!.given.slice(1).join(' '), pid.get(5, 3)],
    ['PV1-19', r.encounter!.id, m.segment('PV1')!.get(19)],
    ['ORC-2', r.order!.id, m.segment('ORC')!.get(2)],
    ['ORC-3', r.order!.accession, m.segment('ORC')!.get(3)],
    ['OBR-2', r.order!.id, m.segment('OBR')!.get(2)],
    ['OBR-4.1', r.panel!.code, m.segment('OBR')!.get(4, 1)],
    ['OBR-4.2', r.panel!.display, m.segment('OBR')!.get(4, 2)],
    ['OBX-3.1', o.code.code, obx[0]!.get(3, 1)],
    ['OBX-3.2', o.code.display, obx[0]!.get(3, 2)],
    ['OBX-6.1', o.unit, obx[0]!.get(6, 1)],
    ['OBX-7', o.referenceRange, obx[0]!.get(7)],
    ['OBX-16.1', r.operator!.id, obx[0]!.get(16, 1)],
    ['OBX-16.2', r.operator!.name, obx[0]!.get(16, 2)],
    ['OBX-18.1', r.device!.serial, obx[0]!.get(18, 1)],
    ['OBX-18.2', r.device!.model, obx[0]!.get(18, 2)],
  ];
  o.flags.forEach((f, i) => {
    out.push([`OBX-8[${i}]`, f, obx[0]!.get(8, 1, 1, i)]);
  });
  out.push(['OBX-5', o.value, valueFromObx(obx[0]!)]);
  o.comments.forEach((c, i) => {
    out.push([`NTE-3 #${i + 1}`, c, m.all('NTE')[i]!.get(3, 1, 1, 0, TEXT)]);
  });
  if (a && ed) out.push(['ED OBX-3.2', a.title, ed.get(3, 2)]);
  return out;
}

function valueFromObx(obx: Hl7Segment): string {
  if (obx.get(2) === 'SN') return obx.components(5).join('');
  return obx.get(5, 1, 1, 0, TEXT);
}

function everywhere(text: string): LabReport {
  return report({
    patient: {
      id: text,
      identifiers: [
        { value: text, system: text, type: text },
        { value: `${text}2`, system: 'MRN', type: 'MR' },
      ],
      family: text,
      given: [text, text],
      sex: 'other',
    },
    encounter: { id: text },
    order: { id: text, accession: text },
    device: { id: text, model: text, serial: text },
    operator: { id: text, name: text },
    panel: { code: text, display: text, system: 'L' },
    observations: [observation({ code: { code: text, display: text, system: 'L' }, value: text, unit: text, referenceRange: text, flags: [text, text], comments: [text] })],
    attachments: [{ contentType: 'application/pdf', title: text, dataBase64: 'QQ==' }],
  });
}

test('each delimiter alone, and all of them together, in every field read back identically', () => {
  for (const text of ['|', '^', '~', '\\', '&', NASTY, '\\F\\', '\\E\\', 'x\\.br\\y', '#', '^^^', '~~', '&&&']) {
    const r = everywhere(text);
    const m = encodeAndParse(r);
    assert.deepEqual(
      m.segments.map((x) => x.name),
      ['MSH', 'PID', 'PV1', 'ORC', 'OBR', 'OBX', 'NTE', 'OBX'],
    );
    const given = r.patient!.given.join(' ');
    for (const [label, sent, read] of fieldsOf(r, m)) {
      assert.equal(read, label === 'PID-5.3' ? given.slice(text.length + 1) : sent, `${label} of ${JSON.stringify(text)}`);
    }
  }
});

test('escaping uses the standard escape sequences and never leaves a delimiter raw', () => {
  const pid = encode(everywhere(NASTY))
    .split('\r')
    .find((s) => s.startsWith('PID'))!;
  assert.equal(pid.split('|')[5], 'a\\F\\b\\S\\c\\R\\d\\E\\e\\T\\f^a\\F\\b\\S\\c\\R\\d\\E\\e\\T\\f^a\\F\\b\\S\\c\\R\\d\\E\\e\\T\\f');
});

test('line breaks in any text become \\.br\\ and never split a segment', () => {
  const text = 'one\ntwo\r\nthree\rfour';
  const r = everywhere(text);
  const payload = encode(r);
  // 8 segments, so 8 CR terminators: no line break leaked.
  assert.equal(payload.split('\r').length, 9);
  assert.ok(!payload.includes('\n'));
  const m = encodeAndParse(r);
  // Read as text, every kind of line break comes back as one "\n".
  assert.equal(m.segment('NTE')!.get(3, 1, 1, 0, TEXT), 'one\ntwo\nthree\nfour');
  assert.equal(m.segment('PID')!.get(5, 1, 1, 0, TEXT), 'one\ntwo\nthree\nfour');
  assert.equal(m.segment('OBX')!.get(2), 'TX');
});

test('non-ASCII text is kept as is, not escaped', () => {
  for (const text of ['Zoë Ångström-Łukasiewicz', '山田 太郎', 'Ελληνικά', 'Tiếng Việt', 'emoji 🧪', 'µmol/L', 'ß\u00a0\u200b']) {
    const r = everywhere(text);
    const payload = encode(r);
    assert.ok(payload.includes(`|${text}^`), text);
    for (const [label, sent, read] of fieldsOf(r, encodeAndParse(r))) {
      if (label !== 'PID-5.3') assert.equal(read, sent, `${label} of ${text}`);
    }
  }
});

test('times keep the sender offset, to the precision sent (ISO → DTM textually)', () => {
  const cases: Array<[string, string]> = [
    ['2026-11-20T09:13:41+01:00', '20261120091341+0100'],
    ['2026-11-20T09:13:41-05:30', '20261120091341-0530'],
    ['2026-11-20T09:13:41Z', '20261120091341+0000'],
    ['2026-11-20T09:13:41.123456+09:00', '20261120091341.1234+0900'],
    ['2026-11-20T09:13+14:00', '202611200913+1400'],
    ['2026-11-20T09:13:41', '20261120091341'],
    ['2026-11-20', '20261120'],
  ];
  for (const [iso, dtm] of cases) {
    const m = encodeAndParse(report({ observedAt: iso, issuedAt: iso, observations: [observation({ observedAt: iso })] }));
    assert.equal(m.segment('OBR')!.get(7), dtm, iso);
    assert.equal(m.segment('OBR')!.get(22), dtm, iso);
    assert.equal(m.segment('ORC')!.get(9), dtm, iso);
    assert.equal(m.segment('OBX')!.get(14), dtm, iso);
  }
});

// Property test: random text in every field comes back. Replay with ORU_PROPERTY_SEED=<seed>.
const SEED = Number(process.env.ORU_PROPERTY_SEED ?? 4242);
const ALPHABET = ['|', '^', '~', '\\', '&', '#', '\n', '\r\n', ' ', 'a', 'Z', '0', '5', '.', '-', '<', '>', ':', 'é', '東', '🧪', '\\F\\', '\\X0D\\', '\\.br\\', 'E', 'S'];

test('property: random text with delimiters, escapes, line breaks and non-ASCII in every field reads back', () => {
  const rand = prng(SEED);
  const text = () => {
    let s = '';
    const n = 1 + Math.floor(rand() * 10);
    for (let i = 0; i < n; i++) s += pick(rand, ALPHABET);
    return s;
  };
  const settings = OruR01Settings.parse({ sendingApplication: text(), receivingFacility: { namespace: text(), universalId: text() } });
  for (let i = 0; i < 300; i++) {
    const r = everywhere('x');
    // A different random string for each field.
    r.patient!.identifiers[0] = { value: text(), system: text(), type: text() };
    r.patient!.family = text();
    r.patient!.given = [text()];
    r.encounter = { id: text() };
    r.order = { id: text(), accession: text() };
    r.panel = { code: text(), display: text(), system: 'L' };
    r.operator = { id: text(), name: text() };
    r.device = { serial: text(), model: text() };
    r.observations = [
      observation({ code: { code: text(), display: text(), system: 'L' }, value: text(), unit: text(), referenceRange: text(), flags: [text(), text(), text()], comments: [text(), text()] }),
    ];
    r.attachments = [{ contentType: 'application/pdf', title: text(), dataBase64: 'QQ==' }];
    const payload = encode(r, settings, { controlId: `C${i}`, createdAt: '2026-11-20T09:13:41+01:00' });
    const why = `seed ${SEED}, report ${i}`;
    // MSH PID PV1 ORC OBR OBX NTE NTE OBX(ED), each ended by its CR.
    assert.equal(payload.split('\r').length, 10, `${why}: segment count`);
    const m = encodeAndParse(r, settings);
    assert.equal(m.msh.get(3, 1, 1, 0, TEXT), String(settings.sendingApplication).replace(/\r\n|\r/g, '\n'), why);
    for (const [label, sent, read] of fieldsOf(r, m)) {
      if (label === 'PID-5.3') continue;
      // Field text is read in 'keep' mode, where a line break reads as the \.br\ escape.
      const expected = label === 'OBX-5' || label.startsWith('NTE') ? sent!.replace(/\r\n|\r/g, '\n') : sent!.replace(/\r\n|\r|\n/g, '\\.br\\');
      assert.equal(read, expected, `${why}: ${label} ${JSON.stringify(sent)}`);
    }
  }
});
