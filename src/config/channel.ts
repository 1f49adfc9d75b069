import { z } from 'zod';

/**
 * A channel file (channels/*.yaml). Source, encoder and sender blocks are checked again by
 * their plugins' own schemas; here only their `type` is required.
 */
const PluginBlock = z.looseObject({ type: z.string().min(1, 'expected the plugin type') });

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
  })
  .strict();
export type DeliveryPolicy = z.infer<typeof DeliveryPolicy>;

export const DestinationConfig = z
  .object({
    id: Id,
    description: z.string().optional(),
    /** Outbound mapping: a file in mappings/ (without .yaml) whose kind is an encoder. */
    mapping: z.string().min(1, 'expected the name of an outbound mapping file in mappings/'),
    sender: PluginBlock,
    delivery: DeliveryPolicy.default(DeliveryPolicy.parse({})),
  })
  .strict();
export type DestinationConfig = z.infer<typeof DestinationConfig>;

export const ChannelConfig = z
  .object({
    id: Id,
    description: z.string().optional(),
    enabled: z.boolean().default(true),
    source: PluginBlock,
    /** Inbound mapping: a file in mappings/ (without .yaml). Without one, messages are stored as received. */
    mapping: z.string().min(1).optional(),
    destinations: z.array(DestinationConfig).default([]),
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
