import type {
  CodeableConcept,
  Coding,
  Device,
  DiagnosticReport,
  Encounter,
  Identifier,
  Observation,
  Patient,
  Practitioner,
  Reference,
  ServiceRequest,
} from '@medplum/fhirtypes';
import type { AssigningAuthority, Coding as CanonicalCoding, CodedConcept, LabReport, Observation as CanonicalObservation, ResultStatus } from '../../canonical/report.ts';
import type { CodeTable } from '../../mapping/tables/table.ts';
import { universalIdUri } from '../../mapping/hl7v2-oru/patient.ts';
import { HL7_NULL } from '../../protocols/hl7v2/index.ts';
import type { FhirBundleSettings } from './settings.ts';
import { dataAbsentReason, fhirDateTime, fhirInstant, interpretation, observationValue, referenceRange, type SentFlag } from './values.ts';

/** Builds each resource of the Bundle from the canonical report; references are filled in by the caller. */

export function identifierSystem(name: string | undefined, s: FhirBundleSettings): string {
  if (name && Object.hasOwn(s.identifierSystems, name)) return s.identifierSystems[name]!;
  if (name && /^[a-z][a-z0-9+.-]*:\S+$/i.test(name)) return name;
  return `urn:conduit:identifier:${encodeURIComponent(name ?? 'unknown')}`;
}

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const IDENTIFIER_TYPES: Record<string, string> = { MR: 'Medical record number', PI: 'Patient internal identifier', PT: 'Patient external identifier', VN: 'Visit number', FILL: 'Filler Identifier', PLAC: 'Placer Identifier' };

/** Further codes of HL7 table 0203 senders put in CX-5, coded without a display. */
const MORE_IDENTIFIER_TYPES: ReadonlySet<string> = new Set(['AN', 'BR', 'DL', 'DN', 'EI', 'EN', 'HC', 'JHN', 'LR', 'MA', 'MC', 'NH', 'NI', 'NPI', 'PN', 'PPN', 'PRN', 'SR', 'SS', 'U']);

/** CX-5 as identifier.type: a code of table 0203 as a v2-0203 coding, any other code as text. */
function typed(type: string | undefined): Pick<Identifier, 'type'> {
  if (!type) return {};
  const display = Object.hasOwn(IDENTIFIER_TYPES, type) ? IDENTIFIER_TYPES[type] : undefined;
  if (display) return { type: { coding: [{ system: V2_0203, code: type, display }] } };
  return { type: MORE_IDENTIFIER_TYPES.has(type) ? { coding: [{ system: V2_0203, code: type }] } : { text: type } };
}

export function patientIdentifiers(report: LabReport, s: FhirBundleSettings): Identifier[] {
  return (report.patient?.identifiers ?? []).map((i) => ({ ...typed(i.type), system: identifierSystem(i.system, s), value: i.value }));
}

/** The identifier the EHR matches the patient on (conditional create). */
export function matchIdentifier(report: LabReport, s: FhirBundleSettings): Identifier | undefined {
  const ids = report.patient?.identifiers ?? [];
  const chosen = ids.find((i) => i.type === s.matchPatientOn) ?? ids[0];
  return chosen ? { system: identifierSystem(chosen.system, s), value: chosen.value } : undefined;
}

export function patient(report: LabReport, s: FhirBundleSettings): Patient {
  const p = report.patient!;
  const name = p.family || p.given.length > 0 ? [{ ...(p.family ? { family: p.family } : {}), ...(p.given.length ? { given: p.given } : {}) }] : undefined;
  return {
    resourceType: 'Patient',
    identifier: patientIdentifiers(report, s),
    ...(name ? { name } : {}),
    ...(p.birthDate ? { birthDate: p.birthDate } : {}),
    ...(p.sex ? { gender: p.sex } : {}),
  };
}

export function encounter(report: LabReport, s: FhirBundleSettings, subject: Reference<Patient> | undefined): Encounter {
  return {
    resourceType: 'Encounter',
    identifier: [{ ...typed('VN'), system: s.encounterIdentifierSystem, value: report.encounter!.id }],
    // The platform does not say whether the visit is over.
    status: 'unknown',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: s.encounterClass.code, ...(s.encounterClass.display ? { display: s.encounterClass.display } : {}) },
    ...(subject ? { subject } : {}),
  };
}

/** Identifiers of a device: the platform's device id and the serial number, each in its own system. */
export function deviceIdentifiers(report: LabReport, s: FhirBundleSettings): Identifier[] {
  const d = report.device!;
  return [...(d.id ? [{ system: s.deviceIdSystem, value: d.id }] : []), ...(d.serial ? [{ system: s.deviceIdentifierSystem, value: d.serial }] : [])];
}

/**
 * The identifier the conditional create matches a device on: the platform's id when known,
 * else the serial, so that reports with and without a serial find the same Device.
 */
export function deviceIdentifier(report: LabReport, s: FhirBundleSettings): Identifier {
  return deviceIdentifiers(report, s)[0]!;
}

export function device(report: LabReport, s: FhirBundleSettings): Device {
  const d = report.device!;
  return {
    resourceType: 'Device',
    identifier: deviceIdentifiers(report, s),
    ...(d.serial ? { serialNumber: d.serial } : {}),
    ...(d.model ? { deviceName: [{ name: d.model, type: 'model-name' as const }] } : {}),
    ...(d.site ? { location: { display: d.site } } : {}),
  };
}

/**
 * The system of an order number from who assigned it (HL7 v2 EI-2..4), as for patient
 * identifiers: `identifierSystems` of its universal id or namespace, else the universal id as
 * a URI (ISO OID → `urn:oid:…`, UUID, URI). Undefined otherwise (a namespace alone that is not
 * listed): the channel's configured system is then the right one.
 */
function assignerSystem(a: AssigningAuthority | undefined, s: FhirBundleSettings): string | undefined {
  if (a?.universalId !== undefined && Object.hasOwn(s.identifierSystems, a.universalId)) return s.identifierSystems[a.universalId]!;
  if (a?.namespace !== undefined && Object.hasOwn(s.identifierSystems, a.namespace)) return s.identifierSystems[a.namespace]!;
  return a?.universalId !== undefined ? universalIdUri(a.universalId, a.universalIdType) : undefined;
}

export function orderIdentifiers(report: LabReport, s: FhirBundleSettings): Identifier[] {
  const out: Identifier[] = [];
  const o = report.order;
  if (o?.id) out.push({ ...typed('PLAC'), system: assignerSystem(o.placerAuthority, s) ?? s.placerOrderIdentifierSystem, value: o.id });
  if (o?.accession) out.push({ ...typed('FILL'), system: assignerSystem(o.fillerAuthority, s) ?? s.fillerOrderIdentifierSystem, value: o.accession });
  return out;
}

/** The order's state from the report's: results pending keep it active, a cancelled report revokes it. */
const SERVICE_REQUEST_STATUS: Record<ResultStatus, ServiceRequest['status']> = {
  registered: 'active', preliminary: 'active', final: 'completed', corrected: 'completed', amended: 'completed',
  cancelled: 'revoked', 'entered-in-error': 'completed', unknown: 'unknown',
};

export function serviceRequest(report: LabReport, s: FhirBundleSettings, subject: Reference<Patient>, enc: Reference<Encounter> | undefined): ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    identifier: orderIdentifiers(report, s),
    status: SERVICE_REQUEST_STATUS[report.status],
    intent: 'order',
    ...(report.panel ? { code: codeable(codingsOf(report.panel), s, report.panel.originalText) } : {}),
    subject,
    ...(enc ? { encounter: enc } : {}),
  };
}

/** HL7 table 0396 coding system names (and the OIDs of the main ones) → FHIR code system URIs. */
const HL7_CODING_SYSTEMS: Record<string, string> = {
  LN: 'http://loinc.org',
  LOINC: 'http://loinc.org',
  '2.16.840.1.113883.6.1': 'http://loinc.org',
  SCT: 'http://snomed.info/sct',
  SNM: 'http://snomed.info/sct',
  SNOMED: 'http://snomed.info/sct',
  'SNOMED-CT': 'http://snomed.info/sct',
  '2.16.840.1.113883.6.96': 'http://snomed.info/sct',
  UCUM: 'http://unitsofmeasure.org',
  '2.16.840.1.113883.6.8': 'http://unitsofmeasure.org',
  I10: 'http://hl7.org/fhir/sid/icd-10',
  'I10-CM': 'http://hl7.org/fhir/sid/icd-10-cm',
};

/**
 * An HL7 v2 coding system name as a FHIR system: the mapping's `codeSystems`, then the
 * standard systems of table 0396, HL7 tables (`HL70078` → the v2-0078 CodeSystem), a URI as
 * it is, an OID as `urn:oid:`; the local ones (`L`, `99`, none) are `localCodeSystem`, and
 * other names `localCodeSystem:<name>`.
 */
export function codeSystem(sys: string | undefined, s: FhirBundleSettings): string {
  if (sys && Object.hasOwn(s.codeSystems, sys)) return s.codeSystems[sys]!;
  if (!sys || sys === 'L' || sys === '99') return s.localCodeSystem;
  const upper = sys.toUpperCase();
  if (Object.hasOwn(HL7_CODING_SYSTEMS, upper)) return HL7_CODING_SYSTEMS[upper]!;
  const table = /^HL7(\d{4})$/.exec(upper);
  if (table) return `http://terminology.hl7.org/CodeSystem/v2-${table[1]}`;
  if (/^[0-2](\.(0|[1-9]\d*))+$/.test(sys)) return `urn:oid:${sys}`;
  if (/^[a-z][a-z0-9+.-]*:/i.test(sys)) return sys;
  return `${s.localCodeSystem}:${encodeURIComponent(sys)}`;
}

function coding(c: CanonicalCoding, s: FhirBundleSettings): Coding {
  return { system: codeSystem(c.system, s), ...(c.version ? { version: c.version } : {}), code: c.code, ...(c.display ? { display: c.display } : {}) };
}

/** Every coding of a concept: the code and the alternates sent with it. */
export function codingsOf(c: CodedConcept): CanonicalCoding[] {
  return c.textOnly ? (c.alternates ?? []) : [c, ...(c.alternates ?? [])];
}

export function codeable(codes: CanonicalCoding[], s: FhirBundleSettings, text?: string): CodeableConcept {
  const seen = new Set<string>();
  const codings = codes.map((c) => coding(c, s)).filter((c) => {
    const key = `${c.system}|${c.code}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const t = text ?? codes.find((c) => c.display)?.display;
  return { ...(codings.length > 0 ? { coding: codings } : {}), ...(t ? { text: t } : {}) };
}

/** LOINC of an observation as a FHIR coding (the encoder fills it in from settings and tables first). */
export function loincOf(o: CanonicalObservation): CanonicalCoding | undefined {
  return o.loinc ? { ...o.loinc, system: 'http://loinc.org' } : undefined;
}

/** Cancelled (HL7 OBX-11 X), or nothing sent: no value[x], a dataAbsentReason instead. */
function withoutValue(o: CanonicalObservation): boolean {
  return o.status === 'cancelled' || (o.value === '' && !o.valueCoding);
}

const LAB_CATEGORY: CodeableConcept = {
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory', display: 'Laboratory' }],
};

export function observation(
  o: CanonicalObservation,
  identifier: Identifier,
  report: LabReport,
  s: FhirBundleSettings,
  refs: { subject?: Reference<Patient>; encounter?: Reference<Encounter>; device?: Reference<Device>; basedOn?: Reference<ServiceRequest> },
  flags?: CodeTable,
): Observation {
  const loinc = loincOf(o);
  // The unit's text where the source coded it (HL7 v2 OBX-6 `s^second^UCUM`: second), else the unit as sent.
  const unit = { unit: o.unitCoding?.display ?? o.unitCoding?.originalText ?? o.unit, ucum: o.ucum };
  const when = o.observedAt ?? report.observedAt;
  const issued = report.issuedAt ? fhirInstant(report.issuedAt, s.offsetForLocalTimes) : undefined;
  const observationCode = codeable(loinc ? [loinc, ...codingsOf(o.code)] : codingsOf(o.code), s, o.code.originalText ?? o.code.display);
  const note = notes(o.comments, report);
  return {
    resourceType: 'Observation',
    identifier: [identifier],
    ...(refs.basedOn ? { basedOn: [refs.basedOn] } : {}),
    status: o.status,
    category: [LAB_CATEGORY],
    code: observationCode,
    ...(refs.subject ? { subject: refs.subject } : {}),
    ...(refs.encounter ? { encounter: refs.encounter } : {}),
    ...(when ? { effectiveDateTime: fhirDateTime(when, s.offsetForLocalTimes) } : {}),
    ...(issued ? { issued } : {}),
    ...(report.operator?.name || report.operator?.id ? { performer: [operatorRef(report)] } : {}),
    ...(withoutValue(o) ? { dataAbsentReason: dataAbsentReason(o.status, o.value) } : o.valueCoding ? codedValue(o, s) : observationValue(o.value, unit, o.valueType)),
    ...(o.flags.length ? { interpretation: interpretation(o.flags, flags, o.flagCodings?.map(sentFlag(s))) } : {}),
    ...(note.length ? { note: note.map((text) => ({ text })) } : {}),
    ...(refs.device ? { device: refs.device } : {}),
    ...(o.referenceRange ? { referenceRange: [referenceRange(o.referenceRange, unit)] } : {}),
    ...(o.valueCoding && o.moreValueCodings && !withoutValue(o)
      ? {
          component: [o.valueCoding, ...o.moreValueCodings].map((c, i) => ({
            code: observationCode,
            valueCodeableConcept: codeable(codingsOf(c), s, c.originalText ?? (i === 0 ? o.value.split('\n')[0] || c.display : c.display)),
          })),
        }
      : {}),
  };
}

/** A coded flag's codings in FHIR; a flag sent without a coding system is one of HL7 table 0078. */
const sentFlag =
  (s: FhirBundleSettings) =>
  (c: CodedConcept): SentFlag => ({
    codings: codingsOf(c).map((x, i) => coding(i === 0 && x.system === undefined ? { ...x, system: 'HL70078' } : x, s)),
    text: c.originalText ?? c.display,
  });

/**
 * A coded value. One valueCodeableConcept holds one concept: where the source repeated the
 * value (HL7 v2 OBX-5 `112283007^E. coli^SCT~ESBL^ESBL producer^99LAB`), every repetition is
 * a component with the observation's code and the Observation has no value[x] of its own
 * (obs-7: a component with the observation's code excludes it), so none is lost.
 */
function codedValue(o: CanonicalObservation, s: FhirBundleSettings): Pick<Observation, 'valueCodeableConcept'> {
  if (o.moreValueCodings) return {};
  const c = o.valueCoding!;
  return { valueCodeableConcept: codeable(codingsOf(c), s, c.originalText ?? (o.value || undefined)) };
}

/** Notes as sent, less an HL7 v2 NTE-3 sent as the HL7 null `""` (delete the note), which FHIR leaves out. */
function notes(comments: readonly string[], report: LabReport): string[] {
  return report.provenance.kind === 'hl7v2' ? comments.filter((c) => c !== HL7_NULL) : [...comments];
}

function operatorRef(report: LabReport): Reference<Practitioner> {
  const op = report.operator!;
  return { ...(op.name ? { display: op.name } : {}), ...(op.id ? { identifier: { system: 'urn:conduit:operator-id', value: op.id } } : {}) };
}

const REPORT_STATUS: Record<ResultStatus, DiagnosticReport['status']> = {
  registered: 'registered', preliminary: 'preliminary', final: 'final', corrected: 'corrected', amended: 'amended',
  cancelled: 'cancelled', 'entered-in-error': 'entered-in-error', unknown: 'unknown',
};

export function diagnosticReport(
  report: LabReport,
  s: FhirBundleSettings,
  refs: { subject?: Reference<Patient>; encounter?: Reference<Encounter>; basedOn?: Reference<ServiceRequest>; results: Reference<Observation>[] },
): DiagnosticReport {
  const only = report.observations.length === 1 ? report.observations[0] : undefined;
  const code = report.panel
    ? codeable(codingsOf(report.panel), s, report.panel.originalText)
    : only
      ? codeable([...(loincOf(only) ? [loincOf(only)!] : []), ...codingsOf(only.code)], s, only.code.originalText ?? only.code.display)
      : { coding: [{ system: s.defaultReportCode.system, code: s.defaultReportCode.code, ...(s.defaultReportCode.display ? { display: s.defaultReportCode.display } : {}) }] };
  const issued = report.issuedAt ? fhirInstant(report.issuedAt, s.offsetForLocalTimes) : undefined;
  const when = report.observedAt ?? report.observations[0]?.observedAt;
  const fillerSystem = report.order?.accession ? assignerSystem(report.order.fillerAuthority, s) : undefined;
  const conclusion = notes(report.comments ?? [], report);
  return {
    resourceType: 'DiagnosticReport',
    identifier: [
      { ...typed('FILL'), system: s.resultIdentifierSystem, value: report.id },
      // The filler's number under its assigning authority, where the source named one.
      ...(report.order?.accession && fillerSystem ? [{ ...typed('FILL'), system: fillerSystem, value: report.order.accession }] : []),
    ],
    ...(refs.basedOn ? { basedOn: [refs.basedOn] } : {}),
    status: REPORT_STATUS[report.status],
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB', display: 'Laboratory' }] }],
    code,
    ...(refs.subject ? { subject: refs.subject } : {}),
    ...(refs.encounter ? { encounter: refs.encounter } : {}),
    ...(when ? { effectiveDateTime: fhirDateTime(when, s.offsetForLocalTimes) } : {}),
    ...(issued ? { issued } : {}),
    ...(report.operator?.name || report.operator?.id ? { performer: [operatorRef(report)] } : {}),
    ...(refs.results.length ? { result: refs.results } : {}),
    // Report-level comments (NTE after OBR) are the lab's own words: carried, not composed.
    ...(conclusion.length ? { conclusion: conclusion.join('\n') } : {}),
    ...(report.attachments.length
      ? { presentedForm: report.attachments.map((a) => ({ contentType: a.contentType, data: a.dataBase64.replace(/\s+/g, ''), ...(a.title ? { title: a.title } : {}) })) }
      : {}),
  };
}
