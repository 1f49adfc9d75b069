/**
 * The sender thread: runs the engine's destination senders (one per lane, a "pipe"), so that a
 * lane's next message goes out as soon as the receiver acknowledged the previous one, whatever
 * the engine's event loop is doing (mapping, encoding, answering sources). The engine queues the
 * messages of a lane in order once their marks are committed; each pipe sends one at a time and
 * stops at the first outcome that is not an acknowledgement, answering the rest of that run as
 * not sent, so nothing overtakes a message that failed. See src/engine/README.md.
 */
import module from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { ConduitError } from '../../errors.ts';
import { createLogger } from '../../log.ts';
import { type OutboundMessage, pastSendBy, type Sender, type SenderPlugin, type SendOutcome } from '../types.ts';
import type { FromSenderThread, SenderThreadInit, ToSenderThread } from './protocol.ts';

const init = workerData as SenderThreadInit;
const port = parentPort!;
const post = (m: FromSenderThread): void => port.postMessage(m);
const log = createLogger(init.logLevel, { write: (line: string) => post({ kind: 'log', line }) });

interface Pipe {
  readonly sender: Sender;
  readonly queue: Array<{ seq: number; run: number; message: OutboundMessage }>;
  /** Runs up to this one have ended: what they still queue is not sent. */
  ended: number;
  sending: boolean;
  abort: AbortController;
}

const pipes = new Map<number, Pipe>();

async function drain(pipe: number, p: Pipe): Promise<void> {
  if (p.sending) return;
  p.sending = true;
  while (p.queue.length > 0) {
    const { seq, run, message } = p.queue.shift()!;
    if (run <= p.ended) {
      post({ kind: 'sent', pipe, seq });
      continue;
    }
    const startedAt = Date.now();
    const t0 = performance.now();
    // The message may have waited here past its lease (the process paused since the engine checked it).
    let outcome: SendOutcome | undefined = pastSendBy(message);
    try {
      outcome ??= await p.sender.send(message, p.abort.signal);
    } catch (e) {
      // A sender never rejects for a delivery failure; this is a bug, and the receiver may have the message.
      log.error({ err: e, destination: message.destinationId }, 'a sender failed unexpectedly');
      outcome = { status: 'retryable', code: 'SENDER_THREAD_FAILED', detail: `the sender failed: ${(e as Error).message}` };
    }
    if (outcome.status !== 'acknowledged') p.ended = Math.max(p.ended, run);
    post({ kind: 'sent', pipe, seq, sent: { outcome, startedAt, latencyMs: Math.round((performance.now() - t0) * 100) / 100 } });
  }
  p.sending = false;
}

/** Loads the plugin's module (only the kinds in use, not every sender's libraries) and makes the pipe's sender. */
async function open(m: Extract<ToSenderThread, { kind: 'open' }>): Promise<void> {
  try {
    const exports = (await import(m.module)) as Record<string, unknown>;
    const plugin = Object.values(exports).find((x): x is SenderPlugin<unknown> => (x as SenderPlugin<unknown> | undefined)?.kind === m.senderKind && typeof (x as SenderPlugin<unknown>).create === 'function');
    if (!plugin) throw new ConduitError('CONFIG_INVALID', `no sender plugin of type '${m.senderKind}' in ${m.module}`);
    pipes.set(m.pipe, { sender: plugin.create(m.config, { log }), queue: [], ended: 0, sending: false, abort: new AbortController() });
    post({ kind: 'opened', pipe: m.pipe });
  } catch (e) {
    const x = e as { message?: unknown; code?: unknown; location?: unknown };
    post({
      kind: 'opened',
      pipe: m.pipe,
      error: {
        message: typeof x.message === 'string' ? x.message : String(e),
        ...(typeof x.code === 'string' ? { code: x.code } : {}),
        ...(typeof x.location === 'string' ? { location: x.location } : {}),
      },
    });
  }
  // This thread's newly compiled modules, for the compile cache of the next start (see src/cli/start.ts).
  module.flushCompileCache();
}

port.on('message', (m: ToSenderThread) => {
  switch (m.kind) {
    case 'open': {
      void open(m);
      return;
    }
    case 'send': {
      const p = pipes.get(m.pipe);
      if (!p) {
        post({ kind: 'sent', pipe: m.pipe, seq: m.seq });
        return;
      }
      p.queue.push(m);
      void drain(m.pipe, p);
      return;
    }
    case 'abort': {
      const p = pipes.get(m.pipe);
      if (!p) return;
      p.ended = Math.max(p.ended, m.run);
      p.abort.abort();
      p.abort = new AbortController();
      return;
    }
    case 'close': {
      const p = pipes.get(m.pipe);
      pipes.delete(m.pipe);
      void (p?.sender.close() ?? Promise.resolve()).then(
        () => post({ kind: 'closed', pipe: m.pipe }),
        (e: unknown) => {
          log.warn({ err: e }, 'closing a sender failed');
          post({ kind: 'closed', pipe: m.pipe });
        },
      );
      return;
    }
  }
});
