import type { Logger } from 'pino';
import type { AuditSink } from '../audit/event.ts';
import type { z } from 'zod';
import type { SourceRoutes } from '../http/routes.ts';
import type { InboundInput } from '../mapping/types.ts';
import type { MessageView, Submission } from '../store/types.ts';

export interface IntakeResult {
  /** The first (usually the only) message the input became. */
  readonly messageId: string;
  /** Every message the input became: one per canonical report (an ORU^R01 may hold several orders). */
  readonly messageIds: readonly string[];
  /** True when every report of the input was already stored (same source id + version): nothing new is sent. */
  readonly duplicate: boolean;
  /** With `ReceiveOptions.submission`: the submission as recorded (an earlier one under the same key, if any). */
  readonly submission?: Submission;
}

export interface ReceiveOptions {
  /** Idempotency key for channels without an inbound mapping (e.g. MSH-10 of an inbound message). */
  readonly sourceId?: string;
  /**
   * Records the input as a submission (REST source), after its messages are committed: its
   * Idempotency-Key, if any, and the sha-256 of the body, so a repeat finds it again.
   */
  readonly submission?: { readonly idempotencyKey?: string; readonly fingerprint: string };
}

/** A submission and its messages as stored now (deliveries, attempts). */
export interface SubmissionLookup {
  readonly submission: Submission;
  readonly messages: readonly MessageView[];
}

/** What a channel gives its source. */
export interface SourceContext {
  readonly channelId: string;
  readonly log: Logger;
  /** Exact-path routes on the engine's HTTP port, for webhook-like sources. */
  readonly routes: SourceRoutes;
  /**
   * Maps, encodes and durably stores one input; resolves only after the commit, so a source
   * acknowledges only what is safe. Rejects with `InputError` for bad input and with a
   * `ConduitError` of code BACKPRESSURE when the backlog is over its bound.
   */
  receive(input: InboundInput, options?: ReceiveOptions): Promise<IntakeResult>;
  /** Read-only: a submission of this channel by its id or its Idempotency-Key. */
  findSubmission(by: { id: string } | { idempotencyKey: string }): Promise<SubmissionLookup | undefined>;
  /** True while sources should push back instead of taking more. */
  overloaded(): boolean;
  /**
   * Takes a piece of work for this instance alone (a file of an inbox that several instances on
   * one store watch): resolves with its release, or undefined while another instance has it.
   */
  claim(key: string): Promise<(() => Promise<void>) | undefined>;
  /** The audit trail: refused callers (bad signature, certificate, rate limit) are recorded there. */
  readonly audit: AuditSink;
}

export interface Source {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Where it listens, for the start-up log: 'POST /webhooks/x', 'mllp://127.0.0.1:2575'. */
  describe(): string;
}

export interface SourcePlugin<C> {
  readonly kind: string;
  readonly config: z.ZodType<C>;
  /** Endpoints the source claims (paths, host:port), so two channels cannot claim the same one. */
  endpoints(config: C, channelId: string): string[];
  create(config: C, ctx: SourceContext): Source;
}
