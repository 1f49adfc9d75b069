/**
 * The bench's LIS on a thread of its own: the recording receiver (test/support) answering AA,
 * started in a worker so that its answers do not wait for the load generator's turns of the
 * event loop, as a real LIS runs beside, not inside, the system that feeds the engine. It
 * reports each answered frame's filler id and the time its AA was written, in batches.
 *
 * The times are absolute (performance.timeOrigin + now()): the parent converts them to its own
 * clock, so a batch's delay does not count in the latency.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { startRecordingReceiver } from '../support/recording-receiver.ts';

interface LisThreadInit {
  delayMs: number;
}

/** A batch from the worker: filler ids and answer times (absolute, ms). */
type Answered = { kind: 'answered'; fillerIds: string[]; at: number[] } | { kind: 'listening'; port: number };

export interface LisThread {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the LIS thread; `onAnswered(fillerId, at)` runs for every AA, `at` on this thread's performance.now() clock. */
export async function startLisThread(delayMs: number, onAnswered: (fillerId: string, at: number) => void): Promise<LisThread> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { delayMs } satisfies LisThreadInit, execArgv: [] });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (m: Answered) => {
      if (m.kind === 'listening') resolve(m.port);
      else for (let i = 0; i < m.fillerIds.length; i++) onAnswered(m.fillerIds[i]!, m.at[i]! - performance.timeOrigin);
    });
  });
  return {
    port,
    close: async () => {
      await worker.terminate();
    },
  };
}

if (!isMainThread && (workerData as LisThreadInit | undefined)?.delayMs !== undefined) {
  const init = workerData as LisThreadInit;
  let fillerIds: string[] = [];
  let at: number[] = [];
  const flush = (): void => {
    if (fillerIds.length === 0) return;
    parentPort!.postMessage({ kind: 'answered', fillerIds, at } satisfies Answered);
    fillerIds = [];
    at = [];
  };
  setInterval(flush, 5);
  const lis = await startRecordingReceiver({
    record: false,
    ...(init.delayMs > 0 ? { delayMs: init.delayMs } : {}),
    onAnswered: (f) => {
      if (f.fillerId === undefined || f.answeredAt === undefined || f.ackCode !== 'AA') return;
      fillerIds.push(f.fillerId);
      // answeredAt is this thread's performance.now().
      at.push(performance.timeOrigin + f.answeredAt);
    },
  });
  parentPort!.postMessage({ kind: 'listening', port: lis.port } satisfies Answered);
}
