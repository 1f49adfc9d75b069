/**
 * The bench's instant FHIR server on a thread of its own (see peer-thread.ts), as the LIS is for
 * the MLLP paths: on the load generator's loop it also parsed each Bundle to answer it. It
 * reports each transaction whose every entry was written, by the accession the engine put in it.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { startRecordingProxy } from './fhir-proxy.ts';
import { peerReports, startPeerThread } from './peer-thread.ts';

interface FhirPeerThreadInit {
  /** The accession pattern of the workload (a RegExp's source). */
  accession: string;
}

export interface FhirPeerThread {
  readonly baseUrl: string;
  close(): Promise<void>;
}

/** Starts the peer; `onAnswered(accession, at)` runs for every transaction written, `at` on this thread's performance.now() clock. */
export async function startFhirPeerThread(accession: RegExp, onAnswered: (accession: string, at: number) => void): Promise<FhirPeerThread> {
  const peer = await startPeerThread<string>(new URL(import.meta.url), { accession: accession.source } satisfies FhirPeerThreadInit, onAnswered);
  return { baseUrl: peer.address, close: peer.close };
}

/** The workload's accession in a Bundle the peer answered 2xx with every entry written, else undefined. */
export function writtenAccession(accession: RegExp, body: string, status: number, answer: string): string | undefined {
  const found = accession.exec(body)?.[0];
  return found && status >= 200 && status < 300 && everyEntryWritten(answer) ? found : undefined;
}

/** A batch- or transaction-response whose entries are all 2xx (a batch answers 200 with failed entries inside). */
function everyEntryWritten(answer: string): boolean {
  try {
    const bundle = JSON.parse(answer) as { entry?: Array<{ response?: { status?: string } }> };
    return (bundle.entry ?? []).every((e) => /^2\d\d\b/.test(e.response?.status ?? ''));
  } catch {
    return false;
  }
}

if (!isMainThread && (workerData as FhirPeerThreadInit | undefined)?.accession !== undefined) {
  const accession = new RegExp((workerData as FhirPeerThreadInit).accession);
  const reports = peerReports<string>();
  const peer = await startRecordingProxy(undefined, (body, status, answer, answeredAt) => {
    const found = writtenAccession(accession, body, status, answer);
    if (found) reports.answered(found, answeredAt);
  });
  reports.listening(peer.baseUrl);
}
