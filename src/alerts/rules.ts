import { z } from 'zod';
import { ClientTlsConfig } from '../config/tls.ts';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_WORDS = "expected a duration such as '15m', '30d', '12h', '45s' or '500ms' (a whole number, then ms, s, m, h or d)";

/** A length of time in the alerts file: `15m`, `30d`, `2s`, `500ms`; parsed to milliseconds. */
export const AlertDuration = z
  .string({ error: DURATION_WORDS })
  .regex(/^\d{1,7}(ms|s|m|h|d)$/, DURATION_WORDS)
  .transform((text) => {
    const unit = /(ms|s|m|h|d)$/.exec(text)![1] as keyof typeof UNIT_MS;
    return Number(text.slice(0, -unit.length)) * UNIT_MS[unit];
  });

const Id = z.string({ error: 'expected an id of lower-case letters, digits, - and _ (up to 64)' }).regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'expected an id of lower-case letters, digits, - and _ (up to 64)');
const HeaderName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected an HTTP header name');

/** Defaults, with their units. */
export const ALERT_DEFAULTS = Object.freeze({
  /** How often the rules are looked at (and at once when a delivery ends dead or rejected). */
  evaluateEvery: '15s',
  /** The same alert for the same subject is not sent again within this. */
  cooldown: '15m',
  /** A certificate stays near expiry for weeks: one reminder a day. */
  certificateCooldown: '1d',
  signatureHeader: 'X-Signature',
  timestampHeader: 'X-Timestamp',
  /** A notification that gets no answer within this is a failed try. */
  timeoutMs: 10_000,
  /** Tries after the first failed one, 1 s, 2 s, 4 s … apart (at most 60 s). */
  retries: 3,
} as const);

/**
 * Where notifications are POSTed, signed with HMAC-SHA256 as a Conduit webhook source with
 * `hmac: {secret, timestamp: {}}` verifies them: `X-Timestamp: <unix seconds>` and
 * `X-Signature: sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>`.
 */
export const AlertWebhook = z
  .object({
    id: Id,
    url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
    secret: z.string().min(16, 'expected a secret of at least 16 characters (reference it as $' + '{ENV_NAME})'),
    signatureHeader: HeaderName.default(ALERT_DEFAULTS.signatureHeader),
    timestampHeader: HeaderName.default(ALERT_DEFAULTS.timestampHeader),
    timeoutMs: z.number().int().min(100).max(120_000).default(ALERT_DEFAULTS.timeoutMs),
    retries: z.number().int().min(0).max(10).default(ALERT_DEFAULTS.retries),
    /** CA, client certificate and key for an HTTPS receiver, as for HTTP destinations. */
    tls: ClientTlsConfig.optional(),
  })
  .strict();
export type AlertWebhook = z.infer<typeof AlertWebhook>;

/** What every rule has: its id, which destinations it watches, who is told and how often. */
const common = {
  id: Id,
  /** Only this channel's destinations (or certificates); every channel when absent. */
  channel: z.string().min(1).optional(),
  /** Only destinations with this id; every destination when absent. */
  destination: z.string().min(1).optional(),
  cooldown: AlertDuration.prefault(ALERT_DEFAULTS.cooldown),
  /** Webhook ids to notify; every webhook when absent. */
  notify: z.array(Id).min(1, 'expected at least one webhook id; leave notify out to notify every webhook').optional(),
  /** Also notify when the alert clears. */
  resolved: z.boolean().default(true),
};

export const DeliveryRule = z.object({ kind: z.enum(['delivery-dead', 'delivery-rejected']), ...common }).strict();
export const BacklogRule = z
  .object({
    kind: z.literal('backlog'),
    ...common,
    /** Fires while the backlog is above this many pending deliveries. */
    over: z.number({ error: 'expected a whole number of pending deliveries' }).int('expected a whole number of pending deliveries').min(0, 'expected 0 or more pending deliveries'),
    /** Per destination (each one its own alert), or the engine's whole backlog. */
    per: z.enum(['destination', 'engine']).default('destination'),
    /** Only once it has been over the bound this long. */
    for: AlertDuration.prefault('0s'),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.per !== 'engine') return;
    for (const key of ['channel', 'destination'] as const) {
      if (r[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `per: engine watches the whole backlog; leave ${key} out or use per: destination` });
    }
  });
export const FailingRule = z
  .object({
    kind: z.literal('destination-failing'),
    ...common,
    /** How long a lane must have been retrying or paused, without a delivery getting through. */
    for: AlertDuration,
  })
  .strict();
export const CertificateRule = z
  .object({
    kind: z.literal('certificate-expiry'),
    ...common,
    cooldown: AlertDuration.prefault(ALERT_DEFAULTS.certificateCooldown),
    /** Fires once a certificate expires within this (or has expired). */
    within: AlertDuration,
  })
  .strict();

export const RULE_KINDS = {
  'delivery-dead': DeliveryRule,
  'delivery-rejected': DeliveryRule,
  backlog: BacklogRule,
  'destination-failing': FailingRule,
  'certificate-expiry': CertificateRule,
} as const;
export type RuleKind = keyof typeof RULE_KINDS;

export type DeliveryRule = z.infer<typeof DeliveryRule>;
export type BacklogRule = z.infer<typeof BacklogRule>;
export type FailingRule = z.infer<typeof FailingRule>;
export type CertificateRule = z.infer<typeof CertificateRule>;
export type AlertRule = DeliveryRule | BacklogRule | FailingRule | CertificateRule;

/** The file's top level; each rule is checked by its kind's schema afterwards. */
export const AlertsFileShape = z
  .object({
    evaluateEvery: AlertDuration.prefault(ALERT_DEFAULTS.evaluateEvery).refine((ms) => ms >= 100, 'expected at least 100ms'),
    webhooks: z.array(z.unknown()).default([]),
    rules: z.array(z.unknown()).default([]),
  })
  .strict();

export interface AlertRules {
  readonly file: string;
  readonly evaluateEveryMs: number;
  readonly webhooks: readonly AlertWebhook[];
  readonly rules: readonly AlertRule[];
}
