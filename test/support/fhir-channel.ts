/** A channel that turns `format` input into FHIR transaction Bundles for the EHR at `baseUrl`. */
export function toEhrChannel(
  id: string,
  baseUrl: string,
  opts: { source?: string; mapping?: string; auth?: string; delivery?: string } = {},
): string {
  return `id: ${id}
source:
${opts.source ?? `  type: webhook\n  path: /channels/${id}`}
mapping: ${opts.mapping ?? 'platform-result'}
destinations:
  - id: ehr
    mapping: fhir-r4-ehr
    sender:
      type: fhir
      baseUrl: ${baseUrl}
      # The FHIR peer (Medplum's in-memory repository, validating every write) slows as it fills:
      # a 15-result Bundle with LOINC codings took 4.7-5.7 s on a loaded CI machine.
      timeoutMs: 15000
      auth:
${opts.auth ?? '        type: none'}
    delivery:
${opts.delivery ?? '      maxAttempts: 4\n      initialBackoffMs: 50\n      maxBackoffMs: 200'}
`;
}
