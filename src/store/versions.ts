/** A message's place among the versions of its result (same channel and source id). */
export interface VersionKey {
  version: string;
  /** Intake order. */
  seq: number;
}

const WHOLE_NUMBER = /^\d+$/;

/**
 * Whether `a` is a newer version of the result than `b`. Whole-number versions compare as
 * numbers ('10' after '9'); any other pair (a content hash, as HL7 v2 inputs have) by intake
 * order: the version taken later is the newer one.
 */
export function isNewerVersion(a: VersionKey, b: VersionKey): boolean {
  if (WHOLE_NUMBER.test(a.version) && WHOLE_NUMBER.test(b.version)) {
    const x = BigInt(a.version);
    const y = BigInt(b.version);
    if (x !== y) return x > y;
  }
  return a.seq > b.seq;
}
