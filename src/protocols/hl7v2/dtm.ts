/**
 * HL7 v2 DTM (v2.5.1 section 2.A.22): YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ].
 * Conversions are textual, never through Date, so the sender's offset and precision survive.
 */

const ISO = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

export class DateTimeFormatError extends Error {
  override readonly name = 'DateTimeFormatError';
}

/** ISO 8601 / FHIR dateTime → HL7 DTM, keeping the offset (`Z` becomes `+0000`). */
export function isoToDtm(iso: string): string {
  const m = ISO.exec(iso.trim());
  if (!m) throw new DateTimeFormatError(`'${iso}' is not an ISO 8601 date-time`);
  const [, y, mo, da, h, mi, s, frac, zone] = m;
  let out = y! + (mo ?? '') + (da ?? '') + (h ?? '') + (mi ?? '') + (s ?? '');
  // DTM allows at most four fractional digits; further digits are cut, never rounded.
  if (frac) out += `.${frac.slice(0, 4)}`;
  if (zone && h !== undefined) out += zone === 'Z' ? '+0000' : zone.replace(':', '');
  return out;
}

const DTM = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?([+-]\d{4})?$/;

/**
 * HL7 DTM → ISO 8601 / FHIR dateTime. Precision is kept (a date stays a date). FHIR
 * requires a zone once hours are given; a DTM without one gets `defaultOffset` when
 * supplied, otherwise stays local (valid ISO, not a valid FHIR dateTime).
 */
export function dtmToIso(dtm: string, defaultOffset?: string): string {
  const m = DTM.exec(dtm.trim());
  if (!m) throw new DateTimeFormatError(`'${dtm}' is not an HL7 DTM (YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ])`);
  const [, y, mo, da, h, mi, s, frac, zone] = m;
  let out = y!;
  if (mo) out += `-${mo}`;
  if (mo && da) out += `-${da}`;
  if (!(mo && da && h)) return out;
  out += `T${h}:${mi ?? '00'}:${s ?? '00'}`;
  if (frac && s) out += `.${frac}`;
  const z = zone ?? (defaultOffset ? offsetToDtm(defaultOffset) : undefined);
  if (z) out += z === '+0000' && zone === undefined ? 'Z' : `${z.slice(0, 3)}:${z.slice(3)}`;
  return out;
}

/** `Z`, `+01:00` or `+0100` → `+0000` / `+0100`, the DTM form of a default offset. */
function offsetToDtm(offset: string): string {
  if (offset === 'Z') return '+0000';
  const z = offset.replace(':', '');
  if (!/^[+-]\d{4}$/.test(z)) throw new DateTimeFormatError(`'${offset}' is not a UTC offset (Z or +/-hh:mm)`);
  return z;
}
