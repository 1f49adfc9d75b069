import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import type { Logger } from 'pino';
import { adminRouter } from '../admin/routes.ts';
import { SourceRoutes } from '../http/routes.ts';
import type { Configuration } from '../config/load.ts';
import type { EngineSettings } from '../config/settings.ts';
import { SqliteStore } from '../store/sqlite/store.ts';
import type { Store } from '../store/types.ts';
import { VERSION } from '../version.ts';
import { ChannelRuntime } from './channel.ts';

export interface EngineOptions {
  settings: EngineSettings;
  configuration: Configuration;
  log: Logger;
  adminToken: string;
}

/**
 * One engine process: the store, the HTTP server (webhooks, admin API, health) and the
 * channels. Starting recovers deliveries that were on the wire when the last process stopped.
 */
export class Engine {
  private readonly options: EngineOptions;
  readonly store: Store;
  readonly channels: ChannelRuntime[] = [];
  private server: Server | undefined;
  private readonly startedAt = Date.now();

  constructor(options: EngineOptions) {
    this.options = options;
    this.store = new SqliteStore(join(options.settings.dataDir, 'conduit.db'), {
      synchronous: options.settings.durability,
      onWriteError: (err) => options.log.error({ err }, 'writing delivery state failed; will try again'),
    });
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.options.settings.port;
  }

  overloaded = (): boolean => this.store.pendingCount() >= this.options.settings.maxBacklog;

  async start(): Promise<void> {
    const { settings, configuration, log } = this.options;
    const recovered = this.store.recoverInFlight();
    if (recovered > 0) log.info({ recovered }, 'deliveries in flight at the last stop are queued again');

    const app = express();
    app.disable('x-powered-by');
    app.set('trust proxy', false);
    const routes = new SourceRoutes();
    app.get('/health', (_req, res) => {
      const health = this.health();
      res.status(health.status === 'unhealthy' ? 503 : 200).json(health);
    });
    app.use(
      '/api',
      adminRouter({
        store: this.store,
        log,
        token: this.options.adminToken,
        channels: () =>
          this.channels.map((c) => ({
            id: c.id,
            ...(c.resolved.config.description ? { description: c.resolved.config.description } : {}),
            state: c.state,
            source: c.describeSource(),
            destinations: [...c.dispatchers.entries()].map(([id, d]) => ({
              id,
              sender: c.resolved.destinations.find((x) => x.config.id === id)?.senderKind ?? '',
              state: d.health.state,
              ...(d.health.lastOutcome ? { lastOutcome: d.health.lastOutcome } : {}),
              ...(d.health.lastCode ? { lastCode: d.health.lastCode } : {}),
            })),
          })),
        wake: (channelId) => this.channels.find((c) => c.id === channelId)?.wake(),
      }),
    );
    app.use((_req, res) => {
      res.status(404).json({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: 'no such route' }] });
    });

    for (const resolved of configuration.channels) {
      if (!resolved.config.enabled) continue;
      this.channels.push(new ChannelRuntime(resolved, { store: this.store, log, routes, overloaded: this.overloaded }));
    }
    for (const c of this.channels) {
      await c.start();
      log.info({ channel: c.id, source: c.describeSource(), destinations: c.resolved.destinations.map((d) => d.config.id) }, 'channel started');
    }
    await new Promise<void>((resolve, reject) => {
      const server = createServer((req, res) => (routes.match(req) ?? app)(req, res));
      server.once('error', reject);
      server.listen(settings.port, settings.host, () => resolve());
      // Keep-alive past common proxy timeouts, so webhook senders reuse connections.
      server.keepAliveTimeout = 72_000;
      this.server = server;
    });
    log.info({ url: `http://${settings.host}:${this.port}`, version: VERSION, channels: this.channels.map((c) => c.id) }, 'Conduit is listening');
  }

  health() {
    const storeOk = this.store.ping();
    const components: Record<string, string> = { database: storeOk ? 'healthy' : 'unhealthy' };
    let degraded = false;
    for (const c of this.channels) {
      components[`channel:${c.id}`] = c.state === 'running' ? 'healthy' : 'unhealthy';
      for (const [id, d] of c.dispatchers) {
        const s = d.health.state === 'retrying' ? 'degraded' : 'healthy';
        if (s === 'degraded') degraded = true;
        components[`destination:${c.id}/${id}`] = s;
      }
    }
    if (this.overloaded()) {
      components.backlog = 'degraded';
      degraded = true;
    }
    const unhealthy = !storeOk || this.channels.some((c) => c.state !== 'running');
    return {
      status: unhealthy ? 'unhealthy' : degraded ? 'degraded' : 'healthy',
      version: VERSION,
      components,
      uptime_seconds: Math.floor((Date.now() - this.startedAt) / 1000),
    };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await Promise.all(this.channels.map((c) => c.stop()));
    await this.store.close();
  }
}
