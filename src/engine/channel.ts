import type { Logger } from 'pino';
import { partitionKey } from '../canonical/report.ts';
import type { ResolvedChannel, ResolvedDestination } from '../config/load.ts';
import type { SourceRoutes } from '../http/routes.ts';
import { ConduitError, InputError } from '../errors.ts';
import type { InboundInput, MappedInput } from '../mapping/types.ts';
import { senderPlugins, sourcePlugins } from '../plugins.ts';
import type { IntakeResult, ReceiveOptions, Source } from '../sources/types.ts';
import type { NewDelivery, Store } from '../store/types.ts';
import { controlId, ulid } from '../util/ids.ts';
import { DestinationDispatcher } from './dispatcher.ts';
import { laneOf } from './lanes.ts';

export interface ChannelDeps {
  store: Store;
  log: Logger;
  routes: SourceRoutes;
  overloaded(): boolean;
}

export interface ProcessedReport {
  readonly mapped: MappedInput | undefined;
  readonly partitionKey: string;
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
  for (const mapped of reports) {
    const outputs = [];
    for (const d of channel.destinations) {
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

/** A running channel: its source, intake into the store, and one dispatcher per destination. */
export class ChannelRuntime {
  readonly resolved: ResolvedChannel;
  private readonly deps: ChannelDeps;
  private readonly source: Source;
  readonly dispatchers = new Map<string, DestinationDispatcher>();
  state: 'stopped' | 'running' | 'failed' = 'stopped';

  constructor(resolved: ResolvedChannel, deps: ChannelDeps) {
    this.resolved = resolved;
    this.deps = deps;
    const id = resolved.config.id;
    for (const d of resolved.destinations) {
      const plugin = senderPlugins[d.senderKind]!;
      // Also with one lane: a backlog left by a run with more lanes must move to lane 0.
      deps.store.relane(id, d.config.id, d.config.delivery.lanes, (k) => laneOf(k, d.config.delivery.lanes));
      this.dispatchers.set(
        d.config.id,
        new DestinationDispatcher({
          channelId: id,
          destinationId: d.config.id,
          policy: d.config.delivery,
          store: deps.store,
          log: deps.log,
          createSender: () => plugin.create(d.senderConfig, { log: deps.log }),
        }),
      );
    }
    this.source = sourcePlugins[resolved.sourceKind]!.create(resolved.sourceConfig, {
      channelId: id,
      log: deps.log,
      routes: deps.routes,
      receive: (input, options) => this.receive(input, options),
      overloaded: deps.overloaded,
    });
  }

  get id(): string {
    return this.resolved.config.id;
  }

  describeSource(): string {
    return this.source.describe();
  }

  async receive(input: InboundInput, options?: ReceiveOptions): Promise<IntakeResult> {
    if (this.deps.overloaded()) throw new ConduitError('BACKPRESSURE');
    const receivedAt = new Date().toISOString();
    const processed = await processInput(this.resolved, input, receivedAt, options);
    // Issued in one tick, the inserts share one transaction of the store's group commit.
    const results = await Promise.all(processed.map((p) => this.store(p, input, receivedAt, options)));
    if (results.some((r) => !r.duplicate)) for (const d of this.dispatchers.values()) d.wake();
    return { messageId: results[0]!.messageId, messageIds: results.map((r) => r.messageId), duplicate: results.every((r) => r.duplicate) };
  }

  private store(p: ProcessedReport, input: InboundInput, receivedAt: string, options?: ReceiveOptions) {
    const deliveries: NewDelivery[] = p.outputs.map((o) => ({
      destinationId: o.destination.config.id,
      lane: laneOf(p.partitionKey, o.destination.config.delivery.lanes),
      controlId: o.controlId,
      payload: o.payload,
      contentType: o.contentType,
      mappingVersion: o.destination.mappingVersion,
      ...(o.warnings?.length ? { warnings: o.warnings } : {}),
    }));
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
      ...(this.resolved.mappingVersion ? { mappingVersion: this.resolved.mappingVersion } : {}),
      deliveries,
    });
  }

  wake(): void {
    for (const d of this.dispatchers.values()) d.wake();
  }

  async start(): Promise<void> {
    for (const d of this.dispatchers.values()) d.start();
    try {
      await this.source.start();
      this.state = 'running';
    } catch (e) {
      this.state = 'failed';
      throw e;
    }
  }

  async stop(): Promise<void> {
    await this.source.stop();
    await Promise.all([...this.dispatchers.values()].map((d) => d.stop()));
    this.state = 'stopped';
  }
}
