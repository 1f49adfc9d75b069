import { platformEvent } from './repo.ts';

export function sampleEvent(name: string): Record<string, unknown> & { result: Record<string, unknown> } {
  return platformEvent(name) as Record<string, unknown> & { result: Record<string, unknown> };
}

/** A full-form event for a given result id, patient and version. */
export function makeEvent(resultId: string, opts: { patientId?: string; version?: number; event?: string; family?: string; value?: string } = {}) {
  const e = sampleEvent('full-bmp-panel');
  e.event = opts.event ?? 'result.created';
  e.id = `evt_${resultId}_${opts.version ?? 1}`;
  const r = e.result as Record<string, unknown> & { patient: Record<string, unknown>; observations: Array<Record<string, unknown>> };
  r.id = resultId;
  r.version = opts.version ?? 1;
  r.documents = undefined;
  r.accession = undefined;
  if (opts.patientId) r.patient.id = opts.patientId;
  if (opts.family) r.patient.family = opts.family;
  if (opts.value) r.observations[0]!.value = opts.value;
  return e;
}
