/**
 * The engine's side of the sender thread (worker.ts): one thread for every destination's
 * senders. `open` makes a lane's sender there and answers with its proxy, a PipelinedSender.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { ConduitError, type ErrorCode, ErrorCodes } from '../../errors.ts';
import type { OutboundMessage, PipelinedSender, SenderPlugin, SendOutcome, SentMessage } from '../types.ts';
import type { FromSenderThread, SenderThreadInit, ThreadError, ToSenderThread } from './protocol.ts';

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
/** Fields pino adds to every line: the engine's logger adds its own. */
const PINO_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'app', 'msg']);

function threadFailed(detail: string): SendOutcome {
  return { status: 'retryable', code: 'SENDER_THREAD_FAILED', detail };
}

function errorOf(e: ThreadError): Error {
  const code = e.code && Object.hasOwn(ErrorCodes, e.code) ? (e.code as ErrorCode) : undefined;
  return code ? new ConduitError(code, e.message, e.location ? { location: e.location } : undefined) : new Error(e.message);
}

export class SenderThread {
  private readonly worker: Worker;
  private readonly log: Logger;
  private nextPipe = 1;
  /** Answers awaited, by pipe and sequence number; referenced while any is awaited. */
  private readonly waiting = new Map<string, (answer: FromSenderThread | { kind: 'failed' }) => void>();
  private failure: string | undefined;
  private closing = false;

  constructor(log: Logger) {
    this.log = log;
    const init: SenderThreadInit = { logLevel: log.level };
    // Beside this module: worker.ts when run from source, worker.js in a build (npm run build).
    this.worker = new Worker(new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url), {
      workerData: init,
      // Not the process's flags: a worker refuses some (--input-type of node -e) and needs none.
      execArgv: [],
    });
    this.worker.unref();
    this.worker.on('message', (m: FromSenderThread) => this.answered(m));
    this.worker.on('error', (e) => this.failed(`the sender thread failed: ${e.message}`));
    this.worker.on('exit', () => this.failed('the sender thread exited'));
  }

  /** A sender of `plugin`'s kind on the thread; throws its creation error (CONFIG_INVALID for an unreadable TLS file, …). */
  async open(plugin: SenderPlugin<unknown>, config: unknown): Promise<PipelinedSender> {
    const pipe = this.nextPipe++;
    const answer = await this.ask(`${pipe}:open`, { kind: 'open', pipe, senderKind: plugin.kind, module: plugin.module, config });
    if (answer.kind === 'opened' && answer.error) throw errorOf(answer.error);
    if (answer.kind !== 'opened') throw new ConduitError('SENDER_THREAD_FAILED', this.failure);
    return new ThreadSender(this, pipe);
  }

  /** Closes the thread once its senders are closed. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.failure) return;
    await this.worker.terminate();
  }

  /** Posts `message`; resolves with the thread's answer to `key`, or with a failure if the thread is gone. */
  ask(key: string, message: ToSenderThread): Promise<FromSenderThread | { kind: 'failed' }> {
    if (this.failure) return Promise.resolve({ kind: 'failed' });
    return new Promise((resolve) => {
      this.waiting.set(key, resolve);
      this.worker.ref();
      this.worker.postMessage(message);
    });
  }

  tell(message: ToSenderThread): void {
    if (!this.failure) this.worker.postMessage(message);
  }

  get failureReason(): string {
    return this.failure ?? '';
  }

  private answered(m: FromSenderThread): void {
    if (m.kind === 'log') {
      this.forward(m.line);
      return;
    }
    const key = m.kind === 'sent' ? `${m.pipe}:${m.seq}` : `${m.pipe}:${m.kind === 'opened' ? 'open' : 'close'}`;
    const resolve = this.waiting.get(key);
    if (!resolve) return;
    this.waiting.delete(key);
    if (this.waiting.size === 0) this.worker.unref();
    resolve(m);
  }

  /** A sender's log line, through the engine's logger (its redaction, its destination). */
  private forward(line: string): void {
    const record = JSON.parse(line) as Record<string, unknown>;
    const level = LEVEL_NAMES[record.level as number] ?? 'info';
    const fields = Object.fromEntries(Object.entries(record).filter(([k]) => !PINO_FIELDS.has(k)));
    (this.log[level as 'info'])(fields, typeof record.msg === 'string' ? record.msg : '');
  }

  private failed(reason: string): void {
    if (this.failure) return;
    this.failure = reason;
    if (!this.closing) this.log.error({ code: 'SENDER_THREAD_FAILED' }, reason);
    for (const resolve of this.waiting.values()) resolve({ kind: 'failed' });
    this.waiting.clear();
  }
}

/** A lane's sender on the thread. */
class ThreadSender implements PipelinedSender {
  private readonly thread: SenderThread;
  private readonly pipe: number;
  private run = 1;
  private seq = 0;

  constructor(thread: SenderThread, pipe: number) {
    this.thread = thread;
    this.pipe = pipe;
  }

  startRun(): number {
    return ++this.run;
  }

  async enqueue(message: OutboundMessage, run: number): Promise<SentMessage | undefined> {
    const seq = ++this.seq;
    const startedAt = Date.now();
    const answer = await this.thread.ask(`${this.pipe}:${seq}`, { kind: 'send', pipe: this.pipe, seq, run, message });
    if (answer.kind === 'failed') return { outcome: threadFailed(this.thread.failureReason), startedAt, latencyMs: 0 };
    if (answer.kind !== 'sent' || !answer.outcome) return undefined;
    return { outcome: answer.outcome, startedAt: answer.startedAt, latencyMs: answer.latencyMs };
  }

  abort(): void {
    this.thread.tell({ kind: 'abort', pipe: this.pipe, run: this.run });
  }

  /** One message on its own run (the dispatcher's path for a row that is not pipelined). */
  async send(message: OutboundMessage, signal: AbortSignal): Promise<SendOutcome> {
    const run = this.startRun();
    const onAbort = (): void => this.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) this.abort();
    try {
      const sent = await this.enqueue(message, run);
      return sent?.outcome ?? { status: 'retryable', code: 'SEND_ABORTED', detail: 'aborted before the message was sent' };
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    await this.thread.ask(`${this.pipe}:close`, { kind: 'close', pipe: this.pipe });
  }
}
