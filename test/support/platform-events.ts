/**
 * Realistic full-form platform events (see /work/shared/platform-events.md), generated from
 * the template samples/platform-events/full-bmp-panel.json: a fixed set of patients, each
 * with several results, every result with its own id and accession (the ORC-3 filler number
 * of the ORU^R01, so a receiver can tell which event a frame carries).
 */
import { prng } from './prng.ts';
import { platformEvent } from './repo.ts';

export interface GeneratedEvent {
  /** Position in the generated list: per patient, events are meant to be sent in this order. */
  readonly index: number;
  readonly patientId: string;
  readonly resultId: string;
  /** result.accession: ORC-3 / OBR-3 of the encoded message. */
  readonly accession: string;
  /** The JSON body to POST. */
  readonly body: string;
}

export interface EventSetOptions {
  /** Number of distinct patients. Default 50. */
  patients?: number;
  /** Total number of events, spread round-robin over the patients. */
  events: number;
  /** Distinguishes runs, so two sets never share a result id. Default 'r'. */
  runId?: string;
}

const FAMILIES = ['Nguyen', 'Okafor', 'Müller', "O'Brien", 'García Márquez', 'Smith', 'Kowalski', 'Haddad', 'Tanaka', 'Dubois'];
const GIVEN = [['Thi', 'Mai'], ['Chinedu'], ['Jürgen', 'K.'], ['Siobhán'], ['Inés'], ['Ann', 'Marie'], ['Zofia'], ['Rami'], ['Yui'], ['Éloïse']];
const SITES = ['Clinic North', 'Clinic South & East', 'Ward 7B'];

const ANALYTES = [
  { analyte: 'GLU', display: 'Glucose', unit: 'mmol/L', range: '3.9-5.5', lo: 3, hi: 12 },
  { analyte: 'K', display: 'Potassium', unit: 'mmol/L', range: '3.5-5.1', lo: 3, hi: 6.5 },
  { analyte: 'NA', display: 'Sodium', unit: 'mmol/L', range: '135-145', lo: 128, hi: 150 },
  { analyte: 'CREA', display: 'Creatinine', unit: 'umol/L', range: '45-90', lo: 40, hi: 200 },
  { analyte: 'HBA1C', display: 'Haemoglobin A1c', unit: '%', range: '4.0-6.0', lo: 4, hi: 14 },
  { analyte: 'CRP', display: 'C-reactive protein', unit: 'mg/L', range: '<5', lo: 0.5, hi: 80 },
] as const;

/** `events` events over `patients` patients, interleaved (event i belongs to patient i mod patients). */
export function generateEvents(options: EventSetOptions): GeneratedEvent[] {
  const template = platformEvent('full-bmp-panel') as { result: { documents: unknown[] } };
  const documents = template.result.documents;
  const patients = options.patients ?? 50;
  const runId = options.runId ?? 'r';
  // Seeded, so every run sends the same events.
  const rnd = prng(0xc0ffee);
  const base = Date.parse('2026-11-20T08:00:00Z');
  const out: GeneratedEvent[] = [];
  for (let i = 0; i < options.events; i++) {
    const p = i % patients;
    const patientId = `pat_${runId}${p.toString(36).toUpperCase().padStart(4, '0')}`;
    const resultId = `res_${runId}${i.toString(36).toUpperCase().padStart(6, '0')}`;
    const accession = `A${runId.toUpperCase()}${String(i).padStart(8, '0')}`;
    const observed = new Date(base + i * 7_000).toISOString().replace('.000Z', 'Z');
    const count = 1 + Math.floor(rnd() * 4);
    const observations = Array.from({ length: count }, (_, k) => {
      const a = ANALYTES[(i + k) % ANALYTES.length]!;
      const v = a.lo + rnd() * (a.hi - a.lo);
      const high = a.analyte !== 'CRP' && v > Number(a.range.split('-')[1]);
      return {
        analyte: a.analyte,
        display: a.display,
        value: v.toFixed(1),
        unit: a.unit,
        reference_range: a.range,
        flags: high ? ['H'] : [],
        status: 'final',
        ...(high && rnd() < 0.3 ? { comment: 'Repeat advised; sample haemolysed?' } : {}),
      };
    });
    const event = {
      id: `evt_${resultId}`,
      event: 'result.created',
      occurred_at: observed,
      tenant: 'northside-clinics',
      result: {
        id: resultId,
        version: 1,
        status: 'final',
        encounter_ref: `enc_${runId}${p}_${Math.floor(i / (patients * 4))}`,
        order_ref: `ord_${runId}${i}`,
        accession,
        observed_at: observed,
        patient: {
          id: patientId,
          external_id: `MRN-${String(400000 + p).padStart(6, '0')}`,
          family: FAMILIES[p % FAMILIES.length],
          given: GIVEN[p % GIVEN.length],
          birth_date: `19${50 + (p % 50)}-0${1 + (p % 9)}-1${p % 10}`,
          sex: p % 2 === 0 ? 'female' : 'male',
        },
        device: { id: `dev_AF2_${String(p % 7).padStart(4, '0')}`, model: 'Afinion 2', serial: `AF2-${11000 + (p % 7)}`, site: SITES[p % SITES.length] },
        operator: { id: `op_${p % 5}`, name: 'J. Okafor' },
        panel: { code: 'BMP-POC', display: 'Basic metabolic panel (point of care)' },
        observations,
        ...(i % 10 === 0 ? { documents } : {}),
      },
    };
    out.push({ index: i, patientId, resultId, accession, body: JSON.stringify(event) });
  }
  return out;
}
