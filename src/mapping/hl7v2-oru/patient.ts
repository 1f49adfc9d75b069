import type { Identifier, Patient } from '../../canonical/report.ts';
import { dtmToIso, type Hl7Segment } from '../../protocols/hl7v2/index.ts';
import { at, dtmProblem, type Issues, isHl7Null, type Located, leaf, leafHighlighting, nullComponents } from './fields.ts';

/** Own keys only: a code such as 'constructor' must not find Object.prototype's. */
export function lookup<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/**
 * PID → canonical patient:
 * - PID-3 repetitions (else the v2.3 external id PID-2) → identifiers: CX-1 value as sent,
 *   CX-5 identifier type, CX-4 assigning authority kept whole (namespace, universal id and its
 *   type) and as the system: `patientIdentifierSystems` of its namespace or universal id, else
 *   the universal id as a URI (ISO → `urn:oid:…`, UUID, URI), else the namespace, else the
 *   universal id as sent; repetitions without a value are skipped;
 * - the first repetition of PID-5 that has a name: XPN-1 family, XPN-2 and XPN-3 given;
 * - PID-7 → birth date at the precision sent (YYYY, YYYY-MM, YYYY-MM-DD; a time is dropped);
 * - PID-8 through table 0001 (plus `administrativeSex`); an unknown code is refused.
 * A PID with none of these (`PID|1`) gives no patient.
 */
export function mapPatient(
  pid: Located,
  systems: Readonly<Record<string, string>>,
  sexes: Readonly<Record<string, NonNullable<Patient['sex']>>>,
  issues: Issues,
): Patient | undefined {
  const seg = pid.segment;
  let identifiers = cxList(pid, 3, systems);
  if (identifiers.length === 0) identifiers = cxList(pid, 2, systems);

  let family: string | undefined;
  let given: string[] = [];
  let nameNulls: number[] = [];
  let nameHighlighting: NonNullable<Patient['nameHighlighting']> | undefined;
  for (let r = 0; r < (isHl7Null(seg, 5) ? 0 : seg.repetitions(5).length); r++) {
    const f = leaf(seg, 5, 1, 1, r);
    const g = [leaf(seg, 5, 2, 1, r), leaf(seg, 5, 3, 1, r)].filter((x): x is string => x !== undefined);
    if (f !== undefined || g.length > 0) {
      family = f;
      given = g;
      nameNulls = nullComponents(seg, 5, r).filter((n) => n <= 3);
      nameHighlighting = highlightingOfName(seg, r);
      break;
    }
  }

  let birthDate: string | undefined;
  const dob = seg.get(7, 1);
  if (dob !== '' && !isHl7Null(seg, 7)) {
    // Which part is wrong is not said: that would repeat part of the birth date.
    if (dtmProblem(dob)) issues.add(at(pid, 7), 'invalid_value', 'PID-7 (date of birth) is not a valid HL7 date: expected YYYY[MM[DD]] (a time may follow)');
    else birthDate = dtmToIso(dob).slice(0, 10);
  }

  let sex: Patient['sex'];
  const sexCode = leaf(seg, 8);
  if (sexCode !== undefined && !isHl7Null(seg, 8)) {
    sex = lookup(sexes, sexCode) ?? lookup(sexes, sexCode.toUpperCase());
    if (sex === undefined) {
      const codes = Object.keys(sexes).join(', ');
      issues.add(at(pid, 8), 'invalid_value', `PID-8 (administrative sex) is not a code of HL7 table 0001 or the mapping's administrativeSex (${codes})`);
    }
  }

  if (identifiers.length === 0 && family === undefined && given.length === 0 && birthDate === undefined && sex === undefined) return undefined;
  return {
    ...(identifiers[0] ? { id: identifiers[0].value } : {}),
    identifiers,
    ...(family !== undefined ? { family } : {}),
    given,
    ...(nameNulls.length > 0 ? { nameNulls } : {}),
    ...(nameHighlighting ? { nameHighlighting } : {}),
    ...(birthDate !== undefined ? { birthDate } : {}),
    ...(sex !== undefined ? { sex } : {}),
  };
}

function cxList(s: Located, field: number, systems: Readonly<Record<string, string>>): Identifier[] {
  const seg = s.segment;
  const out: Identifier[] = [];
  if (isHl7Null(seg, field)) return out;
  for (let r = 0; r < seg.repetitions(field).length; r++) {
    // Text as sent: an id is never read as a number, so leading zeros stay.
    const value = leaf(seg, field, 1, 1, r);
    if (value === undefined) continue;
    const namespace = leaf(seg, field, 4, 1, r);
    const universalId = leaf(seg, field, 4, 2, r);
    const universalIdType = leaf(seg, field, 4, 3, r);
    const system =
      (namespace !== undefined ? lookup(systems, namespace) : undefined) ??
      (universalId !== undefined ? (lookup(systems, universalId) ?? universalIdUri(universalId, universalIdType)) : undefined) ??
      namespace ??
      universalId;
    const type = leaf(seg, field, 5, 1, r);
    const authority = {
      ...(namespace !== undefined ? { namespace } : {}),
      ...(universalId !== undefined ? { universalId } : {}),
      ...(universalIdType !== undefined ? { universalIdType } : {}),
    };
    out.push({
      value,
      ...(system !== undefined ? { system } : {}),
      ...(type !== undefined ? { type } : {}),
      ...(Object.keys(authority).length > 0 ? { assigningAuthority: authority } : {}),
    });
  }
  return out;
}

const OID = /^[0-2](\.(0|[1-9]\d*))+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const URI = /^[a-z][a-z0-9+.-]*:\S+$/i;

/**
 * HD-2 universal id as a URI by its HD-3 type (HL7 table 0301): an ISO OID becomes
 * `urn:oid:…`, a UUID `urn:uuid:…`, a URI stays itself. Anything else (DNS, local types, an
 * OID with a wrong type) names no URI.
 */
export function universalIdUri(id: string, type: string | undefined): string | undefined {
  const t = type?.toUpperCase();
  if (t === 'ISO' && OID.test(id)) return `urn:oid:${id}`;
  if (t === 'UUID' && UUID.test(id)) return `urn:uuid:${id.toLowerCase()}`;
  if ((t === 'URI' || t === 'URL') && URI.test(id)) return id;
  return undefined;
}

/** `\H\`/`\N\` in XPN-1..3 of the repetition read, aligned with `family` and `given`. */
function highlightingOfName(seg: Hl7Segment, r: number): NonNullable<Patient['nameHighlighting']> | undefined {
  const family = leafHighlighting(seg, 5, 1, r);
  const given = [2, 3].filter((n) => leaf(seg, 5, n, 1, r) !== undefined).map((n) => leafHighlighting(seg, 5, n, r) ?? []);
  if (!family && given.every((g) => g.length === 0)) return undefined;
  return { ...(family ? { family } : {}), ...(given.some((g) => g.length > 0) ? { given } : {}) };
}
