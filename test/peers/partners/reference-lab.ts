import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { signatureHeader } from '../../../src/senders/http/auth/hmac.ts';
import { fieldErrors, type HttpPeer, isPdfBase64, jsonBody, PeerError, type PeerRequest, startHttpPeer, tinyPdf } from './http-peer.ts';

/**
 * The reference lab API of seed 001 (Docus): partners submit lab results as structured `data`
 * and/or a base64 PDF, to `/lab-results` (store and interpret) or `/lab-results/not-interpret`
 * (store only; `file_base64` required). Every request carries `x-api-key`, `x-team-id` and
 * `x-auth-key`. `partner_lab_id` is echoed back in the asynchronous interpretation report
 * delivery, a POST of the report PDF in base64 to the partner's delivery URL.
 *
 * The seed gives the flow, not the field list: the request fields here (patient, data.tests,
 * reference_id, accession_number) are this sandbox's reading of it, to be confirmed at
 * onboarding. What it checks is what the seed says plus a strict shape, so a mapping that
 * sends a misspelt or unknown field is refused (400) rather than silently accepted.
 */

export interface ReferenceLabCredentials {
  readonly apiKey: string;
  readonly teamId: string;
  readonly authKey: string;
}

/** What the sample channel docus-lab-results uses against `node test/peers/partners/start.ts`. */
export const SANDBOX_DOCUS: ReferenceLabCredentials = Object.freeze({
  apiKey: 'sandbox-docus-api-key',
  teamId: 'sandbox-team',
  authKey: 'sandbox-docus-auth-key',
});

export interface ReportDeliveryOptions {
  /** The partner's delivery endpoint, agreed at onboarding. */
  readonly url: string;
  /** The signature the partner verifies: HMAC-SHA256 of the body, `X-Docus-Signature: sha256=<hex>`. */
  readonly secret: string;
  readonly header?: string;
}

export interface ReferenceLabOptions {
  readonly port?: number;
  readonly credentials?: ReferenceLabCredentials;
  /** Where interpretation reports go; none: reports are made but not delivered. */
  readonly delivery?: ReportDeliveryOptions;
  /** Deliver each interpretation report as soon as it is made (else call `deliver`). */
  readonly autoDeliver?: boolean;
}

const date = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'expected YYYY-MM-DD');
const dateTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/, 'expected an ISO 8601 date-time with offset');
const nonEmpty = z.string().min(1, 'must not be empty');

const LabResultSubmission = z
  .object({
    partner_lab_id: nonEmpty.optional(),
    reference_id: nonEmpty.optional(),
    accession_number: nonEmpty.optional(),
    patient: z
      .object({
        id: nonEmpty,
        first_name: z.string().optional(),
        last_name: z.string().optional(),
        date_of_birth: date.optional(),
        sex: z.enum(['female', 'male', 'other', 'unknown']).optional(),
      })
      .strict(),
    data: z
      .object({
        collected_at: dateTime.optional(),
        panel: z.string().optional(),
        tests: z
          .array(
            z
              .object({
                code: nonEmpty,
                name: z.string().optional(),
                value: z.string({ error: 'expected the value as text' }),
                unit: z.string().optional(),
                reference_range: z.string().optional(),
                flags: z.array(z.string()).optional(),
                status: z.string().optional(),
                comments: z.array(z.string()).optional(),
              })
              .strict(),
          )
          .min(1, 'expected at least one test'),
      })
      .strict()
      .optional(),
    file_base64: z.string().refine(isPdfBase64, 'expected a base64-encoded PDF').optional(),
  })
  .strict();
type LabResultSubmission = z.infer<typeof LabResultSubmission>;

export interface StoredLabResult {
  readonly id: string;
  readonly interpretation: boolean;
  readonly submission: LabResultSubmission;
  report?: Buffer;
  delivered?: { status: number; body: string };
}

export interface ReportDeliveryRecord {
  readonly labResultId: string;
  readonly body: unknown;
  readonly status: number;
  readonly answer: string;
}

export interface ReferenceLabPeer extends HttpPeer {
  readonly labResults: ReadonlyMap<string, StoredLabResult>;
  readonly deliveries: readonly ReportDeliveryRecord[];
  /** Makes (if needed) and delivers the interpretation report of a lab result to `delivery.url`. */
  deliver(labResultId: string): Promise<ReportDeliveryRecord>;
  /** Sets the delivery endpoint (onboarding), e.g. once the partner's URL is known. */
  setDelivery(delivery: ReportDeliveryOptions | undefined): void;
}

const invalid = (message: string, errors?: unknown) => ({ error: 'validation_error', message, ...(errors ? { errors } : {}) });

export async function startReferenceLab(options: ReferenceLabOptions = {}): Promise<ReferenceLabPeer> {
  const credentials = options.credentials ?? SANDBOX_DOCUS;
  const labResults = new Map<string, StoredLabResult>();
  const byReference = new Map<string, string>();
  const deliveries: ReportDeliveryRecord[] = [];
  let delivery = options.delivery;

  const authenticate = (req: PeerRequest) => {
    const expected: Record<string, string> = { 'x-api-key': credentials.apiKey, 'x-team-id': credentials.teamId, 'x-auth-key': credentials.authKey };
    const wrong = Object.entries(expected).filter(([h, v]) => req.headers[h] !== v).map(([h]) => h);
    if (wrong.length > 0) {
      throw new PeerError(401, { error: 'unauthorized', message: `missing or invalid credentials: ${wrong.join(', ')}` });
    }
  };

  const deliver = async (id: string): Promise<ReportDeliveryRecord> => {
    const stored = labResults.get(id);
    if (!stored) throw new Error(`no lab result ${id}`);
    if (!delivery) throw new Error('no delivery URL configured');
    stored.report ??= tinyPdf(`Docus interpretation report ${id}`);
    const s = stored.submission;
    const body = {
      event: 'interpretation_report.ready',
      lab_result_id: id,
      // Echoed unchanged, for the partner's multi-lab routing.
      ...(s.partner_lab_id === undefined ? {} : { partner_lab_id: s.partner_lab_id }),
      ...(s.reference_id === undefined ? {} : { reference_id: s.reference_id }),
      ...(s.accession_number === undefined ? {} : { accession_number: s.accession_number }),
      patient: s.patient,
      report: { content_type: 'application/pdf', file_name: `interpretation-${id}.pdf`, file_base64: stored.report.toString('base64') },
      generated_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    const text = JSON.stringify(body);
    const [name, value] = signatureHeader({ secret: delivery.secret, header: delivery.header ?? 'X-Docus-Signature', prefix: 'sha256=', encoding: 'hex' }, text);
    const res = await fetch(delivery.url, { method: 'POST', headers: { 'content-type': 'application/json', [name]: value }, body: text });
    const record = { labResultId: id, body, status: res.status, answer: await res.text() };
    stored.delivered = { status: record.status, body: record.answer };
    deliveries.push(record);
    return record;
  };

  const submit = (interpretation: boolean) => (req: PeerRequest) => {
    authenticate(req);
    const parsed = LabResultSubmission.safeParse(jsonBody(req, invalid));
    if (!parsed.success) throw new PeerError(400, invalid('the submission is not valid', fieldErrors(parsed.error)));
    const s = parsed.data;
    if (s.data === undefined && s.file_base64 === undefined) throw new PeerError(400, invalid('at least one of data or file_base64 must be provided'));
    if (!interpretation && s.file_base64 === undefined) throw new PeerError(400, invalid('file_base64 is required for results stored without interpretation'));
    const existing = s.reference_id === undefined ? undefined : byReference.get(s.reference_id);
    if (existing) {
      throw new PeerError(409, { error: 'duplicate', message: `a lab result with reference_id ${s.reference_id} already exists`, lab_result_id: existing });
    }
    const id = `lr_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    labResults.set(id, { id, interpretation, submission: s });
    if (s.reference_id !== undefined) byReference.set(s.reference_id, id);
    if (interpretation && options.autoDeliver && delivery) setImmediate(() => void deliver(id).catch(() => {}));
    return {
      status: 201,
      body: { lab_result_id: id, status: 'received', interpretation: interpretation ? 'requested' : 'not_requested', ...(s.partner_lab_id ? { partner_lab_id: s.partner_lab_id } : {}) },
    };
  };

  const peer = await startHttpPeer(
    [
      { method: 'POST', pattern: '/lab-results', handle: submit(true) },
      { method: 'POST', pattern: '/lab-results/not-interpret', handle: submit(false) },
      {
        method: 'GET',
        pattern: '/lab-results/:id',
        handle: (req) => {
          authenticate(req);
          const r = labResults.get(req.params['id']!);
          if (!r) throw new PeerError(404, { error: 'not_found', message: 'no such lab result' });
          return { status: 200, body: { lab_result_id: r.id, interpretation: r.interpretation ? 'requested' : 'not_requested', ...r.submission } };
        },
      },
    ],
    { ...(options.port === undefined ? {} : { port: options.port }) },
  );
  return Object.assign(peer, {
    labResults,
    deliveries,
    deliver,
    setDelivery: (d: ReportDeliveryOptions | undefined) => {
      delivery = d;
    },
  });
}
