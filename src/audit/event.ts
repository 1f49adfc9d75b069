import { z } from 'zod';

/** How an audited action ended: done, refused for lack of rights, or failed (bad credentials, bad input, an error). */
export const AuditOutcome = z.enum(['success', 'denied', 'failure']);
export type AuditOutcome = z.infer<typeof AuditOutcome>;

/**
 * One audited action: who (the token's name, or the source that was called), what (an action
 * such as `message.content.read`, and its target), from where, how it ended. Never health data:
 * ids, names of tokens and channels, reasons.
 */
export const AuditEvent = z
  .object({
    /** Dotted name of the action: `message.read`, `token.create`, `auth.failed`, `source.signature.refused`, … */
    action: z.string().regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/),
    outcome: AuditOutcome,
    /** The token's name, `bootstrap-admin`, `source:<channel>`, `cli`, or `anonymous`. */
    actor: z.string().min(1),
    /** What was acted on: `message:<id>`, `channel:<id>`, `token:<id>`, `configuration`, … */
    target: z.string().optional(),
    /** The client's address, when the action came over the network. */
    ip: z.string().optional(),
    /** Context without health data: a reason, counts, a query's parameters. */
    detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
  })
  .strict();
export type AuditEvent = z.infer<typeof AuditEvent>;

/** Where audited actions go: the store's audit trail in the engine. */
export interface AuditSink {
  /** Resolves once the event is durable; rejects when it cannot be written (the action must then fail). */
  record(event: AuditEvent): Promise<void>;
}
