/**
 * The bench's instant FHIR server on a thread of its own, as the LIS thread is for the MLLP
 * paths: its answers do not wait for the load generator's turns of the event loop (which also
 * parse each Bundle to answer it). It reports each transaction whose every entry was written,
 * by the accession the engine put in it, with the time its answer was written, in batches.
 *
 * The times are absolute (performance.timeOrigin + now()): the parent converts them to its own
 * clock, so a batch's delay does not count in the latency.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { startRecordingProxy } from './fhir-proxy.ts';

interface FhirPeerThreadInit {
  /** The accession pattern of the workload (a RegExp's source). */
  accession: string;
}

type FromPeer = { kind: 'answered'; accessions: string[]; at: number[] } | { kind: 'listening'; baseUrl: string };

export interface FhirPeerThread {
  readonly baseUrl: string;
  close(): Promise<void>;
}

/** Starts the peer; `onAnswered(accession, at)` runs for every transaction written, `at` on this thread's performance.now() clock. */
export async function startFhirPeerThread(accession: RegExp, onAnswered: (accession: string, at: number) => void): Promise<FhirPeerThread> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { accession: accession.source } satisfies FhirPeerThreadInit, execArgv: [] });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (m: FromPeer) => {
      if (m.kind === 'listening') resolve(m.baseUrl);
      else for (let i = 0; i < m.accessions.length; i++) onAnswered(m.accessions[i]!, m.at[i]! - performance.timeOrigin);
    });
  });
  return {
    baseUrl,
    close: async () => {
      await worker.terminate();
    },
  };
}

/** A batch- or transaction-response whose entries are all 2xx (a batch answers 200 with failed entries inside). */
export function everyEntryWritten(answer: string): boolean {
  try {
    const bundle = JSON.parse(answer) as { entry?: Array<{ response?: { status?: string } }> };
    return (bundle.entry ?? []).every((e) => /^2\d\d\b/.test(e.response?.status ?? ''));
  } catch {
    return false;
  }
}

if (!isMainThread && (workerData as FhirPeerThreadInit | undefined)?.accession !== undefined) {
  const accession = new RegExp((workerData as FhirPeerThreadInit).accession);
  let accessions: string[] = [];
  let at: number[] = [];
  setInterval(() => {
    if (accessions.length === 0) return;
    parentPort!.postMessage({ kind: 'answered', accessions, at } satisfies FromPeer);
    accessions = [];
    at = [];
  }, 5);
  const peer = await startRecordingProxy(undefined, (body, status, answer, answeredAt) => {
    const found = accession.exec(body)?.[0];
    if (!found || status < 200 || status >= 300 || !everyEntryWritten(answer)) return;
    accessions.push(found);
    at.push(performance.timeOrigin + answeredAt);
  });
  parentPort!.postMessage({ kind: 'listening', baseUrl: peer.baseUrl } satisfies FromPeer);
}
