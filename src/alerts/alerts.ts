import type { Logger } from 'pino';
import type { TroubleEvent } from '../metrics/engine-metrics.ts';
import type { DestinationBacklog } from '../store/types.ts';
import { CertificateExpiry, type CertificateUse } from './certificates.ts';
import { type AlertDestination, type Condition, conditionsOf, subjectKey, type TroubleStreak } from './conditions.ts';
import type { WebhookNotifier } from './notifier.ts';
import type { AlertRule, AlertRules } from './rules.ts';
import type { AlertPayload, AlertState, AlertSubject, AlertView, NotificationStatus } from './view.ts';

export type { AlertPayload, AlertView } from './view.ts';

/** Resolved alerts kept for GET /api/alerts, newest first. */
const RECENT = 200;

interface Alert {
  id: string;
  rule: AlertRule;
  subject: AlertSubject;
  state: AlertState;
  since: number;
  firingSince?: number;
  resolvedAt?: number;
  summary: string;
  count?: number;
  countAtLastSend: number;
  /** A firing notification was sent (not suppressed): its resolution is sent too. */
  sentFiring: boolean;
  lastSentAt?: number;
  notifications: NotificationStatus[];
}

export interface AlertSources {
  destinations(): readonly AlertDestination[];
  backlog(): Promise<readonly DestinationBacklog[]>;
  pendingCount(): number;
  certificates(): readonly CertificateUse[];
}

export interface AlertManagerOptions {
  sources: AlertSources;
  notifier: WebhookNotifier;
  log: Logger;
  /** This engine among those sharing a store: in every notification. */
  instance: string;
}

/**
 * Evaluates the alert rules (alerts file, see rules.ts) on a timer and at once when a delivery
 * ends dead or rejected; notifies the rules' webhooks when an alert fires (again once its
 * cooldown has passed, if it still fires: for dead and rejected deliveries, only when more
 * came), and when it resolves. Keeps the active alerts and the last resolved ones in memory.
 */
export class AlertManager {
  private readonly opts: AlertManagerOptions;
  private rules: AlertRules | undefined;
  private readonly active = new Map<string, Alert>();
  private readonly recent: Alert[] = [];
  /** When a firing notification was last sent, by alert id: the cooldown outlives a resolution (flapping). */
  private readonly lastSent = new Map<string, number>();
  /** Per rule id: dead or rejected deliveries per destination. */
  private readonly streaks = new Map<string, Map<string, TroubleStreak>>();
  private readonly expiry = new CertificateExpiry();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(opts: AlertManagerOptions) {
    this.opts = opts;
  }

  /** Uses these rules from now on (undefined: none); alerts of rules that are gone resolve without a notification. */
  setRules(rules: AlertRules | undefined): void {
    this.rules = rules;
    const ids = new Set(rules?.rules.map((r) => r.id));
    for (const a of [...this.active.values()]) if (!ids.has(a.rule.id)) this.resolve(a, Date.now(), false);
    for (const id of [...this.streaks.keys()]) if (!ids.has(id)) this.streaks.delete(id);
    clearInterval(this.timer);
    this.timer = undefined;
    if (rules && rules.rules.length > 0 && !this.stopped) {
      this.timer = setInterval(() => void this.evaluate(), rules.evaluateEveryMs);
      this.timer.unref();
      void this.evaluate();
    }
  }

  /** A delivery ended dead or rejected: counted for the rules that watch it, and the rules evaluated at once. */
  trouble(e: TroubleEvent): void {
    const rules = this.rules;
    if (!rules) return;
    const now = Date.now();
    let counted = false;
    for (const rule of rules.rules) {
      if (rule.kind !== (e.status === 'dead' ? 'delivery-dead' : 'delivery-rejected')) continue;
      if ((rule.channel !== undefined && rule.channel !== e.channelId) || (rule.destination !== undefined && rule.destination !== e.destinationId)) continue;
      const byDestination = this.streaks.get(rule.id) ?? new Map<string, TroubleStreak>();
      this.streaks.set(rule.id, byDestination);
      const key = `${e.channelId}\u0000${e.destinationId}`;
      const s = byDestination.get(key);
      if (s && now - s.last <= this.windowOf(rule)) {
        s.last = now;
        s.count++;
        s.code = e.code;
      } else byDestination.set(key, { channelId: e.channelId, destinationId: e.destinationId, first: now, last: now, count: 1, code: e.code });
      counted = true;
    }
    if (counted) void this.evaluate();
  }

  /**
   * Evaluates the rules now, or right after the evaluation under way. Resolves when done;
   * never rejects (a failure is logged).
   */
  evaluate(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.evaluateOnce()
      .catch((e: unknown) => this.opts.log.error({ err: e }, 'evaluating the alert rules failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          void this.evaluate();
        }
      });
    return this.running;
  }

  /**
   * Dead and rejected deliveries count together while each comes within this of the one before:
   * the cooldown, and at least one evaluation interval, so that every streak is seen.
   */
  private windowOf(rule: AlertRule): number {
    return Math.max(rule.cooldown, this.rules?.evaluateEveryMs ?? 0);
  }

  private async evaluateOnce(): Promise<void> {
    const rules = this.rules;
    if (!rules || this.stopped) return;
    const { sources } = this.opts;
    const wantsBacklog = rules.rules.some((r) => r.kind === 'backlog' && r.per === 'destination');
    const inputs = {
      now: Date.now(),
      destinations: sources.destinations(),
      backlog: wantsBacklog ? await sources.backlog().catch(() => undefined) : [],
      pendingCount: sources.pendingCount(),
      certificates: rules.rules.some((r) => r.kind === 'certificate-expiry') ? sources.certificates().map((c) => ({ ...c, facts: this.expiry.read(c.file) })) : [],
    };
    const now = Date.now();
    const holding = new Set<string>();
    for (const rule of rules.rules) {
      const streaks = this.streaks.get(rule.id);
      for (const [key, s] of streaks ?? []) if (now - s.last > this.windowOf(rule)) streaks!.delete(key);
      for (const c of conditionsOf(rule, inputs, streaks?.values() ?? [])) {
        const id = `${rule.id}:${subjectKey(c.subject)}`;
        holding.add(id);
        this.holds(rule, id, c, now);
      }
    }
    for (const a of [...this.active.values()]) {
      // A backlog that could not be read says nothing about backlog alerts: they stay as they are.
      if (holding.has(a.id) || (a.rule.kind === 'backlog' && inputs.backlog === undefined)) continue;
      this.resolve(a, now, a.rule.resolved);
    }
    for (const [id, at] of this.lastSent) {
      const rule = this.active.get(id)?.rule;
      if (!rule && now - at > Math.max(...rules.rules.map((r) => r.cooldown), 0)) this.lastSent.delete(id);
    }
  }

  private holds(rule: AlertRule, id: string, c: Condition, now: number): void {
    let a = this.active.get(id);
    if (!a) {
      a = { id, rule, subject: c.subject, state: 'pending', since: c.since ?? now, summary: c.summary, countAtLastSend: 0, sentFiring: false, notifications: [] };
      this.active.set(id, a);
    }
    a.rule = rule;
    a.summary = c.summary;
    if (c.since !== undefined) a.since = c.since;
    if (c.count !== undefined) a.count = c.count;
    if (a.state === 'pending') {
      if (now - a.since < ('for' in rule ? rule.for : 0)) return;
      a.state = 'firing';
      a.firingSince = now;
      this.opts.log.warn({ alert: id, rule: rule.id, kind: rule.kind, ...a.subject, since: new Date(a.since).toISOString() }, `alert firing: ${a.summary}`);
      this.notifyFiring(a, now);
      return;
    }
    // Still firing: a reminder once the cooldown has passed; for deliveries, only when more came.
    const last = this.lastSent.get(id);
    if (last !== undefined && now - last < rule.cooldown) return;
    const delivery = rule.kind === 'delivery-dead' || rule.kind === 'delivery-rejected';
    if (!delivery || (a.count ?? 0) > a.countAtLastSend) this.notifyFiring(a, now);
  }

  private notifyFiring(a: Alert, now: number): void {
    const last = this.lastSent.get(a.id);
    if (last !== undefined && now - last < a.rule.cooldown) {
      // Fired again soon after it resolved: within the cooldown nothing is sent.
      const at = new Date(now).toISOString();
      a.notifications = this.webhooksOf(a.rule).map((w) => ({ webhook: w, alertState: 'firing', state: 'suppressed', attempts: 0, at }));
      return;
    }
    this.lastSent.set(a.id, now);
    a.lastSentAt = now;
    a.countAtLastSend = a.count ?? 0;
    a.sentFiring = true;
    this.send(a, 'firing', now);
  }

  private resolve(a: Alert, now: number, notify: boolean): void {
    this.active.delete(a.id);
    if (a.state !== 'firing') return;
    a.state = 'resolved';
    a.resolvedAt = now;
    this.opts.log.info({ alert: a.id, rule: a.rule.id, kind: a.rule.kind, ...a.subject }, `alert resolved: ${a.summary}`);
    if (notify && a.sentFiring) this.send(a, 'resolved', now);
    this.recent.unshift(a);
    this.recent.length = Math.min(this.recent.length, RECENT);
  }

  private webhooksOf(rule: AlertRule): string[] {
    const all = this.rules?.webhooks.map((w) => w.id) ?? [];
    return rule.notify ? all.filter((id) => rule.notify!.includes(id)) : all;
  }

  private send(a: Alert, state: 'firing' | 'resolved', now: number): void {
    const body = JSON.stringify(payloadOf(a, state, now, this.opts.instance));
    const ids = this.webhooksOf(a.rule);
    a.notifications = (this.rules?.webhooks ?? []).filter((w) => ids.includes(w.id)).map((w) => this.opts.notifier.send(w, body, state, a.id));
  }

  /** Active alerts (firing, then pending), then the recently resolved ones. */
  list(): AlertView[] {
    const active = [...this.active.values()].sort((x, y) => (x.state === y.state ? y.since - x.since : x.state === 'firing' ? -1 : 1));
    return [...active, ...this.recent].map(viewOf);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

function viewOf(a: Alert): AlertView {
  return {
    id: a.id,
    rule: a.rule.id,
    kind: a.rule.kind,
    subject: a.subject,
    state: a.state,
    since: iso(a.since)!,
    ...(a.firingSince !== undefined ? { firingSince: iso(a.firingSince) } : {}),
    ...(a.resolvedAt !== undefined ? { resolvedAt: iso(a.resolvedAt) } : {}),
    summary: a.summary,
    ...(a.count !== undefined ? { count: a.count } : {}),
    ...(a.lastSentAt !== undefined ? { lastSentAt: iso(a.lastSentAt) } : {}),
    notifications: a.notifications.map((n) => ({ ...n })),
  };
}

function payloadOf(a: Alert, state: 'firing' | 'resolved', now: number, instance: string): AlertPayload {
  return {
    type: 'conduit.alert',
    alert: a.id,
    rule: a.rule.id,
    kind: a.rule.kind,
    state,
    subject: a.subject,
    since: iso(a.since)!,
    ...(state === 'resolved' ? { resolvedAt: iso(a.resolvedAt ?? now) } : {}),
    summary: state === 'resolved' ? `resolved: ${a.summary}` : a.summary,
    ...(a.count !== undefined ? { count: a.count } : {}),
    instance,
    sentAt: iso(now)!,
  };
}
