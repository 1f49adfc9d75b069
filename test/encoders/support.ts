/**
 * Helpers for the ORU^R01 encoder tests: a complete canonical report to vary, and encoding
 * read back with our own codec.
 */
import type { LabReport, Observation } from '../../src/canonical/report.ts';
import { encodeOruR01 } from '../../src/encoders/oru-r01/encode.ts';
import { OruR01Settings } from '../../src/encoders/oru-r01/settings.ts';
import type { EncodeContext } from '../../src/encoders/types.ts';
import { Hl7Message } from '../../src/protocols/hl7v2/index.ts';

export const CTX: EncodeContext = { controlId: 'CTRL-0001', createdAt: '2026-11-20T09:14:05.123+01:00' };

export const SETTINGS: OruR01Settings = OruR01Settings.parse({
  sendingApplication: 'CONDUIT',
  sendingFacility: 'POC-PLATFORM',
  receivingApplication: 'LIS',
  receivingFacility: 'LAB',
});

export function observation(o: Partial<Observation> = {}): Observation {
  return { code: { code: 'GLU', display: 'Glucose', system: 'L' }, value: '5.4', unit: 'mmol/L', referenceRange: '3.9-5.5', flags: [], status: 'final', comments: [], ...o };
}

/** A full report: patient with two identifiers, encounter, order, device, operator, panel, two observations. */
export function report(r: Partial<LabReport> = {}): LabReport {
  return {
    id: 'res_8F2C41',
    version: 1,
    correction: false,
    status: 'final',
    patient: {
      id: 'pat_19XK2',
      identifiers: [
        { value: 'pat_19XK2', system: 'CATENIX', type: 'PI' },
        { value: 'MRN-004211', system: 'MRN', type: 'MR' },
      ],
      family: 'Nguyen',
      given: ['Thi', 'Mai'],
      birthDate: '1984-03-07',
      sex: 'female',
    },
    encounter: { id: 'enc_3K9QX' },
    order: { id: 'ord_77120', accession: 'A2611200042' },
    device: { id: 'dev_AF2_0007', model: 'Afinion 2', serial: 'AF2-11873' },
    operator: { id: 'op_12', name: 'J. Okafor' },
    panel: { code: 'BMP-POC', display: 'Basic metabolic panel', system: 'L' },
    observedAt: '2026-11-20T09:13:41+01:00',
    issuedAt: '2026-11-20T08:14:03Z',
    observations: [observation(), observation({ code: { code: 'K', display: 'Potassium', system: 'L' }, value: '6.1', referenceRange: '3.5-5.1', flags: ['H'] })],
    attachments: [],
    provenance: { kind: 'platform-event', eventType: 'result.created' },
    ...r,
  };
}

export function encode(r: LabReport, settings: OruR01Settings = SETTINGS, ctx: EncodeContext = CTX): string {
  return encodeOruR01(r, ctx, settings);
}

/** Encodes and parses back with our codec. */
export function encodeAndParse(r: LabReport, settings: OruR01Settings = SETTINGS, ctx: EncodeContext = CTX): Hl7Message {
  return Hl7Message.parse(encode(r, settings, ctx));
}

/** The segment names of a message, in order. */
export function names(m: Hl7Message): string[] {
  return m.segments.map((s) => s.name);
}
