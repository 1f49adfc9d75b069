/** What the admin API shows of a FHIR server's answer: each entry's status and location, and any OperationOutcome. */
export interface FhirResponseSummary {
  entries?: Array<{ status: string; location?: string; etag?: string; outcome?: unknown }>;
  outcome?: unknown;
}

export function summariseFhirResponse(response: string | undefined): FhirResponseSummary | undefined {
  if (!response) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(response);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const r = body as { resourceType?: string; type?: string; entry?: Array<{ response?: Record<string, unknown> }> };
  if (r.resourceType === 'OperationOutcome') return { outcome: body };
  if (r.resourceType === 'Bundle' && Array.isArray(r.entry)) {
    return {
      entries: r.entry.map((e) => ({
        status: String(e.response?.status ?? ''),
        ...(e.response?.location ? { location: String(e.response.location) } : {}),
        ...(e.response?.etag ? { etag: String(e.response.etag) } : {}),
        ...(e.response?.outcome ? { outcome: e.response.outcome } : {}),
      })),
    };
  }
  return undefined;
}
