/**
 * What a benchmark sends: event i of a run, as a platform webhook body (JSON) or as an HL7 v2
 * ORU^R01 for an MLLP listener. Every event carries its own accession `A<RUN><8-digit index>`
 * (ORC-3 of the ORU^R01 the LIS receives, an identifier in the FHIR Bundle), so a receiver can
 * tell which event it got. Bodies are built on demand from a pool of generated events, so a
 * soak of a million events does not hold a million bodies.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../support/engine-process.ts';
import { generateEvents } from '../support/platform-events.ts';

export interface Workload {
  /** Prefix of every accession of this run. */
  readonly accessionPrefix: string;
  /** The bytes to submit for event i. */
  body(i: number): Buffer;
  /** The event index of an accession of this run, or -1. */
  indexOf(accession: string): number;
}

const pad8 = (i: number): string => String(i).padStart(8, '0');

function accessionIndex(prefix: string): (accession: string) => number {
  return (accession) => (accession.length === prefix.length + 8 && accession.startsWith(prefix) ? Number(accession.slice(prefix.length)) : -1);
}

/** Full-form platform events (test/support/platform-events.ts), event i for patient i mod `patients`. */
export function platformWorkload(runId: string, patients: number, events: number): Workload {
  const poolSize = Math.min(events, patients * 10);
  const pool = generateEvents({ events: poolSize, patients, runId });
  const prefix = `A${runId.toUpperCase()}`;
  return {
    accessionPrefix: prefix,
    body(i) {
      const e = pool[i % poolSize]!;
      if (i < poolSize) return Buffer.from(e.body);
      const resultId = `res_${runId}${i.toString(36).toUpperCase().padStart(6, '0')}`;
      return Buffer.from(
        e.body
          .replaceAll(e.resultId, resultId)
          .replaceAll(e.accession, `${prefix}${pad8(i)}`)
          .replace(`"ord_${runId}${e.index}"`, `"ord_${runId}${i}"`),
      );
    },
    indexOf: accessionIndex(prefix),
  };
}

/**
 * The sample samples/hl7v2/05-chemistry-final-v251.hl7 (five results, one order) with its own
 * MSH-10, ORC-3/OBR-3 (the accession) and PID-3 (patient i mod `patients`) per event.
 */
export function hl7v2Workload(runId: string, patients: number): Workload {
  const template = readFileSync(join(REPO, 'samples', 'hl7v2', '05-chemistry-final-v251.hl7'), 'utf8').replace(/\r?\n/g, '\r');
  const prefix = `A${runId.toUpperCase()}`;
  return {
    accessionPrefix: prefix,
    body: (i) =>
      Buffer.from(
        template
          .replace('CHEM-20261121-0412', `M${runId}${pad8(i)}`)
          .replaceAll('C26112100412', `${prefix}${pad8(i)}`)
          .replace('H0042871', `H${runId}${i % patients}`),
      ),
    indexOf: accessionIndex(prefix),
  };
}
