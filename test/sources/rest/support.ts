/** Helpers of the REST source tests: a REST → ORU^R01 → MLLP channel and polling a submission. */
import type { SubmissionStatusView } from '../../../src/sources/rest/status.ts';
import { platformResultToLis, type TestEngine } from '../../support/in-process.ts';

/** `$` + `{NAME}`: a reference the loader resolves from the environment (spelt so, it is no template placeholder). */
export const envRef = (name: string): string => '$' + `{${name}}`;

/** A REST channel with the platform mapping and one MLLP destination `lis` at `port`. */
export function restToMllpChannel(
  id: string,
  port: number,
  opts: { source?: string; delivery?: string; extra?: string } = {},
): string {
  return `id: ${id}
source:
  type: rest
${opts.source ?? ''}${platformResultToLis(port, opts.delivery)}${opts.extra ?? ''}`;
}

export interface Accepted {
  submissionId: string;
  status: string;
  location: string;
  duplicate?: boolean;
}

/** GETs `location` until `done` holds for the view (or the time is up). */
export async function pollUntil(t: TestEngine, location: string, done: (v: SubmissionStatusView) => boolean, headers: Record<string, string> = {}, timeoutMs = 15_000): Promise<SubmissionStatusView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(t.url + location, { headers });
    if (res.status !== 200) throw new Error(`GET ${location}: ${res.status} ${await res.text()}`);
    const view = (await res.json()) as SubmissionStatusView;
    if (done(view)) return view;
    if (Date.now() > deadline) throw new Error(`GET ${location}: still ${JSON.stringify(view)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface Outcome {
  resourceType: string;
  issue: Array<{ severity: string; code: string; diagnostics: string; expression?: string[]; details?: { text: string } }>;
}
