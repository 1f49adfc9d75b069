import { hash } from 'node:crypto';
import type { Bundle, BundleEntry, Device, Encounter, Identifier, Observation, Patient, Reference, Resource, ServiceRequest } from '@medplum/fhirtypes';
import type { LabReport } from '../../canonical/report.ts';
import type { CodeTable } from '../../mapping/tables/table.ts';
import { loincWarnings, sourceName, withStandardCodes } from '../codes.ts';
import type { EncodeContext, Encoded, SyncEncoder } from '../types.ts';
import { device, deviceIdentifier, diagnosticReport, encounter, matchIdentifier, observation, orderIdentifiers, patient, serviceRequest } from './resources.ts';
import type { FhirBundleSettings } from './settings.ts';
import { fhirInstant, toJson } from './values.ts';

/**
 * A name-based UUID (RFC 9562 v5 layout over SHA-1) from the control id and the entry's
 * role: the same message always encodes to the same bytes, so previews and golden files are
 * stable and a resend is byte-identical.
 */
function uuidFor(controlId: string, role: string): string {
  const h = hash('sha1', `${controlId}\u0000${role}`, 'buffer');
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** `identifier=system|value` for conditional requests; `|` and `,` in values are escaped per FHIR search rules. */
function identifierQuery(i: Identifier): string {
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/,/g, '\\,').replace(/\$/g, '\\$');
  return `identifier=${encodeURIComponent(`${esc(i.system ?? '')}|${esc(i.value ?? '')}`)}`;
}

interface EntrySpec {
  role: string;
  resource: Resource;
  match: Identifier;
  /** Conditional update (PUT Type?identifier=…) instead of conditional create. */
  update: boolean;
}

/**
 * Canonical report → FHIR R4 `transaction` Bundle: Patient, Encounter, Device and
 * ServiceRequest as conditional creates (matched on their identifiers, so resending never
 * duplicates them), then Observations and the DiagnosticReport: conditional creates for a
 * new result, conditional updates (status corrected) for a correction. Every reference
 * inside the Bundle is a `urn:uuid:` full URL.
 */
export function encodeFhirBundle(report: LabReport, ctx: EncodeContext, s: FhirBundleSettings, flags?: CodeTable): Bundle {
  const entries: EntrySpec[] = [];
  // Each role's URL is written twice (its entry's fullUrl and the references to it): hashed once.
  const urls = new Map<string, string>();
  const urlOf = (role: string): string => {
    const known = urls.get(role);
    if (known !== undefined) return known;
    const url = `urn:uuid:${uuidFor(ctx.controlId, role)}`;
    urls.set(role, url);
    return url;
  };
  const ref = <T extends Resource>(role: string): Reference<T> => ({ reference: urlOf(role) });

  const patientMatch = report.patient ? matchIdentifier(report, s) : undefined;
  const subject = patientMatch ? ref<Patient>('patient') : undefined;
  if (report.patient && patientMatch) entries.push({ role: 'patient', resource: patient(report, s), match: patientMatch, update: false });

  const enc = report.encounter ? ref<Encounter>('encounter') : undefined;
  if (report.encounter) {
    const r = encounter(report, s, subject);
    entries.push({ role: 'encounter', resource: r, match: r.identifier![0]!, update: false });
  }

  const dev = report.device && (report.device.serial || report.device.id) ? ref<Device>('device') : undefined;
  if (dev) entries.push({ role: 'device', resource: device(report, s), match: deviceIdentifier(report, s), update: false });

  // ServiceRequest.subject is required: an order is only written for a known patient.
  const orderIds = orderIdentifiers(report, s);
  const basedOn = subject && orderIds.length > 0 ? ref<ServiceRequest>('order') : undefined;
  if (basedOn && subject) entries.push({ role: 'order', resource: serviceRequest(report, s, subject, enc), match: orderIds[0]!, update: false });

  const occurrences = new Map<string, number>();
  const results: Reference<Observation>[] = [];
  report.observations.forEach((o, i) => {
    const n = (occurrences.get(o.code.code) ?? 0) + 1;
    occurrences.set(o.code.code, n);
    // Stable across resends and corrections: the result id, the analyte, its occurrence.
    const identifier = { system: s.observationIdentifierSystem, value: `${report.id}/${o.code.code}${n > 1 ? `/${n}` : ''}` };
    const role = `observation-${i}`;
    results.push(ref<Observation>(role));
    entries.push({
      role,
      resource: observation(o, identifier, report, s, {
        ...(subject ? { subject } : {}),
        ...(enc ? { encounter: enc } : {}),
        ...(dev ? { device: dev } : {}),
        ...(basedOn ? { basedOn } : {}),
      }, flags),
      match: identifier,
      update: report.correction,
    });
  });

  const dr = diagnosticReport(report, s, { ...(subject ? { subject } : {}), ...(enc ? { encounter: enc } : {}), ...(basedOn ? { basedOn } : {}), results });
  entries.push({ role: 'report', resource: dr, match: dr.identifier![0]!, update: report.correction });

  const timestamp = fhirInstant(ctx.createdAt, 'Z');
  return {
    resourceType: 'Bundle',
    identifier: { system: 'urn:conduit:message-control-id', value: ctx.controlId },
    type: 'transaction',
    ...(timestamp ? { timestamp } : {}),
    entry: entries.map((e): BundleEntry => {
      const type = e.resource.resourceType;
      const query = identifierQuery(e.match);
      return {
        fullUrl: urlOf(e.role),
        resource: e.resource,
        request: e.update ? { method: 'PUT', url: `${type}?${query}` } : { method: 'POST', url: type, ifNoneExist: query },
      };
    }),
  };
}

/** The code tables the FHIR encoder reads, by their names under `tables:`. */
export interface FhirBundleTables {
  /** LOINC (`loinc`, `loinc_display`) by local analyte code; `unit` + `ucum` for its usual unit. */
  readonly analytes?: CodeTable | undefined;
  /** UCUM (`ucum`) by unit as sent. */
  readonly units?: CodeTable | undefined;
  /** Observation.interpretation (`fhir_code`, `fhir_display`) for flags that are not v3 codes themselves. */
  readonly flags?: CodeTable | undefined;
}

/**
 * LOINC and UCUM where the report has none: from `settings.loinc` / `settings.ucumUnits` first
 * (overrides kept from before the tables), then the tables. An analyte without LOINC goes with
 * its local code alone, and a unit without UCUM as text alone, each with a warning.
 */
export function withTableCodes(report: LabReport, s: FhirBundleSettings, tables: FhirBundleTables): { report: LabReport; warnings: string[] } {
  const codes = withStandardCodes(report, { analytes: tables.analytes, units: tables.units, loinc: s.loinc, ucumUnits: s.ucumUnits });
  const warnings = loincWarnings(codes, sourceName(tables.analytes, { name: 'settings.loinc', value: s.loinc }));
  const ucumSource = sourceName(tables.units, { name: 'settings.ucumUnits', value: s.ucumUnits });
  if (ucumSource) for (const u of codes.withoutUcum) warnings.push(`unit '${u}' has no UCUM code in ${ucumSource}; sent as text without a UCUM code`);
  return { report: codes.report, warnings };
}

export function createFhirBundleEncoder(settings: FhirBundleSettings, tables: FhirBundleTables = {}): SyncEncoder {
  return {
    kind: 'fhir-bundle',
    format: 'json',
    encode: (report: LabReport, ctx: EncodeContext): Encoded => {
      const coded = withTableCodes(report, settings, tables);
      return {
        payload: toJson(encodeFhirBundle(coded.report, ctx, settings, tables.flags)),
        contentType: 'application/fhir+json',
        ...(coded.warnings.length > 0 ? { warnings: coded.warnings } : {}),
      };
    },
  };
}
