import type { LabReport } from '../canonical/report.ts';

export interface EncodeContext {
  /** The id the receiver echoes (MSH-10); the same on every attempt and every resend. */
  readonly controlId: string;
  /** Creation time of the message, ISO 8601 with offset. */
  readonly createdAt: string;
}

export interface Encoded {
  readonly payload: string;
  readonly contentType: string;
  /** Things a user should know about this output, e.g. an analyte with no LOINC code. Never patient data. */
  readonly warnings?: readonly string[];
}

/** An encoder is a pure function from a canonical report to a wire payload. */
export interface Encoder {
  readonly kind: string;
  /** One-line description of what the payload is, for previews. */
  readonly format: 'hl7v2' | 'json';
  /** Synchronous for built-in encoders; expression-based settings (JSONata) resolve a promise. */
  encode(report: LabReport, ctx: EncodeContext): Encoded | Promise<Encoded>;
}

/** A built-in encoder: synchronous, so callers (tests, previews) can use its result directly. */
export interface SyncEncoder extends Encoder {
  encode(report: LabReport, ctx: EncodeContext): Encoded;
}
