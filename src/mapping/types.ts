import type { LabReport } from '../canonical/report.ts';

/** What a source hands to a channel: the bytes as received, decoded to text. */
export interface InboundInput {
  readonly text: string;
  readonly format: 'json' | 'hl7v2';
}

/** The result of an inbound mapping: the canonical report and its idempotency key. */
export interface MappedInput {
  readonly report: LabReport;
  readonly sourceId: string;
  readonly sourceVersion: string;
}

/**
 * An inbound mapping turns one source input into canonical reports: one for a platform
 * event, one per order (OBR group) for an HL7 v2 ORU^R01. It is pure: it throws
 * `InputError` naming the bad field, and never does I/O.
 */
export interface InboundMapping {
  readonly id: string;
  readonly format: InboundInput['format'];
  /** Synchronous for built-in mappings; expression-based ones (JSONata) resolve a promise. */
  map(input: InboundInput): readonly MappedInput[] | Promise<readonly MappedInput[]>;
}

/** A built-in inbound mapping: synchronous. */
export interface SyncInboundMapping extends InboundMapping {
  map(input: InboundInput): readonly MappedInput[];
}
