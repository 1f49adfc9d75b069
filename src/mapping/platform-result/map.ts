import type { LabReport, Observation, Patient, ResultStatus } from '../../canonical/report.ts';
import { InputError, type InputIssue } from '../../errors.ts';
import { zodIssues } from '../issues.ts';
import { parseJson } from '../json-input.ts';
import type { InboundInput, MappedInput, SyncInboundMapping } from '../types.ts';
import { PlatformEvent } from './event-schema.ts';
import type { PlatformResultSettings } from './settings.ts';

type EventResult = PlatformEvent['result'];

const SEX: Record<string, Patient['sex']> = {
  female: 'female', f: 'female', male: 'male', m: 'male', other: 'other', o: 'other', unknown: 'unknown', u: 'unknown',
};

/** The default inbound mapping: platform `result.created` / `result.updated` events → canonical report. */
export function createPlatformResultMapping(id: string, settings: PlatformResultSettings): SyncInboundMapping {
  return {
    id,
    format: 'json',
    map: (input: InboundInput): MappedInput[] => [mapPlatformEvent(parseJson(input.text), settings)],
  };
}

export function mapPlatformEvent(body: unknown, settings: PlatformResultSettings): MappedInput {
  const parsed = PlatformEvent.safeParse(body);
  if (!parsed.success) throw new InputError('INPUT_INVALID', zodIssues(parsed.error));
  const event = parsed.data;
  const r = event.result;
  const issues: InputIssue[] = [];
  const status = (text: string | undefined, path: string): ResultStatus => {
    // Own keys only: a status such as 'constructor' must not find Object.prototype's.
    const s = text === undefined || !Object.hasOwn(settings.statuses, text) ? undefined : settings.statuses[text];
    if (text !== undefined && s === undefined) {
      issues.push({ path, code: 'invalid_value', message: `unknown status '${text}'; expected one of ${Object.keys(settings.statuses).join(', ')}` });
    }
    return s ?? 'unknown';
  };
  const correction = event.event === 'result.updated';
  if (correction && r.version === undefined) {
    issues.push({ path: 'result.version', code: 'required', message: 'required for result.updated, so that a correction is not taken for a repeat' });
  }
  const reportStatus = status(r.status, 'result.status');
  const observations = collectObservations(r, reportStatus, status);
  const sexKey = r.patient?.sex?.toLowerCase();
  const sex = sexKey === undefined || !Object.hasOwn(SEX, sexKey) ? undefined : SEX[sexKey];
  if (r.patient?.sex !== undefined && sex === undefined) {
    issues.push({ path: 'result.patient.sex', code: 'invalid_value', message: "expected 'female', 'male', 'other' or 'unknown'" });
  }
  if (issues.length > 0) throw new InputError('INPUT_INVALID', issues);

  const version = r.version ?? 1;
  const report: LabReport = {
    id: r.id,
    version,
    correction,
    status: correction && reportStatus === 'final' ? 'corrected' : reportStatus,
    ...(r.patient ? { patient: mapPatient(r.patient, sex, settings) } : {}),
    ...(r.encounter_ref ? { encounter: { id: r.encounter_ref } } : {}),
    ...(r.order_ref || r.accession ? { order: { id: r.order_ref, accession: r.accession } } : {}),
    ...(r.device || r.device_ref ? { device: { id: r.device?.id ?? r.device_ref, model: r.device?.model, serial: r.device?.serial, site: r.device?.site } } : {}),
    ...(r.operator ? { operator: { id: r.operator.id, name: r.operator.name } } : {}),
    ...(r.panel ? { panel: { code: r.panel.code, display: r.panel.display, system: 'L' } } : {}),
    observedAt: r.observed_at,
    issuedAt: r.issued_at ?? event.occurred_at,
    observations: correction ? observations.map((o) => (o.status === 'final' ? { ...o, status: 'corrected' } : o)) : observations,
    attachments: (r.documents ?? []).map((d) => ({ contentType: d.content_type, title: d.title, dataBase64: d.data_base64 })),
    provenance: { kind: 'platform-event', eventId: event.id, eventType: event.event, occurredAt: event.occurred_at, tenant: event.tenant },
  };
  return { report, sourceId: r.id, sourceVersion: String(version) };
}

function mapPatient(p: NonNullable<EventResult['patient']>, sex: Patient['sex'], settings: PlatformResultSettings): Patient {
  const identifiers = [];
  if (p.id) identifiers.push({ value: p.id, system: settings.patientIdSystem, type: 'PI' });
  if (p.external_id) identifiers.push({ value: p.external_id, system: settings.externalIdSystem, type: 'MR' });
  return { id: p.id, identifiers, family: p.family, given: p.given ?? [], birthDate: p.birth_date, sex };
}

function collectObservations(
  r: EventResult,
  reportStatus: ResultStatus,
  status: (text: string | undefined, path: string) => ResultStatus,
): Observation[] {
  if (r.observations) {
    return r.observations.map((o, i) => ({
      code: { code: o.analyte, display: o.display, system: 'L' },
      value: o.value,
      unit: o.unit,
      referenceRange: o.reference_range,
      flags: o.flags ?? [],
      status: o.status === undefined ? reportStatus : status(o.status, `result.observations[${i}].status`),
      statusText: o.status ?? r.status,
      observedAt: o.observed_at ?? r.observed_at,
      comments: o.comment ? [o.comment] : [],
    }));
  }
  if (r.analyte === undefined || r.value === undefined) return [];
  return [
    {
      code: { code: r.analyte, system: 'L' },
      value: r.value,
      unit: r.unit,
      referenceRange: r.reference_range,
      flags: r.flags ?? [],
      status: reportStatus,
      statusText: r.status,
      observedAt: r.observed_at,
      comments: [],
    },
  ];
}
