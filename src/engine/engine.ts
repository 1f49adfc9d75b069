import { type FSWatcher, watch } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import express from 'express';
import type { Logger } from 'pino';
import { adminRouter, type HealthView } from '../admin/routes.ts';
import { Authenticator } from '../admin/authenticate.ts';
import { ApiLimits } from '../admin/limits.ts';
import type { AccessStore } from '../audit/store.ts';
import { chainKeys } from '../audit/chain-keys.ts';
import { AuditTrail } from '../audit/trail.ts';
import { openAccessStore } from '../store/access-store.ts';
import { type Configuration, loadConfiguration, type ResolvedChannel } from '../config/load.ts';
import type { EngineSettings } from '../config/settings.ts';
import { type ConfigIssue, formatIssue } from '../config/yaml-file.ts';
import { BodyReader } from '../http/body.ts';
import { consoleRouter } from '../console/serve.ts';
import { corsMiddleware } from '../http/cors.ts';
import { answerClientError, jsonErrorHandler } from '../http/json-errors.ts';
import { SourceRoutes } from '../http/routes.ts';
import { createEngineServer, loadServerTls, type TlsReloader, watchServerTls } from '../http/tls-server.ts';
import { LeaseManager } from '../cluster/lease-manager.ts';
import { LEASES_CHANNEL } from '../store/postgres/leases.ts';
import type { Notifications } from '../store/postgres/notifications.ts';
import { postgresWords } from '../store/postgres/connection.ts';
import { PostgresStore } from '../store/postgres/store.ts';
import { INTAKE_CHANNEL } from '../store/postgres/writer.ts';
import { keyRefusalEvent } from '../store/sealing/key-checks.ts';
import type { Keyring } from '../store/sealing/keyring.ts';
import { dataKeysAtStart, storeKeyOptions } from '../store/sealing/startup.ts';
import { SqliteStore } from '../store/sqlite/store.ts';
import type { Store } from '../store/types.ts';
import { VERSION } from '../version.ts';
import { ChannelRuntime, forEachRun } from './channel.ts';
import { STORE_FILE, secureDataDirectory } from './data-dir.ts';
import { RetentionRunner } from './retention.ts';
import { Observability } from './observability.ts';
import { IntakeTurns } from './turns.ts';
import { SenderThread } from '../senders/thread/index.ts';


/** A claim (a file of a shared inbox) of an instance that died is free again after this long. */
const CLAIM_TTL_MS = 5 * 60_000;

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
  /** One intake starts its mapping per loop turn, so lanes get a round trip in between (see turns.ts). */
  readonly turns = new IntakeTurns(1);
  /** The destinations' senders, off the event loop: a lane's next message goes out on its acknowledgement (see README.md). */
  private senders: SenderThread | undefined;
  private routes: SourceRoutes | undefined;
  private readonly watchers: FSWatcher[] = [];
  /** Loads the HTTPS certificate again when its files change. */
  private tlsReloader: TlsReloader | undefined;
  private reloading: Promise<void> = Promise.resolve();
  /** Problems of the last configuration that could not be applied; the running one stays. */
  private configIssues: readonly ConfigIssue[] = [];
  private readonly retention: RetentionRunner;
  /** This process among the instances sharing a PostgreSQL store. */
  readonly instanceId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  /** Several instances on one PostgreSQL store: the lane leases, and what the other instances tell. */
  private leases: LeaseManager | undefined;
  private notifications: Notifications | undefined;
  /** Tokens and the audit trail. */
  readonly access: AccessStore;
  /** Where audited actions are recorded. */
  readonly audit: AuditTrail;
  /** The data keys content is sealed with at rest (see store/sealing/); undefined: stored in plaintext. */
  readonly keyring: Keyring | undefined;
  /** Metrics (GET /metrics) and alerts (the alerts file, GET /api/alerts). */
  readonly observability: Observability;

  constructor(options: EngineOptions) {
    this.options = options;
    this.keyring = dataKeysAtStart(options.settings, options.log);
    this.access = openAccess(options.settings, options.log);
    this.audit = new AuditTrail(this.access, chainKeys(this.keyring).sealing, options.log);
    try {
      this.store = openStore(options.settings, options.log, this.instanceId, this.keyring);
    } catch (e) {
      void this.auditKeyRefusal(e);
      throw e;
    }
    this.retention = new RetentionRunner({
      store: this.store,
      log: options.log,
      channels: () => this.channels.map((c) => ({ id: c.id, retention: c.resolved.config.retention })),
      intervalMs: options.settings.retentionIntervalMs,
      audit: { trail: this.audit, keepMs: options.settings.auditRetentionDays * 86_400_000 },
    });
    this.observability = new Observability({
      store: this.store,
      settings: options.settings,
      log: options.log,
      instanceId: this.instanceId,
      channels: () => this.channels,
      ...(this.store instanceof PostgresStore ? { leasesHeld: () => this.leases?.held() ?? 0 } : {}),
    });
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.options.settings.port;
  }

  overloaded = (): boolean => this.store.pendingCount() >= this.options.settings.maxBacklog;

  async start(): Promise<void> {
    const { settings, configuration, log } = this.options;
    // Before anything starts: an unusable certificate, key or client CA file stops the start here.
    const tls = loadServerTls(settings);
    // So does an alerts file with problems.
    const alertRules = this.observability.rulesAtStart(configuration.channels);
    let recovered = 0;
    if (this.store instanceof PostgresStore) {
      // Shared by several instances: each lane's in-flight deliveries are recovered by whoever takes its lease.
      // The first wait on the store's opening: a refused data key (see auditKeyRefusal) shows here.
      const table = await this.store.leaseTable({ id: this.instanceId, host: hostname(), pid: process.pid }, settings.leaseMs).catch(async (e: unknown) => {
        await this.auditKeyRefusal(e);
        throw e;
      });
      this.leases = new LeaseManager({ table, leaseMs: settings.leaseMs, log });
      this.notifications = this.store.notifications([INTAKE_CHANNEL, LEASES_CHANNEL], (channel, payload) => this.noticed(channel, payload), log);
      await this.notifications.start();
      await this.leases.start();
    } else recovered = await this.store.recoverInFlight();
    // Committed intake goes straight to its lanes (a channel not running reads its backlog when it starts).
    this.store.onCommitted((rows) =>
      forEachRun(rows, (r) => r.channelId, (channelId, run) => this.channels.find((c) => c.id === channelId)?.take(run)),
    );
    if (recovered > 0) log.info({ recovered }, 'deliveries in flight at the last stop are queued again');

    const limits = new ApiLimits(settings.apiRateLimit, this.audit);
    const app = express();
    app.disable('x-powered-by');
    app.set('trust proxy', false);
    // First, so every answer (sources' routes, /health, /api, errors) carries the CORS headers of an allowed origin.
    app.use(corsMiddleware(settings.corsOrigins));
    const routes = new SourceRoutes(new BodyReader({ maxBytesInFlight: settings.maxBodyBytesInFlight, idleTimeoutMs: settings.bodyTimeoutMs }, log));
    // Sources' routes (webhooks, REST submissions) first: channels add and remove them as they
    // start and stop, and they read their bodies themselves (budget, timeouts, streaming HMAC).
    app.use((req, res, next) => {
      const handler = routes.match(req);
      if (handler) handler(req, res);
      else next();
    });
    app.use(
      adminRouter({
        store: this.store,
        access: this.access,
        audit: this.audit,
        authenticator: new Authenticator(this.access, this.options.adminToken),
        log,
        channels: () =>
          this.channels.map((c) => ({
            id: c.id,
            ...(c.resolved.config.description ? { description: c.resolved.config.description } : {}),
            ...(c.resolved.config.tenant ? { tenant: c.resolved.config.tenant } : {}),
            state: c.state,
            source: c.describeSource(),
            mappings: mappingVersions(c.resolved),
            destinations: [...c.dispatchers.entries()].map(([id, d]) => ({
              id,
              sender: c.resolved.destinations.find((x) => x.config.id === id)?.senderKind ?? 'status-callback',
              state: d.health.state,
              ...(d.health.lastOutcome ? { lastOutcome: d.health.lastOutcome } : {}),
              ...(d.health.lastCode ? { lastCode: d.health.lastCode } : {}),
            })),
          })),
        channelTenant: (id) => this.channels.find((c) => c.id === id)?.resolved.config.tenant,
        limit: (key, res) => limits.limit(key, res),
        health: () => this.health(),
        wake: (channelId) => this.channels.find((c) => c.id === channelId)?.wake(),
        reload: () => this.reload(),
        cluster: () => this.cluster(),
        chainKeys: () => chainKeys(this.keyring).all,
        metrics: this.observability.metrics,
        alerts: () => this.observability.alerts.list(),
        activity: async () => {
          const [activity, backlog] = await Promise.all([this.observability.activity.view(), this.observability.backlog()]);
          const byChannel: Record<string, Record<string, number>> = {};
          for (const b of backlog) byChannel[b.channelId] = { ...byChannel[b.channelId], [b.destinationId]: b.pending };
          return Object.fromEntries(this.channels.map((c) => [c.id, { ...(activity[c.id] ?? this.observability.activity.empty()), backlog: byChannel[c.id] ?? {} }]));
        },
        files: {
          channelsDir: settings.channelsDir,
          mappingsDir: settings.mappingsDir,
          // Beside the channels directory, as in the repository (`conduit test` reads the same folder).
          samplesDir: join(dirname(settings.channelsDir), 'samples'),
          ...(settings.tlsClientCa ? { tlsClientCa: settings.tlsClientCa } : {}),
        },
      }),
    );
    app.use(consoleRouter());
    app.use((_req, res) => {
      res.status(404).json({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: 'no such route' }] });
    });
    app.use(jsonErrorHandler(log));

    this.routes = routes;
    for (const resolved of configuration.channels) {
      if (resolved.config.enabled) await this.startChannel(resolved);
    }
    await new Promise<void>((resolve, reject) => {
      const server = createEngineServer(
        {
          headersTimeout: settings.headersTimeoutMs,
          // Node's default (300 s) for a whole request; it may not be shorter than headersTimeout.
          requestTimeout: Math.max(300_000, settings.headersTimeoutMs),
          // How often node looks for requests past headersTimeout; its default of 30 s would let slow headers linger.
          connectionsCheckingInterval: 1_000,
        },
        // One stack for everything: a route that throws reaches jsonErrorHandler, never a crash.
        app,
        tls,
        log,
      );
      server.on('clientError', answerClientError);
      server.once('error', reject);
      server.listen(settings.port, settings.host, () => resolve());
      // Keep-alive past common proxy timeouts, so webhook senders reuse connections.
      server.keepAliveTimeout = 72_000;
      this.server = server;
    });
    const url = `${tls ? 'https' : 'http'}://${settings.host}:${this.port}`;
    log.info({ url, version: VERSION, channels: this.channels.map((c) => c.id) }, 'Conduit is listening');
    this.leases?.advertise(url);
    if (tls) this.tlsReloader = watchServerTls(this.server!, tls, { log, audit: this.audit });
    if (settings.watch) this.watchConfiguration();
    this.retention.start();
    this.observability.alerts.setRules(alertRules);
    this.observability.activity.start();
  }

  private async startChannel(resolved: ResolvedChannel): Promise<void> {
    const c = new ChannelRuntime(resolved, {
      store: this.store,
      log: this.options.log,
      routes: this.routes!,
      overloaded: this.overloaded,
      turns: this.turns,
      audit: this.audit,
      senders: this.senderThread(),
      metrics: this.observability.metrics,
      ...(this.leases ? { gate: this.leases } : {}),
      ...(this.store instanceof PostgresStore ? { claim: (key: string) => this.claimShared(key) } : {}),
    });
    this.channels.push(c);
    await c.start();
    this.options.log.info(
      { channel: c.id, source: c.describeSource(), destinations: resolved.destinations.map((d) => d.config.id), mappings: mappingVersions(resolved) },
      'channel started',
    );
  }

  /** Started with the first channel. */
  private senderThread(): SenderThread {
    this.senders ??= new SenderThread(this.options.log);
    return this.senders;
  }

  private async stopChannel(c: ChannelRuntime): Promise<void> {
    this.channels.splice(this.channels.indexOf(c), 1);
    await c.stop();
    this.options.log.info({ channel: c.id }, 'channel stopped');
  }

  /**
   * Reads the channel and mapping files again and applies them: a channel whose source and
   * destinations are unchanged swaps its mappings, filters and routes in place (messages in
   * flight keep the version they were encoded with; nothing is re-sent); a changed one
   * restarts, its backlog waiting in the store; removed ones stop, new ones start. A
   * configuration with any problem is refused whole and the running one kept.
   */
  async reload(): Promise<{ applied: boolean; issues: readonly ConfigIssue[] }> {
    const run = this.reloading.then(() => this.applyConfiguration());
    this.reloading = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async applyConfiguration(): Promise<{ applied: boolean; issues: readonly ConfigIssue[] }> {
    const { log, settings } = this.options;
    const next = loadConfiguration(settings);
    // The alerts file is part of the configuration: its rules name channels and destinations.
    const alerts = this.observability.loadRules(next.issues.length === 0 ? next.channels : undefined);
    const issues = [...next.issues, ...alerts.issues];
    if (issues.length > 0) {
      this.configIssues = issues;
      for (const i of issues) log.error({ file: i.file, line: i.line, path: i.path, code: i.code }, `configuration not reloaded: ${formatIssue(i)}`);
      return { applied: false, issues };
    }
    this.configIssues = [];
    const wanted = new Map(next.channels.filter((c) => c.config.enabled).map((c) => [c.config.id, c]));
    for (const c of [...this.channels]) {
      const n = wanted.get(c.id);
      if (!n) await this.stopChannel(c);
      else if (c.canSwap(n)) {
        const before = JSON.stringify(mappingVersions(c.resolved));
        c.swap(n);
        if (JSON.stringify(mappingVersions(n)) !== before || JSON.stringify(c.resolved.config) !== JSON.stringify(n.config)) {
          log.info({ channel: c.id, mappings: mappingVersions(n) }, 'channel configuration swapped in place');
        }
        wanted.delete(c.id);
      } else {
        await this.stopChannel(c);
      }
    }
    for (const n of wanted.values()) {
      if (!this.channels.some((c) => c.id === n.config.id)) await this.startChannel(n);
    }
    this.observability.alerts.setRules(alerts.rules);
    return { applied: true, issues: [] };
  }

  /** Reloads shortly after any change under the channels or mappings directory, or to the alerts file. */
  private watchConfiguration(): void {
    const { settings, log } = this.options;
    let timer: NodeJS.Timeout | undefined;
    const changed = () => {
      clearTimeout(timer);
      // Editors save in several steps (temp file, rename); wait for the dust to settle.
      timer = setTimeout(() => {
        this.reload().then(
          (r) =>
            this.audit.note({
              action: 'configuration.reload',
              outcome: r.applied ? 'success' : 'failure',
              actor: 'file-watcher',
              target: 'configuration',
              detail: { applied: r.applied, issues: r.issues.length },
            }),
          (e: unknown) => log.error({ err: e }, 'reloading the configuration failed'),
        );
      }, 250);
    };
    for (const dir of [settings.channelsDir, settings.mappingsDir]) {
      try {
        this.watchers.push(watch(dir, { recursive: true }, changed));
      } catch (e) {
        log.warn({ err: e, dir }, 'cannot watch for configuration changes');
      }
    }
    const alertsWatcher = this.observability.watchAlertsFile(changed);
    if (alertsWatcher) this.watchers.push(alertsWatcher);
  }

  /**
   * seed-003 shape: `status`, `version`, `components` (name → healthy | degraded | unhealthy),
   * `uptime_seconds`; `details` (counts and reasons by component) only when there is something to say.
   */
  async health(): Promise<HealthView> {
    const storeOk = await this.store.ping();
    const failure = storeOk ? this.store.writeFailure() : undefined;
    const components: Record<string, string> = { database: !storeOk ? 'unhealthy' : failure ? 'degraded' : 'healthy' };
    const details: Record<string, Record<string, string | number>> = {};
    let degraded = failure !== undefined;
    if (failure) details.database = { writesFailingSince: failure.since, reason: failure.reason };
    const windowHours = this.options.settings.healthWindowHours;
    const since = new Date(Date.now() - windowHours * 3_600_000).toISOString();
    const settled = storeOk ? await this.store.settledSince(since) : [];
    for (const c of this.channels) {
      components[`channel:${c.id}`] = c.state === 'running' ? 'healthy' : 'unhealthy';
      for (const [id, d] of c.dispatchers) {
        const name = `destination:${c.id}/${id}`;
        const counts = settled.find((x) => x.channelId === c.id && x.destinationId === id);
        const troubled = counts !== undefined && counts.dead + counts.rejected > 0;
        if (troubled) details[name] = { dead: counts.dead, rejected: counts.rejected, windowHours };
        const s = d.health.state === 'retrying' || d.health.state === 'paused' || troubled ? 'degraded' : 'healthy';
        if (s === 'degraded') degraded = true;
        components[name] = s;
      }
    }
    if (this.leases) {
      components.cluster = this.leases.failing ? 'degraded' : 'healthy';
      details.cluster = { instance: this.instanceId, lanesDelivered: this.leases.held(), ...(this.leases.failing ? { reason: this.leases.failing } : {}) };
      if (this.leases.failing) degraded = true;
    }
    if (this.configIssues.length > 0) {
      components.configuration = 'degraded';
      degraded = true;
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
      ...(Object.keys(details).length > 0 ? { details } : {}),
    };
  }

  async stop(): Promise<void> {
    for (const w of this.watchers) w.close();
    this.tlsReloader?.close();
    await this.observability.stop();
    await this.retention.stop();
    await this.reloading;
    const server = this.server;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await Promise.all(this.channels.map((c) => c.stop()));
    await this.senders?.close();
    await this.leases?.stop();
    await this.notifications?.stop();
    await this.store.close();
    await this.audit.settled();
    await this.access.close();
  }

  /**
   * A store that refuses the configured data keys (STORE_KEY_MISMATCH, STORE_KEY_UNKNOWN) stops
   * the start; the refusal is an audit event. Resolves once recorded or its failure logged.
   */
  private async auditKeyRefusal(error: unknown): Promise<void> {
    const event = keyRefusalEvent(error);
    if (!event) return;
    await this.audit.record(event).catch((e: unknown) => this.options.log.error({ err: e, action: event.action }, 'the audit trail could not record the refused data key'));
  }

  /** A claim in the shared store; one that cannot be made (the database is down) is not granted: the work waits. */
  private async claimShared(key: string): Promise<(() => Promise<void>) | undefined> {
    if (!(this.store instanceof PostgresStore)) return async () => {};
    try {
      return await this.store.claim(key, this.instanceId, CLAIM_TTL_MS);
    } catch (e) {
      this.options.log.warn({ reason: postgresWords(e) }, 'a claim in the shared store failed; the work waits');
      return undefined;
    }
  }

  /** Another instance on the same database added or requeued deliveries, or released a lane. */
  private noticed(channel: string, payload: string): void {
    if (channel === LEASES_CHANNEL) {
      if (payload !== this.instanceId) this.leases?.tick();
      return;
    }
    let notice: { from?: unknown; channels?: unknown };
    try {
      notice = JSON.parse(payload) as typeof notice;
    } catch {
      return;
    }
    if (notice.from === this.instanceId || !Array.isArray(notice.channels)) return;
    const all = notice.channels.includes('*');
    for (const c of this.channels) if (all || notice.channels.includes(c.id)) c.wake();
  }

  /** The instances sharing the store and who delivers each lane (GET /api/cluster). */
  async cluster(): Promise<unknown> {
    if (!this.leases) {
      return { store: 'sqlite', instance: this.instanceId, instances: [{ id: this.instanceId, host: hostname(), pid: process.pid, alive: true }], leases: [] };
    }
    return { store: 'postgres', instance: this.instanceId, leaseMs: this.options.settings.leaseMs, ...(await this.leases.view()) };
  }
}

function mappingVersions(r: ResolvedChannel): Record<string, string> {
  return {
    ...(r.mappingVersion ? { inbound: r.mappingVersion } : {}),
    ...Object.fromEntries(r.destinations.map((d) => [d.config.id, d.mappingVersion])),
  };
}

/** Makes the data directory and a database file in it owner-only, warning about what was not. */
function secureDataFile(dataDir: string, file: string, log: Logger): void {
  warnModes(secureDataDirectory(dataDir, file), log);
}

function warnModes(modes: { tightened: string[]; left: string[] }, log: Logger): void {
  for (const path of modes.tightened) log.warn({ path }, 'group or others could read this data path; made it owner-only');
  for (const path of modes.left) log.warn({ path }, 'group or others can read this data path and it is not ours to change; make it owner-only (chmod go-rwx)');
}

/** Tokens and the audit trail (see openAccessStore), warning about data paths others could read. */
function openAccess(settings: EngineSettings, log: Logger): AccessStore {
  const { store, modes } = openAccessStore(settings);
  warnModes(modes, log);
  return store;
}

/** The store the settings name: the SQLite file in the data directory (made owner-only first), or a PostgreSQL database. */
function openStore(settings: EngineSettings, log: Logger, instance: string, keyring: Keyring | undefined): Store {
  const callbacks = {
    onWriteError: (err: unknown) => log.error({ err }, 'the store cannot write: intake answers 503 and deliveries pause until it can'),
    onWriteRecovered: () => log.info('the store writes again: intake and deliveries resume'),
    ...storeKeyOptions(keyring, log),
  };
  if (settings.store !== 'sqlite') {
    const store = new PostgresStore(settings.store, {
      synchronous: settings.durability,
      instance,
      sharedBacklog: true,
      // Locks of a paused instance's open transaction are gone before its leases expire.
      idleInTransactionMs: settings.leaseMs / 2,
      onVacuumError: (e) => log.warn({ reason: postgresWords(e) }, 'vacuuming after retention failed; tried again after the next pruning'),
      ...callbacks,
    });
    log.info({ store: store.url }, 'messages are stored in PostgreSQL');
    return store;
  }
  secureDataFile(settings.dataDir, STORE_FILE, log);
  return new SqliteStore(join(settings.dataDir, STORE_FILE), { synchronous: settings.durability, check: settings.storeCheck, ...callbacks });
}
