const ISO = /^(\d{4}(?:-\d{2}(?:-\d{2})?)?)(?:[T ](\d{2}:\d{2})(?::(\d{2}(?:\.\d+)?))?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * A canonical ISO 8601 date-time as a FHIR dateTime: the sender's offset is kept (written
 * `+hh:mm`); a time without one gets `offsetForLocalTimes` (FHIR requires a zone once there is
 * a time); seconds are added when missing. Undefined when the text is not ISO 8601.
 */
export function toFhirDateTime(iso: string, offsetForLocalTimes = ''): string | undefined {
  const m = ISO.exec(iso.trim());
  if (!m) return undefined;
  const [, date, hm, sec, zone] = m;
  if (!hm) return date!;
  const z = zone ? (zone === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`) : offsetForLocalTimes;
  return `${date}T${hm}:${sec ?? '00'}${z}`;
}
