import type { Logger } from 'pino';
import type { z } from 'zod';
import { ConduitError, type ErrorCode } from '../errors.ts';
import { monotonicMs } from '../util/monotonic.ts';

/** One encoded message ready for a destination. */
export interface OutboundMessage {
  readonly messageId: string;
  readonly destinationId: string;
  /** The encoded payload exactly as it must go on the wire (ER7 text, JSON, …). */
  readonly payload: string;
  readonly contentType: string;
  /** MSH-10 or other id the receiver echoes; the same on every attempt. */
  readonly controlId: string;
  /** The message's ordering key (`patient:<id>`, see canonical/report.ts partitionKey), e.g. for a Kafka record key. */
  readonly partitionKey?: string;
  /** 1 on the first attempt. */
  readonly attempt: number;
  /**
   * Not to be written after this instant of monotonicMs() (util/monotonic.ts): the lane's lease
   * may have run out by then (several instances on one store). The engine checks its lease before
   * it hands a message over; the sender thread, and the MLLP, FHIR and HTTP senders once connected
   * or holding their token, check this again right before they write, so a process paused in
   * between (SIGSTOP, a stalled VM) does not send on a lane another instance delivers now. Absent
   * for an instance alone on its store.
   */
  readonly sendBy?: number;
}

/** LEASE_LOST when `message`'s sendBy has passed: it must not be written (the dispatcher then stops the lane and records nothing). */
export function sendByPassed(message: OutboundMessage, now = monotonicMs()): ConduitError | undefined {
  if (message.sendBy === undefined || now <= message.sendBy) return undefined;
  return new ConduitError('LEASE_LOST', `not sent: the lane lease may have run out ${Math.round(now - message.sendBy)} ms before the write`);
}

/** sendByPassed() as the outcome of a send. */
export function pastSendBy(message: OutboundMessage): SendOutcome | undefined {
  const late = sendByPassed(message);
  return late && { status: 'retryable', code: late.code, detail: late.message };
}

/**
 * What a destination said. Senders classify; the dispatcher decides what happens next
 * (retry with backoff, give up, move on).
 */
export type SendOutcome =
  /** AA/CA, 2xx: delivered. */
  | { readonly status: 'acknowledged'; readonly response: string; readonly detail?: string }
  /** AR/CR, 4xx: the receiver refuses this message; retrying will not help. */
  | { readonly status: 'rejected'; readonly code: ErrorCode; readonly detail: string; readonly response?: string }
  /** AE/CE, timeouts, refused connections, 5xx: try again later with the same control id. */
  | {
      readonly status: 'retryable';
      readonly code: ErrorCode;
      readonly detail: string;
      readonly response?: string;
      /** Earliest retry the receiver asked for (Retry-After), in ms. */
      readonly retryAfterMs?: number;
    };

export interface Sender {
  /** Sends one message and resolves with its outcome; never rejects for delivery failures. */
  send(message: OutboundMessage, signal: AbortSignal): Promise<SendOutcome>;
  close(): Promise<void>;
}

/** A message that went out: its outcome, when it started (ms since the epoch) and how long it took. */
export interface SentMessage {
  readonly outcome: SendOutcome;
  readonly startedAt: number;
  readonly latencyMs: number;
}

/**
 * A sender that sends off the engine's event loop (see thread/): messages queued in one run go
 * out one at a time in the order queued, each as soon as the one before it was acknowledged,
 * without waiting for the engine to take that outcome. The first outcome that is not an
 * acknowledgement ends the run: nothing queued after it is sent.
 */
export interface PipelinedSender extends Sender {
  /** Starts a new run, whatever ended the one before; returns its number for enqueue(). */
  startRun(): number;
  /** Queues a message in `run`; resolves with what happened, or undefined when it was not sent (its run ended before it, or was aborted). */
  enqueue(message: OutboundMessage, run: number): Promise<SentMessage | undefined>;
  /** Ends the current run: the send in progress is aborted, nothing more of the run is sent. */
  abort(): void;
}

export function isPipelined(sender: Sender): sender is PipelinedSender {
  return 'enqueue' in sender;
}

export interface SenderDeps {
  readonly log: Logger;
}

export interface SenderPlugin<C> {
  readonly kind: string;
  /** The module that exports this plugin (its import.meta.url): the sender thread loads only the kinds it runs. */
  readonly module: string;
  readonly config: z.ZodType<C>;
  create(config: C, deps: SenderDeps): Sender;
}
