import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { AlertManager } from '../alerts/alerts.ts';
import { certificateUses } from '../alerts/certificates.ts';
import type { AlertDestination } from '../alerts/conditions.ts';
import { type ChannelIds, loadAlertRules } from '../alerts/load.ts';
import { WebhookNotifier } from '../alerts/notifier.ts';
import type { AlertRules } from '../alerts/rules.ts';
import type { ResolvedChannel } from '../config/load.ts';
import type { EngineSettings } from '../config/settings.ts';
import { type ConfigIssue, formatIssue } from '../config/yaml-file.ts';
import { ConduitError } from '../errors.ts';
import { cachedFor } from '../metrics/cached.ts';
import { EngineMetrics } from '../metrics/engine-metrics.ts';
import { postgresStoreSize, sqliteStoreSize } from '../metrics/store-size.ts';
import { callbackDestinationId } from '../senders/status-callback/event.ts';
import { PostgresStore } from '../store/postgres/store.ts';
import type { DestinationBacklog, Store } from '../store/types.ts';
import { Activity } from './activity.ts';
import type { ChannelRuntime } from './channel.ts';
import { STORE_FILE } from './data-dir.ts';

/**
 * The backlog per destination is read at most this often (a scrape and an evaluation of the
 * alert rules share a read); it costs as much as the backlog is long (Store.backlogByDestination).
 */
const BACKLOG_TTL_MS = 2000;

export interface ObservedEngine {
  readonly store: Store;
  readonly settings: EngineSettings;
  readonly log: Logger;
  readonly instanceId: string;
  channels(): readonly ChannelRuntime[];
  /** Lanes this instance holds the lease of; only on a store shared by several instances. */
  leasesHeld?: () => number;
}

/** The engine's metrics (GET /metrics) and alerts (the alerts file, GET /api/alerts), fed by what it runs. */
export class Observability {
  readonly metrics: EngineMetrics;
  readonly alerts: AlertManager;
  /** The backlog per destination, read at most every 2 s (metrics, alerts and the dashboard share it). */
  readonly backlog: () => Promise<readonly DestinationBacklog[]>;
  /** Recent activity per channel, from the metrics' counters (the dashboard). */
  readonly activity: Activity;
  private readonly notifier: WebhookNotifier;
  private readonly engine: ObservedEngine;

  constructor(engine: ObservedEngine) {
    this.engine = engine;
    const { store, settings, log } = engine;
    const backlog = cachedFor(BACKLOG_TTL_MS, () => store.backlogByDestination());
    this.backlog = backlog;
    this.metrics = new EngineMetrics({
      store: store instanceof PostgresStore ? 'postgres' : 'sqlite',
      backlog,
      pendingCount: () => store.pendingCount(),
      destinations: () => this.destinations(),
      storeSize: store instanceof PostgresStore ? postgresStoreSize(() => store.databaseBytes()) : sqliteStoreSize(join(settings.dataDir, STORE_FILE)),
      ...(engine.leasesHeld ? { leasesHeld: engine.leasesHeld } : {}),
    });
    this.activity = new Activity(this.metrics.registry);
    this.notifier = new WebhookNotifier(log);
    this.alerts = new AlertManager({
      sources: {
        destinations: () => this.destinations(),
        backlog,
        pendingCount: () => store.pendingCount(),
        certificates: () => certificateUses(settings, engine.channels().map((c) => c.resolved)),
      },
      notifier: this.notifier,
      log,
      instance: engine.instanceId,
    });
    this.metrics.onTrouble((e) => this.alerts.trouble(e));
  }

  private destinations(): AlertDestination[] {
    const out: AlertDestination[] = [];
    for (const c of this.engine.channels()) {
      for (const [destinationId, d] of c.dispatchers) {
        out.push({ channelId: c.id, destinationId, lanes: d.lanesView(), ...(d.health.lastCode ? { lastCode: d.health.lastCode } : {}) });
      }
    }
    return out;
  }

  /** The alert rules of the alerts file (--alerts) for these channels, or its problems; none without a file. */
  loadRules(channels: readonly ResolvedChannel[] | undefined): { rules?: AlertRules; issues: readonly ConfigIssue[] } {
    const file = this.engine.settings.alerts;
    if (file === undefined) return { issues: [] };
    return loadAlertRules(file, channels && channelIds(channels));
  }

  /** As loadRules; a problem stops the start (CONFIG_INVALID, every problem with its file, line and path). */
  rulesAtStart(channels: readonly ResolvedChannel[]): AlertRules | undefined {
    const { rules, issues } = this.loadRules(channels);
    if (issues.length > 0) throw new ConduitError('CONFIG_INVALID', `the alerts file has problems:\n${issues.map(formatIssue).join('\n')}`, { location: issues[0]!.file });
    return rules;
  }

  /** Calls `changed` when the alerts file changes (its directory is watched: editors replace files by renaming). */
  watchAlertsFile(changed: () => void): FSWatcher | undefined {
    const file = this.engine.settings.alerts;
    if (file === undefined) return undefined;
    try {
      return watch(dirname(file), { persistent: false }, (_event, name) => {
        if (name === null || name.toString() === basename(file)) changed();
      });
    } catch (e) {
      this.engine.log.warn({ err: e, file }, 'cannot watch the alerts file for changes');
      return undefined;
    }
  }

  async stop(): Promise<void> {
    this.activity.stop();
    await this.alerts.stop();
    await this.notifier.close();
  }
}

/** Channel id → its destination ids, status callbacks' included, for the rules to name. */
export function channelIds(channels: readonly ResolvedChannel[]): ChannelIds {
  return new Map(
    channels.map((c) => [
      c.config.id,
      c.destinations.flatMap((d) => (c.config.statusCallback ? [d.config.id, callbackDestinationId(d.config.id)] : [d.config.id])),
    ]),
  );
}
