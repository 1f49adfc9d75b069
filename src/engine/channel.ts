import type { Logger } from 'pino';
import type { AuditSink } from '../audit/event.ts';
import { partitionKey } from '../canonical/report.ts';
import type { ResolvedChannel, ResolvedDestination } from '../config/load.ts';
import type { SourceRoutes } from '../http/routes.ts';
import { ConduitError, InputError } from '../errors.ts';
import type { InboundInput, MappedInput } from '../mapping/types.ts';
import { senderPlugins, sourcePlugins } from '../plugins.ts';
import type { IntakeResult, ReceiveOptions, Source, SourceContext, SubmissionLookup } from '../sources/types.ts';
import type { CommittedDelivery, InsertResult, NewDelivery, Store } from '../store/types.ts';
import { controlId, ulid } from '../util/ids.ts';
import { holds } from './conditions.ts';
import { DestinationDispatcher } from './dispatcher.ts';
import type { LaneGate } from './lane-gate.ts';
import { laneOf } from './lanes.ts';
import type { ChannelMetrics, EngineMetrics } from '../metrics/engine-metrics.ts';
import type { IntakeTurns } from './turns.ts';
import { IntakePacer } from './pacer.ts';
import { callbackDestinationId } from '../senders/status-callback/event.ts';
import { StatusCallbackSender } from '../senders/status-callback/sender.ts';
import type { SenderThread } from '../senders/thread/index.ts';
import { statusCallbackFollowUp } from './status-callbacks.ts';

export interface ChannelDeps {
  store: Store;
  log: Logger;
  routes: SourceRoutes;
  overloaded(): boolean;
  /** Shared by every channel of the engine: intake takes turns with delivery (see turns.ts). */
  turns?: IntakeTurns;
  /** Which delivery lanes this instance delivers (several instances on one store). */
  gate?: LaneGate;
  /** Work only one instance may do at a time (see SourceContext.claim); all of it is this one's when absent. */
  claim?: SourceContext['claim'];
  /** The audit trail, for what sources refuse. */
  audit: AuditSink;
  /** Counts intake and deliveries (GET /metrics, alerts). */
  metrics?: EngineMetrics;
  /** Where the destinations' senders run (off the event loop); in this thread when absent. */
  senders?: SenderThread;
}

const SOLE_CLAIM: SourceContext['claim'] = async () => async () => {};

export interface ProcessedReport {
  readonly mapped: MappedInput | undefined;
  readonly partitionKey: string;
  /** The filter rule that kept the report from every destination, when one did. */
  readonly filteredBy?: string;
  readonly outputs: ReadonlyArray<{ destination: ResolvedDestination; controlId: string; payload: string; contentType: string; warnings?: readonly string[] }>;
}

export interface ProcessOptions extends ReceiveOptions {
  /** Makes control ids (MSH-10); fixed ones make golden outputs reproducible. */
  readonly controlIds?: () => string;
}

/**
 * Maps and encodes one input: pure, so `preview` and intake produce the same bytes. A
 * channel without an inbound mapping stores the input as it came (one item, no outputs).
 */
export async function processInput(channel: ResolvedChannel, input: InboundInput, createdAt: string, options?: ProcessOptions): Promise<ProcessedReport[]> {
  if (!channel.mapping) return [{ mapped: undefined, partitionKey: `source:${options?.sourceId ?? ''}`, outputs: [] }];
  if (channel.mapping.format !== input.format) {
    throw new InputError('INPUT_UNSUPPORTED_MEDIA', [
      { path: '(input)', code: 'invalid', message: `channel ${channel.config.id} maps ${channel.mapping.format} input, got ${input.format}` },
    ]);
  }
  const reports = await channel.mapping.map(input);
  const processed: ProcessedReport[] = [];
  // Conditions see the input as received; parsed once, and only for channels that have any.
  const conditional = channel.config.filters.length > 0 || channel.destinations.some((d) => d.config.when);
  const parsedInput = conditional && input.format === 'json' ? JSON.parse(input.text) : input.text;
  for (const mapped of reports) {
    const scope = { report: mapped.report, input: parsedInput };
    const failed = conditional ? await firstFailingFilter(channel, scope) : undefined;
    if (failed) {
      processed.push({ mapped, partitionKey: partitionKey(mapped.report), filteredBy: `filter ${failed}`, outputs: [] });
      continue;
    }
    const routed = [];
    for (const d of channel.destinations) if (!d.config.when || (await holds(d.config.when, scope))) routed.push(d);
    if (channel.destinations.length > 0 && routed.length === 0) {
      processed.push({ mapped, partitionKey: partitionKey(mapped.report), filteredBy: 'routing: no destination condition holds', outputs: [] });
      continue;
    }
    const outputs = [];
    for (const d of routed) {
      const id = (options?.controlIds ?? controlId)();
      try {
        outputs.push({ destination: d, controlId: id, ...(await d.encoder.encode(mapped.report, { controlId: id, createdAt })) });
      } catch (e) {
        if (e instanceof InputError) throw e;
        throw new InputError('ENCODING_FAILED', [{ path: `destinations.${d.config.id}`, code: 'invalid', message: (e as Error).message }]);
      }
    }
    processed.push({ mapped, partitionKey: partitionKey(mapped.report), outputs });
  }
  return processed;
}

async function firstFailingFilter(channel: ResolvedChannel, scope: { report: unknown; input: unknown }): Promise<string | undefined> {
  for (const f of channel.config.filters) {
    if (!(await holds(f.when, scope))) return f.name;
  }
  return undefined;
}

/** Calls `each` with every run of consecutive rows that share a key, in order. */
export function forEachRun<T>(rows: readonly T[], key: (row: T) => string, each: (key: string, run: T[]) => void): void {
  let from = 0;
  for (let i = 1; i <= rows.length; i++) {
    if (i < rows.length && key(rows[i]!) === key(rows[from]!)) continue;
    each(key(rows[from]!), rows.slice(from, i));
    from = i;
  }
}

/** A running channel: its source, intake into the store, and one dispatcher per destination. */
export class ChannelRuntime {
  private current: ResolvedChannel;
  private readonly deps: ChannelDeps;
  private readonly source: Source;
  private readonly metrics: ChannelMetrics | undefined;
  readonly dispatchers = new Map<string, DestinationDispatcher>();
  /** Holds new inputs while a lane of a destination with paceIntake is a window behind (see pacer.ts). */
  readonly pacer = new IntakePacer(() => {
    let room = Number.POSITIVE_INFINITY;
    for (const d of this.dispatchers.values()) room = Math.min(room, d.intakeRoom());
    return room;
  });
  /** Some destination paces intake: only then does an intake go through the pacer. */
  private readonly paced: boolean;
  state: 'stopped' | 'running' | 'failed' = 'stopped';

  constructor(resolved: ResolvedChannel, deps: ChannelDeps) {
    this.current = resolved;
    this.deps = deps;
    const id = resolved.config.id;
    const callback = resolved.config.statusCallback;
    this.metrics = deps.metrics?.channel(id);
    this.paced = resolved.destinations.some((d) => d.config.delivery.paceIntake);
    for (const d of resolved.destinations) {
      const plugin = senderPlugins[d.senderKind]!;
      const callbackId = callbackDestinationId(d.config.id);
      this.dispatchers.set(
        d.config.id,
        new DestinationDispatcher({
          channelId: id,
          destinationId: d.config.id,
          policy: d.config.delivery,
          store: deps.store,
          log: deps.log,
          ...(deps.gate ? { gate: deps.gate } : {}),
          ...(deps.metrics ? { metrics: deps.metrics.destination(id, d.config.id) } : {}),
          createSender: () => (deps.senders ? deps.senders.open(plugin, d.senderConfig) : plugin.create(d.senderConfig, { log: deps.log })),
          ...(d.config.delivery.paceIntake ? { onOutcome: () => this.pacer.wake() } : {}),
          ...(callback
            ? {
                followUp: statusCallbackFollowUp(callback, { channelId: id, destinationId: d.config.id }),
                onFollowUp: () => this.dispatchers.get(callbackId)?.wake(),
              }
            : {}),
        }),
      );
      if (!callback) continue;
      // The status callbacks of this destination's outcomes: a dispatcher of their own, without follow-ups.
      this.dispatchers.set(
        callbackId,
        new DestinationDispatcher({
          channelId: id,
          destinationId: callbackId,
          policy: callback.delivery,
          store: deps.store,
          log: deps.log,
          ...(deps.gate ? { gate: deps.gate } : {}),
          ...(deps.metrics ? { metrics: deps.metrics.destination(id, callbackId) } : {}),
          createSender: () => new StatusCallbackSender(callback, deps.log),
        }),
      );
    }
    this.source = sourcePlugins[resolved.sourceKind]!.create(resolved.sourceConfig, {
      channelId: id,
      log: deps.log,
      routes: deps.routes,
      receive: (input, options) => this.receive(input, options),
      findSubmission: (by) => this.findSubmission(by),
      overloaded: deps.overloaded,
      claim: deps.claim ?? SOLE_CLAIM,
      audit: deps.audit,
    });
  }

  get id(): string {
    return this.current.config.id;
  }

  get resolved(): ResolvedChannel {
    return this.current;
  }

  /**
   * Whether `next` can replace this channel's configuration in place: same source, same
   * destinations with the same senders and delivery policies. Then only mappings, filters and
   * routes differ, and the swap needs no restart.
   */
  canSwap(next: ResolvedChannel): boolean {
    const wiring = (r: ResolvedChannel) =>
      JSON.stringify({
        source: r.config.source,
        destinations: r.config.destinations.map((d) => ({ id: d.id, sender: d.sender, delivery: d.delivery })),
        statusCallback: r.config.statusCallback,
      });
    return wiring(next) === wiring(this.current);
  }

  /** Uses `next` for every input from now on; inputs already being processed finish with the old one. */
  swap(next: ResolvedChannel): void {
    if (!this.canSwap(next)) throw new Error(`channel ${this.id}: source or destinations changed; restart it instead`);
    this.current = next;
  }

  describeSource(): string {
    return this.source.describe();
  }

  async receive(input: InboundInput, options?: ReceiveOptions): Promise<IntakeResult> {
    try {
      return await this.intake(input, options);
    } catch (e) {
      this.metrics?.refused.inc();
      throw e;
    }
  }

  private async intake(input: InboundInput, options?: ReceiveOptions): Promise<IntakeResult> {
    if (this.deps.overloaded()) throw new ConduitError('BACKPRESSURE');
    if (this.paced) await this.pacer.enter();
    await this.deps.turns?.enter();
    const receivedAt = new Date().toISOString();
    // One version of the mappings for the whole input, even if a reload swaps them meanwhile.
    const resolved = this.current;
    const processed = await processInput(resolved, input, receivedAt, options);
    // Issued in one tick, the inserts share one transaction of the store's group commit.
    const results = await Promise.all(processed.map((p) => this.store(resolved, p, input, receivedAt, options)));
    if (this.metrics) {
      for (const [i, r] of results.entries()) {
        (r.duplicate ? this.metrics.duplicate : processed[i]!.filteredBy ? this.metrics.filtered : this.metrics.stored).inc();
      }
    }
    // No wake-up needed: the store handed the new rows to their lanes at the commit (see take).
    const intake = { messageId: results[0]!.messageId, messageIds: results.map((r) => r.messageId), duplicate: results.every((r) => r.duplicate) };
    if (!options?.submission) return intake;
    const submission = await this.deps.store.recordSubmission({
      id: intake.messageId,
      channelId: this.id,
      ...(options.submission.idempotencyKey === undefined ? {} : { idempotencyKey: options.submission.idempotencyKey }),
      fingerprint: options.submission.fingerprint,
      messageIds: intake.messageIds,
      receivedAt,
    });
    return { ...intake, submission };
  }

  /** A submission of this channel, with its messages as stored now. */
  async findSubmission(by: { id: string } | { idempotencyKey: string }): Promise<SubmissionLookup | undefined> {
    const submission = await this.deps.store.findSubmission(this.id, by);
    if (!submission) return undefined;
    const messages = (await Promise.all(submission.messageIds.map((m) => this.deps.store.getMessage(m)))).filter((m) => m !== undefined);
    return { submission, messages };
  }

  private async store(resolved: ResolvedChannel, p: ProcessedReport, input: InboundInput, receivedAt: string, options?: ReceiveOptions) {
    const deliveries: NewDelivery[] = p.outputs.map((o) => {
      const destinationId = o.destination.config.id;
      const lane = laneOf(p.partitionKey, o.destination.config.delivery.lanes);
      return {
        destinationId,
        lane,
        controlId: o.controlId,
        payload: o.payload,
        contentType: o.contentType,
        mappingVersion: o.destination.mappingVersion,
        ...(o.warnings?.length ? { warnings: o.warnings } : {}),
        ...(this.dispatchers.get(destinationId)?.markAtIntake(lane) ? { marked: true } : {}),
      };
    });
    // A row promised as on the wire that is not committed gives its place in the lane back.
    const unmark = (): void => {
      for (const d of deliveries) if (d.marked) this.dispatchers.get(d.destinationId)?.unmarkAtIntake(d.lane);
    };
    let result: InsertResult;
    try {
      result = await this.insert(resolved, p, input, receivedAt, deliveries, options);
    } catch (e) {
      unmark();
      throw e;
    }
    if (result.duplicate) unmark();
    return result;
  }

  private insert(resolved: ResolvedChannel, p: ProcessedReport, input: InboundInput, receivedAt: string, deliveries: NewDelivery[], options?: ReceiveOptions) {
    return this.deps.store.insertMessage({
      id: ulid(),
      channelId: this.id,
      sourceId: p.mapped?.sourceId ?? options?.sourceId ?? ulid(),
      sourceVersion: p.mapped?.sourceVersion ?? '',
      receivedAt,
      rawInput: input.text,
      inputFormat: input.format,
      ...(p.mapped ? { canonical: JSON.stringify(p.mapped.report) } : {}),
      partitionKey: p.partitionKey,
      ...(p.filteredBy ? { filteredBy: p.filteredBy } : {}),
      ...(resolved.mappingVersion ? { mappingVersion: resolved.mappingVersion } : {}),
      deliveries,
    });
  }

  wake(): void {
    for (const d of this.dispatchers.values()) d.wake();
  }

  /** Deliveries of this channel an intake just committed, in delivery id order. */
  take(rows: readonly CommittedDelivery[]): void {
    // Consecutive rows of one destination go to its dispatcher together.
    forEachRun(rows, (r) => r.destinationId, (destinationId, run) => this.dispatchers.get(destinationId)?.take(run));
  }

  async start(): Promise<void> {
    // Also with one lane: a backlog left by a run with more lanes must move to lane 0.
    for (const [destinationId, d] of this.dispatchers) await this.deps.store.relane(this.id, destinationId, (k) => laneOf(k, d.laneCount));
    for (const d of this.dispatchers.values()) await d.start();
    try {
      await this.source.start();
      this.state = 'running';
    } catch (e) {
      this.state = 'failed';
      throw e;
    }
  }

  async stop(): Promise<void> {
    this.pacer.close();
    await this.source.stop();
    await Promise.all([...this.dispatchers.values()].map((d) => d.stop()));
    this.state = 'stopped';
  }
}
