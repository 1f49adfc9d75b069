import type { DestinationLanes } from '../metrics/engine-metrics.ts';
import { failingSince } from '../metrics/engine-metrics.ts';
import type { DestinationBacklog } from '../store/types.ts';
import type { CertificateFacts, CertificateUse } from './certificates.ts';
import type { AlertRule, BacklogRule, CertificateRule, DeliveryRule, FailingRule } from './rules.ts';
import type { AlertSubject } from './view.ts';

/** A rule's condition holding for one subject. */
export interface Condition {
  readonly subject: AlertSubject;
  /** When it began (ms); undefined: when it was first seen to hold. */
  readonly since: number | undefined;
  readonly summary: string;
  /** Deliveries counted (dead or rejected ones). */
  readonly count?: number;
}

/** Dead (or rejected) deliveries of one destination close together: each within a rule's window of the one before. */
export interface TroubleStreak {
  readonly channelId: string;
  readonly destinationId: string;
  readonly first: number;
  last: number;
  count: number;
  code: string | undefined;
}

export interface AlertDestination extends DestinationLanes {
  /** The error code of the destination's last failed attempt. */
  readonly lastCode?: string;
}

/** What the rules are evaluated against, read once per evaluation. */
export interface AlertInputs {
  readonly now: number;
  readonly destinations: readonly AlertDestination[];
  /** Undefined when it could not be read (the store is down): backlog rules keep their state. */
  readonly backlog: readonly DestinationBacklog[] | undefined;
  readonly pendingCount: number;
  readonly certificates: ReadonlyArray<CertificateUse & { readonly facts: CertificateFacts | undefined }>;
}

/** The subject's part of an alert's id: `lab/lis`, `engine`, `certificate:<file>@<use>`. */
export function subjectKey(s: AlertSubject): string {
  if (s.certificate !== undefined) return `certificate:${s.certificate}@${s.use ?? ''}`;
  if (s.channel !== undefined) return `${s.channel}/${s.destination ?? '*'}`;
  return 'engine';
}

function matches(rule: Pick<AlertRule, 'channel' | 'destination'>, channelId: string | undefined, destinationId: string | undefined): boolean {
  return (rule.channel === undefined || rule.channel === channelId) && (rule.destination === undefined || rule.destination === destinationId);
}

const iso = (ms: number) => new Date(ms).toISOString();

/** How long ago, in words: `3 h`, `12 min`, `40 s`, `2 days`. */
export function duration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} days`;
}

function deliveryConditions(rule: DeliveryRule, streaks: Iterable<TroubleStreak>): Condition[] {
  const what = rule.kind === 'delivery-dead' ? 'dead (retries used up)' : 'rejected by the receiver';
  return [...streaks]
    .filter((s) => matches(rule, s.channelId, s.destinationId))
    .map((s) => ({
      subject: { channel: s.channelId, destination: s.destinationId },
      since: s.first,
      count: s.count,
      summary: `${s.count} ${s.count === 1 ? 'delivery' : 'deliveries'} to ${s.channelId}/${s.destinationId} ${what} since ${iso(s.first)}${s.code ? `; last error ${s.code}` : ''}`,
    }));
}

function backlogConditions(rule: BacklogRule, inputs: AlertInputs): Condition[] {
  if (rule.per === 'engine') {
    const n = inputs.pendingCount;
    return n > rule.over ? [{ subject: {}, since: undefined, summary: `${n} pending deliveries in the engine, over ${rule.over}` }] : [];
  }
  return (inputs.backlog ?? [])
    .filter((b) => b.pending > rule.over && matches(rule, b.channelId, b.destinationId))
    .map((b) => ({
      subject: { channel: b.channelId, destination: b.destinationId },
      since: undefined,
      summary: `${b.pending} pending deliveries to ${b.channelId}/${b.destinationId}, over ${rule.over}`,
    }));
}

function failingConditions(rule: FailingRule, inputs: AlertInputs): Condition[] {
  const out: Condition[] = [];
  for (const d of inputs.destinations) {
    if (!matches(rule, d.channelId, d.destinationId)) continue;
    const since = failingSince(d.lanes);
    if (since === undefined) continue;
    out.push({
      subject: { channel: d.channelId, destination: d.destinationId },
      since,
      summary: `${d.channelId}/${d.destinationId} has been failing for ${duration(inputs.now - since)}, since ${iso(since)}${d.lastCode ? `; last error ${d.lastCode}` : ''}`,
    });
  }
  return out;
}

function certificateConditions(rule: CertificateRule, inputs: AlertInputs): Condition[] {
  const out: Condition[] = [];
  for (const c of inputs.certificates) {
    // The engine's own certificates belong to no channel: only rules for every channel watch them.
    if (!c.facts || !matches(rule, c.channel, c.destination)) continue;
    const left = c.facts.validTo - inputs.now;
    if (left > rule.within) continue;
    const where = c.channel === undefined ? c.use : `${c.use} of channel ${c.channel}`;
    const when = left <= 0 ? `expired ${duration(left)} ago, on ${iso(c.facts.validTo)}` : `expires in ${duration(left)}, on ${iso(c.facts.validTo)}`;
    out.push({
      subject: { certificate: c.file, use: c.use, ...(c.channel !== undefined ? { channel: c.channel } : {}), ...(c.destination !== undefined ? { destination: c.destination } : {}) },
      since: Math.max(c.facts.validFrom, c.facts.validTo - rule.within),
      summary: `certificate ${c.facts.subject} in ${c.file} (${where}) ${when}`,
    });
  }
  return out;
}

/** Where a rule's condition holds now, one entry per subject. */
export function conditionsOf(rule: AlertRule, inputs: AlertInputs, streaks: Iterable<TroubleStreak>): Condition[] {
  switch (rule.kind) {
    case 'delivery-dead':
    case 'delivery-rejected':
      return deliveryConditions(rule, streaks);
    case 'backlog':
      return backlogConditions(rule, inputs);
    case 'destination-failing':
      return failingConditions(rule, inputs);
    case 'certificate-expiry':
      return certificateConditions(rule, inputs);
    default:
      return rule satisfies never;
  }
}
