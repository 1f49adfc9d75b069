/**
 * The shapes of the admin API's requests and answers: the handlers parse with these and type
 * their answers by them, and the OpenAPI description (openapi.ts) is generated from them.
 */
import { z } from 'zod';
import { Role, Tenant } from '../access/roles.ts';
import { TokenRecord, TokenRequest } from '../access/tokens.ts';
import { AuditRow } from '../audit/chain.ts';
import { AuditOutcome } from '../audit/event.ts';
import { ChannelCounts, MessageStatus, MessageSummary, MessageView } from '../store/types.ts';

export const isoTime = z.iso.datetime({ offset: true, error: 'expected an ISO 8601 date-time such as 2026-12-07T08:00:00Z' });

export const OperationOutcome = z
  .object({
    resourceType: z.literal('OperationOutcome'),
    issue: z.array(
      z.object({
        severity: z.enum(['error', 'warning']),
        code: z.string(),
        diagnostics: z.string(),
        expression: z.array(z.string()).optional(),
        details: z.object({ text: z.string() }).optional(),
      }),
    ),
  })
  .describe('What went wrong: which field, what was expected (FHIR OperationOutcome)');

// --- engine
export const WhoAmI = z.object({ name: z.string(), role: Role, tenant: Tenant.optional() });

export const AdminChannelView = z.object({
  id: z.string(),
  description: z.string().optional(),
  tenant: z.string().optional(),
  state: z.string(),
  source: z.string(),
  /** Mapping versions in use (name@hash): inbound and per destination. */
  mappings: z.record(z.string(), z.string()),
  destinations: z.array(
    z.object({ id: z.string(), sender: z.string(), state: z.string(), lastOutcome: z.string().optional(), lastCode: z.string().optional() }),
  ),
});
export type AdminChannelView = z.infer<typeof AdminChannelView>;

export const ChannelsAnswer = z.object({
  channels: z.array(AdminChannelView.extend({ messages: z.number().int(), deliveries: ChannelCounts.shape.byStatus })),
});

export const HealthView = z.object({
  status: z.string(),
  version: z.string(),
  components: z.record(z.string(), z.string()),
  uptime_seconds: z.number().int(),
  details: z.record(z.string(), z.record(z.string(), z.union([z.string(), z.number()]))).optional(),
});
export type HealthView = z.infer<typeof HealthView>;

const Counts = z.object({
  received: z.number(),
  filtered: z.number(),
  duplicate: z.number(),
  refused: z.number(),
  acknowledged: z.number(),
  rejected: z.number(),
  dead: z.number(),
});
export const ActivityAnswer = z.object({
  channels: z.record(
    z.string(),
    z.object({
      perMinute: z.array(z.number()).describe('messages received per minute, the last 15 minutes, oldest first'),
      hour: Counts,
      day: Counts,
      since: z.string().optional().describe('when this instance began counting, if less than a day ago'),
      backlog: z.record(z.string(), z.number()).describe('pending deliveries per destination'),
    }),
  ),
});

export const ReloadAnswer = z.object({
  applied: z.boolean(),
  issues: z.array(z.object({ file: z.string(), path: z.string(), line: z.number().int().optional(), message: z.string(), code: z.string() })),
});

// --- messages
const STATUSES = MessageStatus.options;
export const MessageQuery = z
  .object({
    channel: z.string().optional(),
    status: z.enum(STATUSES).optional(),
    since: isoTime.optional(),
    until: isoTime.optional(),
    source: z.string().min(1).max(200).optional().describe('the source id of the result (a platform result id, an inbound MSH-10)'),
    patient: z.string().min(1).max(200).optional().describe("the patient's id"),
    controlId: z.string().min(1).max(200).optional().describe('a control id (MSH-10) one of its deliveries was sent with'),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().regex(/^[0-9a-z]+$/, 'expected a cursor from a previous page').optional(),
  })
  .strict();

const Currency = z.object({ current: z.boolean(), supersededBy: z.string().optional() });
export const MessagesPage = z.object({ messages: z.array(MessageSummary.extend(Currency.shape)), nextCursor: z.string().optional() });

/** A message; its content (rawInput, canonical, payload, response) only for integrators and up. */
export const MessageAnswer = MessageView.partial({ rawInput: true }).extend(Currency.shape);

export const ResendQuery = z.object({ force: z.enum(['true', 'false'], { error: "expected 'true' or 'false'" }).optional() }).strict();
export const ResendAnswer = z.object({ messageId: z.string(), requeued: z.number().int(), broughtForward: z.number().int() });
export const DismissAnswer = z.object({ messageId: z.string(), dismissed: z.number().int() });

// --- tokens
export { TokenRequest };
export const ListedToken = TokenRecord.extend({ state: z.enum(['active', 'expired', 'revoked']) });
export const TokensAnswer = z.object({ tokens: z.array(ListedToken) });
export const TokenCreated = ListedToken.extend({ token: z.string().describe('the secret: shown in this answer only') });

// --- audit
export const AuditQueryParams = z
  .object({
    since: isoTime.optional(),
    until: isoTime.optional(),
    actor: z.string().min(1).optional(),
    action: z.string().regex(/^[a-z][a-z0-9.-]*$/, "expected an action ('message.content.read') or a prefix ending in '.' ('message.')").optional(),
    outcome: AuditOutcome.optional(),
    target: z.string().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    before: z.coerce.number().int().positive({ error: 'expected the seq of a row, from a previous page' }).optional(),
  })
  .strict();
export const AuditPage = z.object({ events: z.array(AuditRow), nextBefore: z.number().int().optional() });
export const VerifyAnswer = z.object({
  ok: z.boolean(),
  rows: z.number().int(),
  head: z.object({ seq: z.number().int(), hash: z.string() }),
  problems: z.array(z.object({ seq: z.number().int(), problem: z.enum(['edited', 'deleted', 'unverifiable', 'anchor']), message: z.string() })),
});

// --- workbench
const Files = z.record(z.string(), z.string({ error: 'expected the text of the file' }));
export const FileQuery = z.object({ path: z.string().min(1) }).strict();
export const ChannelQuery = z.object({ channel: z.string().min(1) }).strict();
export const FilesAnswer = z.object({ files: z.array(z.string()) });
export const FileAnswer = z.object({ path: z.string(), text: z.string() });
export const SamplesAnswer = z.object({ samples: z.array(z.object({ name: z.string(), format: z.enum(['json', 'hl7v2']), invalid: z.boolean(), text: z.string() })) });
export const PreviewBody = z
  .object({
    channel: z.string().min(1, 'expected a channel id'),
    /** Edited files by workbench path (`mappings/oru-r01-lis.yaml`); the others as on disk. */
    files: Files.default({}),
    /** A sample's name (from GET /api/workbench/samples), or the input's text. */
    sample: z.string().optional(),
    input: z.string().optional(),
  })
  .strict()
  .refine((b) => (b.sample === undefined) !== (b.input === undefined), { message: 'expected either sample or input', path: ['input'] });
export const PreviewAnswer = z.object({
  issues: ReloadAnswer.shape.issues,
  missing: z.string().optional(),
  result: z
    .object({
      reports: z.array(
        z.object({
          canonical: z.unknown().optional(),
          filteredBy: z.string().optional(),
          outputs: z.array(
            z.object({ destination: z.string(), contentType: z.string(), format: z.enum(['hl7v2', 'json', 'text']), payload: z.string(), warnings: z.array(z.string()).optional() }),
          ),
        }),
      ),
      refused: z.object({ code: z.string(), issues: z.array(z.object({ path: z.string(), message: z.string() })) }).optional(),
      golden: z.array(z.object({ file: z.string(), status: z.string(), diff: z.array(z.string()) })).optional(),
    })
    .optional(),
});
export const SaveBody = z.object({ files: Files.refine((f) => Object.keys(f).length > 0, 'expected at least one file') }).strict();
export const SaveAnswer = z.object({ saved: z.boolean(), files: z.array(z.string()).optional(), issues: ReloadAnswer.shape.issues.optional(), reload: ReloadAnswer.optional() });
