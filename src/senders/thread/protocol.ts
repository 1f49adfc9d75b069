/** What the engine and its sender thread (worker.ts) tell each other. */
import type { OutboundMessage, SentMessage } from '../types.ts';

export interface SenderThreadInit {
  /** The engine's log level: the thread's senders log through the engine's logger. */
  logLevel: string;
}

export type ToSenderThread =
  /** A sender of kind `senderKind` (see ../plugins.ts), whose plugin `module` exports, for `config` (already parsed by its schema). */
  | { kind: 'open'; pipe: number; senderKind: string; module: string; config: unknown }
  /** Sent in `run` order after the messages queued before it, unless the run ended first. */
  | { kind: 'send'; pipe: number; seq: number; run: number; message: OutboundMessage }
  /** Ends the pipe's runs up to `run`: the send in progress is aborted, the queue is not sent. */
  | { kind: 'abort'; pipe: number; run: number }
  | { kind: 'close'; pipe: number };

/** An error as plain data (an Error's own properties do not cross threads). */
export interface ThreadError {
  message: string;
  code?: string;
  location?: string;
}

export type FromSenderThread =
  | { kind: 'opened'; pipe: number; error?: ThreadError }
  /** `sent` absent: not sent. */
  | { kind: 'sent'; pipe: number; seq: number; sent?: SentMessage }
  | { kind: 'closed'; pipe: number }
  /** A log line of a sender, as pino wrote it. */
  | { kind: 'log'; line: string };
