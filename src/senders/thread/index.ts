/**
 * The engine's side of the sender thread (worker.ts): one thread for every destination's
 * senders. `open` makes a lane's sender there and answers with its proxy, a PipelinedSender.
 */
import type { Worker } from 'node:worker_threads';
import { startThreadBeside } from '../../threads.ts';
import type { Logger } from 'pino';
import { ConduitError, type ErrorCode, ErrorCodes } from '../../errors.ts';
import type { OutboundMessage, PipelinedSender, SenderPlugin, SendOutcome, SentMessage } from '../types.ts';
import type { FromSenderThread, SenderThreadInit, ThreadError, ToSenderThread } from './protocol.ts';

/** Fields pino adds to every line: the engine's logger adds its own. */
const PINO_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'app', 'msg']);

function threadFailed(detail: string): SendOutcome {
  return { status: 'retryable', code: 'SENDER_THREAD_FAILED', detail };
}

function errorOf(e: ThreadError): Error {
  const code = e.code && Object.hasOwn(ErrorCodes, e.code) ? (e.code as ErrorCode) : undefined;
  return code ? new ConduitError(code, e.message, e.location ? { location: e.location } : undefined) : new Error(e.message);
}

/** A failed thread is started again at once, but not more often than this. */
const RESTART_MS = 1000;

export class SenderThread {
  private worker: Worker;
  private readonly log: Logger;
  private nextPipe = 1;
  /** Answers awaited, by pipe and sequence number; referenced while any is awaited. */
  private readonly waiting = new Map<string, (answer: FromSenderThread | { kind: 'failed' }) => void>();
  /** Why the thread is down (until it is started again); undefined while it runs. */
  private down: string | undefined;
  private startedAt = 0;
  private restart: NodeJS.Timeout | undefined;
  /** Resolves when the thread is running again (at once while it runs). */
  private running: Promise<void> = Promise.resolve();
  private back: () => void = () => {};
  private closing = false;
  /** Counts the thread's starts: a sender opened on an earlier one opens again (see ThreadSender). */
  generation = 0;

  constructor(log: Logger) {
    this.log = log;
    this.worker = this.spawn();
  }

  private spawn(): Worker {
    this.startedAt = Date.now();
    const init: SenderThreadInit = { logLevel: this.log.level };
    const worker = startThreadBeside(import.meta.url, 'worker', {
      workerData: init,
      // 16 MB of new space, as the main thread: the messages queued here outlive a scavenge, and
      // with 4 MB the FHIR path delivered less while intake ran (see src/engine/README.md, Memory).
      youngGenerationMb: 24,
    });
    worker.on('message', (m: FromSenderThread) => this.answered(m));
    worker.on('error', (e) => this.failed(worker, `the sender thread failed: ${e.message}`));
    worker.on('exit', () => this.failed(worker, 'the sender thread exited'));
    return worker;
  }

  /**
   * The thread died (an error no sender caught): what it was sending has an unknown outcome,
   * answered as retryable (sent again with the same control id), and a new thread takes over;
   * the lanes' senders open again there on their next send.
   */
  private failed(worker: Worker, reason: string): void {
    if (worker !== this.worker || this.down !== undefined || this.closing) return;
    this.down = reason;
    this.log.error({ code: 'SENDER_THREAD_FAILED' }, `${reason}; starting it again (sends in progress are retried with the same control id)`);
    for (const resolve of this.waiting.values()) resolve({ kind: 'failed' });
    this.waiting.clear();
    this.running = new Promise((resolve) => {
      this.back = resolve;
    });
    this.restart = setTimeout(
      () => {
        this.restart = undefined;
        if (this.closing) return;
        this.generation++;
        this.worker = this.spawn();
        this.down = undefined;
        this.back();
      },
      Math.max(0, this.startedAt + RESTART_MS - Date.now()),
    );
    this.restart.unref();
  }

  /** A sender of `plugin`'s kind on the thread; throws its creation error (CONFIG_INVALID for an unreadable TLS file, …). */
  async open(plugin: SenderPlugin<unknown>, config: unknown): Promise<PipelinedSender> {
    // A channel started while the thread is being started again waits for it.
    await this.running;
    const opened = await this.openPipe(plugin, config);
    if ('error' in opened) throw opened.error;
    return new ThreadSender(this, plugin, config, opened);
  }

  /** A pipe for `plugin`'s sender on the thread as it runs now. */
  async openPipe(plugin: SenderPlugin<unknown>, config: unknown): Promise<{ pipe: number; generation: number } | { error: Error }> {
    const pipe = this.nextPipe++;
    const generation = this.generation;
    const answer = await this.ask(`${pipe}:open`, { kind: 'open', pipe, senderKind: plugin.kind, module: plugin.module, config });
    if (answer.kind === 'opened' && answer.error) return { error: errorOf(answer.error) };
    if (answer.kind !== 'opened') return { error: new ConduitError('SENDER_THREAD_FAILED', this.failureReason) };
    return { pipe, generation };
  }

  /** Closes the thread once its senders are closed. */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.restart);
    // An open waiting for the thread to be back fails now (ask() answers failed while closing).
    this.back();
    if (this.down === undefined) await this.worker.terminate();
  }

  /** Posts `message`; resolves with the thread's answer to `key`, or with a failure while the thread is down. */
  ask(key: string, message: ToSenderThread): Promise<FromSenderThread | { kind: 'failed' }> {
    if (this.down !== undefined || this.closing) return Promise.resolve({ kind: 'failed' });
    return new Promise((resolve) => {
      this.waiting.set(key, resolve);
      this.worker.ref();
      this.worker.postMessage(message);
    });
  }

  tell(message: ToSenderThread): void {
    if (this.down === undefined) this.worker.postMessage(message);
  }

  get failureReason(): string {
    return this.down ?? (this.closing ? 'the engine is stopping' : '');
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
    const level = this.log.levels.labels[record.level as number] ?? 'info';
    const fields = Object.fromEntries(Object.entries(record).filter(([k]) => !PINO_FIELDS.has(k)));
    (this.log[level as 'info'])(fields, typeof record.msg === 'string' ? record.msg : '');
  }
}

/** A lane's sender on the thread; opened again on a new thread after the one it was on failed. */
class ThreadSender implements PipelinedSender {
  private readonly thread: SenderThread;
  private readonly plugin: SenderPlugin<unknown>;
  private readonly config: unknown;
  private pipe: number;
  private generation: number;
  /** Settles once the pipe is open on the thread as it runs now (false: it could not be opened). */
  private ready: Promise<boolean> = Promise.resolve(true);
  private run = 1;
  /** The thread's generation when the current run started. */
  private runGeneration: number;
  private seq = 0;

  constructor(thread: SenderThread, plugin: SenderPlugin<unknown>, config: unknown, opened: { pipe: number; generation: number }) {
    this.thread = thread;
    this.plugin = plugin;
    this.config = config;
    this.pipe = opened.pipe;
    this.generation = opened.generation;
    this.runGeneration = opened.generation;
  }

  startRun(): number {
    this.runGeneration = this.thread.generation;
    return ++this.run;
  }

  async enqueue(message: OutboundMessage, run: number): Promise<SentMessage | undefined> {
    const startedAt = Date.now();
    // A message of a run that ended (its lane moved on), or that began on a thread that failed
    // since (what was before it in the run may not have been sent): never sent.
    if (run !== this.run || this.runGeneration !== this.thread.generation) return undefined;
    // Every call waits on the same promise, in call order: messages keep their order across a reopen.
    if (this.generation !== this.thread.generation) this.reopen();
    if (!(await this.ready)) return { outcome: threadFailed(this.thread.failureReason || 'the sender could not be opened again'), startedAt, latencyMs: 0 };
    const seq = ++this.seq;
    const answer = await this.thread.ask(`${this.pipe}:${seq}`, { kind: 'send', pipe: this.pipe, seq, run, message });
    if (answer.kind === 'failed') return { outcome: threadFailed(this.thread.failureReason), startedAt, latencyMs: 0 };
    return answer.kind === 'sent' ? answer.sent : undefined;
  }

  private reopen(): void {
    const generation = this.thread.generation;
    this.generation = generation;
    this.ready = this.ready.then(async () => {
      const opened = await this.thread.openPipe(this.plugin, this.config);
      if ('error' in opened) {
        // Opened again on the next send.
        this.generation = -1;
        return false;
      }
      this.pipe = opened.pipe;
      return true;
    });
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
    await this.ready;
    await this.thread.ask(`${this.pipe}:close`, { kind: 'close', pipe: this.pipe });
  }
}
