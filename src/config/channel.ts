import jsonata from 'jsonata';
import { z } from 'zod';
import { Tenant } from '../access/roles.ts';
import { Duration } from './duration.ts';

/**
 * A channel file (channels/*.yaml). Source, encoder and sender blocks are checked again by
 * their plugins' own schemas; here only their `type` is required.
 */
const PluginBlock = z.looseObject({ type: z.string().min(1, 'expected the plugin type') });

/**
 * A JSONata condition over `{ report, input }`: the canonical report and the input as
 * received (the parsed JSON event, or the HL7 v2 text). Checked for syntax at load.
 */
const Condition = z.string().min(1, 'expected a JSONata condition').superRefine((source, ctx) => {
  try {
    jsonata(source);
  } catch (e) {
    const j = e as { message?: string; position?: number };
    ctx.addIssue({ code: 'custom', message: `not a valid JSONata expression: ${j.message}${j.position !== undefined ? ` (at character ${j.position})` : ''}` });
  }
});

const Id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected lower-case letters, digits and dashes (at most 63)');

export const DeliveryPolicy = z
  .object({
    /** Attempts before a delivery is dead (the first one included). */
    maxAttempts: z.number().int().min(1).default(10),
    initialBackoffMs: z.number().int().min(0).default(1000),
    maxBackoffMs: z.number().int().min(0).default(300_000),
    backoffMultiplier: z.number().min(1).default(2),
    /**
     * Parallel connections to this destination. Results of one patient always use the same
     * lane, so they stay in order while different patients go in parallel.
     */
    lanes: z.number().int().min(1).max(64).default(1),
    /**
     * Pace the channel's intake to this destination: while one of its lanes is delivering with
     * a window (256 rows) ahead of it, new inputs wait (at most a second each) before they are
     * accepted, so a burst does not pile up a backlog that results wait behind. Off: every
     * input is accepted as soon as it is stored (store and forward). A destination that fails
     * never holds intake either way.
     */
    paceIntake: z.boolean().default(false),
  })
  .strict();
export type DeliveryPolicy = z.infer<typeof DeliveryPolicy>;

/** The outcomes a status callback reports: delivered (acknowledged), rejected, failed (dead). */
export const StatusCallbackEvents = ['delivered', 'rejected', 'failed'] as const;
export type StatusCallbackEvent = (typeof StatusCallbackEvents)[number];

/**
 * Channel-level status callback: after each delivery of the channel is acknowledged,
 * rejected or dead, a signed status event (no patient data) is POSTed to `url`, itself
 * delivered durably and retried like any destination.
 */
export const StatusCallbackConfig = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
    events: z
      .array(z.enum(StatusCallbackEvents, { error: "expected 'delivered', 'rejected' or 'failed'" }))
      .min(1, 'expected at least one event (or leave events out for all three)')
      .default([...StatusCallbackEvents]),
    /** HMAC-SHA256 key for the signature of the raw body; from the environment (`$` + `{ENV_NAME}`). */
    secret: z.string().min(16, 'expected a secret of at least 16 characters (reference it as $' + '{ENV_NAME})').optional(),
    /** Header carrying `sha256=<hex digest of the raw body>`. */
    signatureHeader: z.string().regex(/^[A-Za-z0-9-]+$/, 'expected an HTTP header name').default('X-Conduit-Signature'),
    /** Extra request headers (e.g. an API key from the environment). */
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'expected an HTTP header name'), z.string()).default({}),
    /** Connecting, sending and reading the answer together, per attempt. */
    timeoutMs: z.number().int().positive().default(10_000),
    delivery: DeliveryPolicy.default(DeliveryPolicy.parse({})),
  })
  .strict();
export type StatusCallbackConfig = z.infer<typeof StatusCallbackConfig>;

export const DestinationConfig = z
  .object({
    id: Id,
    description: z.string().optional(),
    /** Outbound mapping: a file in mappings/ (without .yaml) whose kind is an encoder. */
    mapping: z.string().min(1, 'expected the name of an outbound mapping file in mappings/'),
    sender: PluginBlock,
    delivery: DeliveryPolicy.default(DeliveryPolicy.parse({})),
    /** Routing: only reports for which this condition holds go to this destination. */
    when: Condition.optional(),
  })
  .strict();
export type DestinationConfig = z.infer<typeof DestinationConfig>;

/**
 * How long a channel's messages are kept, counted from when each was received; a message
 * with a delivery still pending is kept whatever its age. `content`: its raw input, canonical
 * report, encoded payloads and raw answers (ACKs, responses) are removed, its ids, statuses and
 * attempts stay. `metadata`: the message is deleted with its deliveries and attempts.
 */
export const RetentionConfig = z
  .object({ content: Duration.optional(), metadata: Duration.optional() })
  .strict()
  .refine((r) => r.content === undefined || r.metadata === undefined || r.metadata >= r.content, {
    path: ['metadata'],
    message: 'expected metadata to be kept at least as long as content',
  });
export type RetentionConfig = z.infer<typeof RetentionConfig>;

export const ChannelConfig = z
  .object({
    id: Id,
    description: z.string().optional(),
    enabled: z.boolean().default(true),
    source: PluginBlock,
    /** Inbound mapping: a file in mappings/ (without .yaml). Without one, messages are stored as received. */
    mapping: z.string().min(1).optional(),
    /**
     * Filters: a report must pass every rule to go anywhere; one that fails a rule is stored as
     * `filtered`, with the rule's name, and sent nowhere.
     */
    filters: z.array(z.object({ name: z.string().min(1), when: Condition }).strict()).default([]),
    destinations: z.array(DestinationConfig).default([]),
    statusCallback: StatusCallbackConfig.optional(),
    /** Without it, messages are kept until removed by hand. */
    retention: RetentionConfig.optional(),
    /** Tokens limited to a tenant (`conduit token create --tenant`) see only the channels tagged with it. */
    tenant: Tenant.optional(),
  })
  .strict()
  .superRefine(
    (c, ctx) => {
      // Runs even when other fields have problems (`when` below), so all show in one pass;
      // `c` may then hold unparsed values.
      const destinations: unknown[] = Array.isArray(c.destinations) ? c.destinations : [];
      const seen = new Set<string>();
      destinations.forEach((d, i) => {
        const id = (d as { id?: unknown } | null)?.id;
        if (typeof id !== 'string') return;
        if (seen.has(id)) ctx.addIssue({ code: 'custom', path: ['destinations', i, 'id'], message: `duplicate destination id '${id}'` });
        seen.add(id);
      });
      if (destinations.length > 0 && c.mapping === undefined) {
        ctx.addIssue({ code: 'custom', path: ['mapping'], message: 'a channel with destinations needs an inbound mapping to build the canonical report' });
      }
    },
    { when: (payload) => payload.value !== null && typeof payload.value === 'object' },
  );
export type ChannelConfig = z.infer<typeof ChannelConfig>;
