/**
 * A bench peer (LIS, FHIR server) on a thread of its own, so that its answers do not wait for
 * the load generator's turns of the event loop, as a real receiver runs beside, not inside, the
 * system that feeds the engine. The thread tells its address once listening, then reports what
 * it answered (a key per message: filler id, accession) with the time of each answer, in batches.
 *
 * The times cross as absolute times (performance.timeOrigin + now()) and are converted to the
 * parent's clock, so a batch's delay does not count in the latency.
 */
import { parentPort, Worker } from 'node:worker_threads';

type FromPeer<A> = { kind: 'answered'; keys: string[]; at: number[] } | { kind: 'listening'; address: A };

export interface PeerThread<A> {
  readonly address: A;
  close(): Promise<void>;
}

/** Parent side: starts `module` as a worker with `init`; `onAnswered(key, at)` gets `at` on this thread's performance.now() clock. */
export async function startPeerThread<A>(module: URL, init: object, onAnswered: (key: string, at: number) => void): Promise<PeerThread<A>> {
  const worker = new Worker(module, { workerData: init, execArgv: [] });
  const address = await new Promise<A>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (m: FromPeer<A>) => {
      if (m.kind === 'listening') resolve(m.address);
      else for (let i = 0; i < m.keys.length; i++) onAnswered(m.keys[i]!, m.at[i]! - performance.timeOrigin);
    });
  });
  return { address, close: async () => void (await worker.terminate()) };
}

/** Thread side: what the peer reports to its parent. `answered` takes `at` on this thread's performance.now() clock. */
export function peerReports<A>(): { answered(key: string, at: number): void; listening(address: A): void } {
  let keys: string[] = [];
  let at: number[] = [];
  setInterval(() => {
    if (keys.length === 0) return;
    parentPort!.postMessage({ kind: 'answered', keys, at } satisfies FromPeer<A>);
    keys = [];
    at = [];
  }, 5);
  return {
    answered: (key, answeredAt) => {
      keys.push(key);
      at.push(performance.timeOrigin + answeredAt);
    },
    listening: (address) => parentPort!.postMessage({ kind: 'listening', address } satisfies FromPeer<A>),
  };
}
