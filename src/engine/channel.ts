import type { Router } from 'express';
import type { Logger } from 'pino';
import { partitionKey } from '../canonical/report.ts';
import type { ResolvedChannel } from '../config/load.ts';
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
  http: Router;
  overloaded(): boolean;
}

/** Maps and encodes one input for a channel: pure, so `preview` and intake produce the same bytes. */
export function processInput(channel: ResolvedChannel, input: InboundInput, createdAt: string, options?: ReceiveOptions) {
  let mapped: MappedInput | undefined;
  if (channel.mapping) {
    if (channel.mapping.format !== input.format) {
      throw new InputError('INPUT_UNSUPPORTED_MEDIA', [
        { path: '(input)', code: 'invalid', message: `channel ${channel.config.id} maps ${channel.mapping.format} input, got ${input.format}` },
      ]);
    }
    mapped = channel.mapping.map(input);
  }
  const key = mapped ? partitionKey(mapped.report) : `source:${options?.sourceId ?? ''}`;
  const outputs = channel.destinations.map((d) => {
    const id = controlId();
    let encoded: { payload: string; contentType: string };
    try {
      // Destinations exist only with an inbound mapping (checked at load), so `mapped` is set.
      encoded = d.encoder.encode(mapped!.report, { controlId: id, createdAt });
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError('ENCODING_FAILED', [{ path: `destinations.${d.config.id}`, code: 'invalid', message: (e as Error).message }]);
    }
    return { destination: d, controlId: id, ...encoded };
  });
  return { mapped, partitionKey: key, outputs };
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
      d.config.delivery.lanes > 1 && deps.store.relane(id, d.config.id, d.config.delivery.lanes, (k) => laneOf(k, d.config.delivery.lanes));
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
      http: deps.http,
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
    const { mapped, partitionKey: key, outputs } = processInput(this.resolved, input, receivedAt, options);
    const sourceId = mapped?.sourceId ?? options?.sourceId ?? ulid();
    const deliveries: NewDelivery[] = outputs.map((o) => ({
      destinationId: o.destination.config.id,
      lane: laneOf(key, o.destination.config.delivery.lanes),
      controlId: o.controlId,
      payload: o.payload,
      contentType: o.contentType,
    }));
    const result = await this.deps.store.insertMessage({
      id: ulid(),
      channelId: this.id,
      sourceId,
      sourceVersion: mapped?.sourceVersion ?? '',
      receivedAt,
      rawInput: input.text,
      inputFormat: input.format,
      ...(mapped ? { canonical: JSON.stringify(mapped.report) } : {}),
      partitionKey: key,
      deliveries,
    });
    if (!result.duplicate) for (const d of this.dispatchers.values()) d.wake();
    return result;
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
