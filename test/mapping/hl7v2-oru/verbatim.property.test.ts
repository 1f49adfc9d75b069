/**
 * Property tests: whatever text a sender puts in OBX-5 (NM, ST, TX), units, ranges, flags,
 * notes and names — delimiters, escape look-alikes, line breaks, non-ASCII — comes out of the
 * mapping as the same text, under every delimiter set. And a canonical report encoded by our
 * own ORU^R01 encoder maps back to the same values. Seeded: a failure prints its seed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LabReport, Observation } from '../../../src/canonical/report.ts';
import { encodeOruR01 } from '../../../src/encoders/oru-r01/encode.ts';
import { OruR01Settings } from '../../../src/encoders/oru-r01/settings.ts';
import { encodeSegment, type FieldInput, formatMessage } from '../../../src/protocols/hl7v2/index.ts';
import { DELIMITER_SETS, randomLeaf, textLeaf } from '../../protocols/hl7v2/support.ts';
import { pick, prng } from '../../support/prng.ts';
import { mapped } from './support.ts';

const RUNS = 300;

interface Sent {
  type: 'NM' | 'ST' | 'TX';
  value: string;
  unit: string;
  range: string;
  flags: string[];
  note: string;
}

test(`OBX-5, units, ranges, flags, NTEs and names come out as the text sent (${RUNS} seeded messages, every delimiter set)`, () => {
  for (let seed = 1; seed <= RUNS; seed++) {
    const rand = prng(seed);
    const { label, delimiters: d } = pick(rand, DELIMITER_SETS);
    const family = `F${randomLeaf(rand)}`;
    const given = randomLeaf(rand);
    const sent: Sent[] = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => {
      const type = pick(rand, ['NM', 'ST', 'TX'] as const);
      // An empty NM with status F is refused (tested elsewhere): an NM here always has text.
      const value = type === 'NM' ? `5${randomLeaf(rand)}` : randomLeaf(rand, 20);
      return { type, value, unit: randomLeaf(rand, 4), range: randomLeaf(rand, 6), flags: Array.from({ length: Math.floor(rand() * 3) }, () => randomLeaf(rand, 3)), note: randomLeaf(rand, 12) };
    });
    const segments: string[] = [];
    const seg = (name: string, fields: FieldInput[]) => segments.push(encodeSegment(name, fields, d));
    seg('MSH', [null, null, null, 'ANALYSER', 'LAB', null, null, '20261120091500+0100', null, ['ORU', 'R01'], `P-${seed}`, 'P', '2.5.1']);
    seg('PID', [null, '1', null, ['MRN-1', null, null, 'HOSP', 'MR'], null, [family, given]]);
    seg('ORC', [null, 'RE', 'PLC-1', 'FIL-1']);
    seg('OBR', [null, '1', 'PLC-1', 'FIL-1', ['GLU', 'Glucose', 'L'], null, null, '20261120091000+0100']);
    sent.forEach((s, i) => {
      const obx: FieldInput[] = [null, String(i + 1), s.type, ['GLU', 'Glucose', 'L'], null, s.value, [s.unit], s.range, { repeat: s.flags }];
      obx[11] = 'F';
      seg('OBX', obx);
      seg('NTE', [null, '1', 'L', s.note]);
    });
    const text = formatMessage(segments);
    const context = `seed ${seed} (${label})`;
    let out: ReturnType<typeof mapped>;
    try {
      out = mapped(text);
    } catch (e) {
      assert.fail(`${context}: ${(e as Error).message}`);
    }
    const r = out[0]!.report;
    assert.equal(r.patient?.family, textLeaf(family), context);
    assert.deepEqual(r.patient?.given, given === '' ? [] : [textLeaf(given)], context);
    assert.deepEqual(
      r.observations.map((o) => [o.valueType, o.value, o.unit, o.referenceRange, o.flags, o.comments]),
      sent.map((s) => [
        s.type,
        textLeaf(s.value),
        s.unit === '' ? undefined : textLeaf(s.unit),
        s.range === '' ? undefined : textLeaf(s.range),
        s.flags.filter((f) => f !== '').map(textLeaf),
        [textLeaf(s.note)],
      ]),
      context,
    );
  }
});

const ENCODER = OruR01Settings.parse({});
const ROUND_TRIP_STATUSES = ['registered', 'preliminary', 'final', 'corrected', 'cancelled', 'entered-in-error'] as const;
const VALUES = ['5.4', '-2.1', '<0.5', '>=14', '1:128', '10-20', '2+', 'POSITIVE', 'see comment', '', ' 5.4', '007', 'Ærø\nµ', 'a|b^c~d\\e&f', '\\.br\\ literal'];

test(`canonical → our ORU^R01 encoder → this mapping gives back the values, units, ranges, flags, notes and statuses (${RUNS} seeds)`, () => {
  for (let seed = 1; seed <= RUNS; seed++) {
    const rand = prng(10_000 + seed);
    const text = () => randomLeaf(rand, 8).replace(/\r\n?/g, '\n');
    const observations: Observation[] = Array.from({ length: 1 + Math.floor(rand() * 5) }, (_, i) => ({
      code: { code: `A${i}`, display: `Analyte ${text()}`, system: 'L' },
      value: rand() < 0.5 ? pick(rand, VALUES) : text(),
      unit: `u${text()}`,
      referenceRange: `r${text()}`,
      flags: Array.from({ length: Math.floor(rand() * 3) }, () => `f${text()}`),
      status: pick(rand, ROUND_TRIP_STATUSES),
      observedAt: '2026-11-20T09:10:00+01:00',
      comments: Array.from({ length: Math.floor(rand() * 3) }, text),
    }));
    const report: LabReport = {
      id: `RES-${seed}`,
      version: 1,
      correction: false,
      status: 'final',
      patient: { id: 'P1', identifiers: [{ value: 'P1', system: 'HOSP', type: 'MR' }], family: `Fam${text()}`, given: [`G${text()}`], birthDate: '1984-03-07', sex: 'female' },
      panel: { code: 'PANEL', display: 'Panel', system: 'L' },
      observedAt: '2026-11-20T09:10:00+01:00',
      observations,
      attachments: rand() < 0.3 ? [{ contentType: 'application/pdf', title: 'Printout', dataBase64: 'JVBERi0xLjQK' }] : [],
      provenance: { kind: 'platform-event' },
    };
    const context = `seed ${10_000 + seed}`;
    const hl7 = encodeOruR01(report, { controlId: `C-${seed}`, createdAt: '2026-11-20T09:15:00+01:00' }, ENCODER);
    let back: LabReport;
    try {
      back = mapped(hl7)[0]!.report;
    } catch (e) {
      assert.fail(`${context}: ${(e as Error).message}`);
    }
    assert.equal(back.id, report.id, context);
    assert.deepEqual(
      [back.patient?.family, back.patient?.given, back.patient?.birthDate, back.patient?.sex],
      [report.patient!.family, report.patient!.given, '1984-03-07', 'female'],
      context,
    );
    assert.deepEqual(
      back.observations.map((o) => [o.code, o.value, o.unit, o.referenceRange, o.flags, o.status, o.observedAt, o.comments]),
      observations.map((o) => [o.code, o.value, o.unit, o.referenceRange, o.flags, o.status, o.observedAt, o.comments]),
      context,
    );
    assert.deepEqual(back.attachments, report.attachments, context);
  }
});
