import { z } from 'zod';
import { RULE_KINDS } from './rules.ts';

const isoTime = z.string().describe('ISO 8601 date-time');
const RuleKind = z.enum(Object.keys(RULE_KINDS) as [keyof typeof RULE_KINDS, ...Array<keyof typeof RULE_KINDS>]);

/**
 * What an alert is about: a destination (channel and destination), a certificate file (with
 * where it is used), or the engine as a whole (no field). Ids and paths from the configuration,
 * never message content.
 */
export const AlertSubject = z
  .object({
    channel: z.string().optional(),
    destination: z.string().optional(),
    /** The certificate file, as configured. */
    certificate: z.string().optional(),
    /** Where the certificate is named: `--tls-cert`, `destinations[0].sender.tls.ca`. */
    use: z.string().optional(),
  })
  .describe('a destination {channel, destination}, a certificate {certificate, use, channel?, destination?}, or the engine {}');
export type AlertSubject = z.infer<typeof AlertSubject>;

/** How the notification of one alert to one webhook went: updated in place as it is tried. */
export const NotificationStatus = z.object({
  webhook: z.string(),
  /** Of the alert, when it was notified. */
  alertState: z.enum(['firing', 'resolved']),
  /** sending (being tried, or waiting to be tried again), sent, failed (every try), suppressed (within the rule's cooldown). */
  state: z.enum(['sending', 'sent', 'failed', 'suppressed']),
  attempts: z.number().int(),
  /** When the state last changed. */
  at: isoTime,
  /** The last failure: an HTTP status or an error code, never the URL (it may hold a token). */
  error: z.string().optional(),
});
export type NotificationStatus = z.infer<typeof NotificationStatus>;

/**
 * pending: the condition holds, not yet for the rule's `for`; firing; resolved: it no longer
 * holds (kept among the recent alerts).
 */
export const AlertState = z.enum(['pending', 'firing', 'resolved']);
export type AlertState = z.infer<typeof AlertState>;

/** An alert as GET /api/alerts shows it. */
export const AlertView = z.object({
  /** `<rule>:<subject>`, e.g. `lis-dead:lab/lis`. */
  id: z.string(),
  rule: z.string(),
  kind: RuleKind,
  subject: AlertSubject,
  state: AlertState,
  /** When the condition began. */
  since: isoTime,
  firingSince: isoTime.optional(),
  resolvedAt: isoTime.optional(),
  summary: z.string(),
  /** Deliveries counted (dead or rejected ones). */
  count: z.number().int().optional(),
  /** When a notification of it was last sent (cooldowns count from here). */
  lastSentAt: isoTime.optional(),
  /** The last notification, per webhook. */
  notifications: z.array(NotificationStatus),
});
export type AlertView = z.infer<typeof AlertView>;

/** GET /api/alerts: active alerts (firing, then pending), then the recently resolved ones. */
export const AlertsAnswer = z.object({ alerts: z.array(AlertView) }).describe('active and recent alerts of the alert rules, with how their notifications went');

/**
 * The JSON body of a notification POSTed to a webhook (signed: X-Timestamp, X-Signature):
 * ids, times, counts and error codes; never message content.
 */
export const AlertPayload = z.object({
  type: z.literal('conduit.alert'),
  /** The alert's id, as in GET /api/alerts. */
  alert: z.string(),
  rule: z.string(),
  kind: RuleKind,
  state: z.enum(['firing', 'resolved']),
  subject: AlertSubject,
  since: isoTime,
  resolvedAt: isoTime.optional(),
  /** One line for people; a resolution's begins with `resolved: `. */
  summary: z.string(),
  count: z.number().int().optional(),
  /** The engine that sent it (instances sharing a PostgreSQL store each evaluate their rules). */
  instance: z.string(),
  sentAt: isoTime,
});
export type AlertPayload = z.infer<typeof AlertPayload>;
