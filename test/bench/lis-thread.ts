/**
 * The bench's LIS on a thread of its own (see peer-thread.ts): the recording receiver
 * (test/support) answering AA, reporting each answered frame's filler id.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { startRecordingReceiver } from '../support/recording-receiver.ts';
import { peerReports, startPeerThread } from './peer-thread.ts';

interface LisThreadInit {
  delayMs: number;
}

export interface LisThread {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the LIS thread; `onAnswered(fillerId, at)` runs for every AA, `at` on this thread's performance.now() clock. */
export async function startLisThread(delayMs: number, onAnswered: (fillerId: string, at: number) => void): Promise<LisThread> {
  const peer = await startPeerThread<number>(new URL(import.meta.url), { delayMs } satisfies LisThreadInit, onAnswered);
  return { port: peer.address, close: peer.close };
}

if (!isMainThread && (workerData as LisThreadInit | undefined)?.delayMs !== undefined) {
  const init = workerData as LisThreadInit;
  const reports = peerReports<number>();
  const lis = await startRecordingReceiver({
    record: false,
    ...(init.delayMs > 0 ? { delayMs: init.delayMs } : {}),
    onAnswered: (f) => {
      // answeredAt is this thread's performance.now().
      if (f.fillerId !== undefined && f.answeredAt !== undefined && f.ackCode === 'AA') reports.answered(f.fillerId, f.answeredAt);
    },
  });
  reports.listening(lis.port);
}
