/**
 * LISTEN on a connection of its own: what other instances on the same database tell (new
 * deliveries in a channel, a lease released). A broken connection is made again after a
 * second; notifications missed meanwhile are made up for by the lanes' and leases' own polling.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { postgresWords } from './connection.ts';

const RECONNECT_MS = 1000;

export class Notifications {
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly config: pg.ClientConfig;
  private readonly channels: readonly string[];
  private readonly onNotice: (channel: string, payload: string) => void;
  private readonly log: Logger;

  constructor(config: pg.ClientConfig, channels: readonly string[], onNotice: (channel: string, payload: string) => void, log: Logger) {
    this.config = config;
    this.channels = channels;
    this.onNotice = onNotice;
    this.log = log;
  }

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client(this.config);
    client.on('notification', (n) => this.onNotice(n.channel, n.payload ?? ''));
    client.on('error', (e) => this.lost(client, e));
    client.on('end', () => this.lost(client, undefined));
    this.client = client;
    try {
      await client.connect();
      for (const c of this.channels) await client.query(`LISTEN ${c}`);
    } catch (e) {
      this.lost(client, e);
    }
  }

  /** The current connection broke (events of an earlier one, already replaced, are ignored). */
  private lost(client: pg.Client, e: unknown): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => {});
    if (this.stopped || this.timer) return;
    if (e) this.log.warn({ reason: postgresWords(e) }, 'listening to the other instances failed; trying again');
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, RECONNECT_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }
}
