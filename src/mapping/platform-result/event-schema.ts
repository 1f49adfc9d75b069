import { z } from 'zod';
import { IsoDateTime } from '../../canonical/report.ts';

/**
 * Platform result events, compact and full forms (shared/platform-events.md). Unknown
 * fields are allowed: the platform adds fields over time, and they stay in the raw input.
 */

const text = z.string().min(1, 'must not be empty');

export const PlatformObservation = z.object({
  analyte: text,
  display: z.string().optional(),
  value: z.string({ error: 'expected the value as a string, e.g. "5.4" or "<0.5"' }).min(1, 'must not be empty; send the result as text, e.g. "5.4" or "NEGATIVE"'),
  unit: z.string().optional(),
  reference_range: z.string().optional(),
  flags: z.array(z.string()).optional(),
  status: z.string().optional(),
  observed_at: IsoDateTime.optional(),
  comment: z.string().optional(),
});

export const PlatformResult = z
  .object({
    id: text,
    version: z.number().int().positive().optional(),
    status: text,
    encounter_ref: z.string().optional(),
    order_ref: z.string().optional(),
    accession: z.string().optional(),
    observed_at: IsoDateTime.optional(),
    issued_at: IsoDateTime.optional(),
    patient: z
      .object({
        id: z.string().optional(),
        external_id: z.string().optional(),
        family: z.string().optional(),
        given: z.array(z.string()).optional(),
        birth_date: z.string().regex(/^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/, 'expected YYYY-MM-DD').optional(),
        sex: z.string().optional(),
      })
      .optional(),
    device_ref: z.string().optional(),
    device: z
      .object({ id: z.string().optional(), model: z.string().optional(), serial: z.string().optional(), site: z.string().optional() })
      .optional(),
    operator: z.object({ id: z.string().optional(), name: z.string().optional() }).optional(),
    panel: z.object({ code: text, display: z.string().optional() }).optional(),
    // Compact form: one observation inline.
    analyte: z.string().optional(),
    value: z.string({ error: 'expected the value as a string, e.g. "5.4" or "<0.5"' }).min(1, 'must not be empty; send the result as text, e.g. "5.4" or "NEGATIVE"').optional(),
    unit: z.string().optional(),
    reference_range: z.string().optional(),
    flags: z.array(z.string()).optional(),
    // Full form.
    observations: z.array(PlatformObservation).optional(),
    documents: z
      .array(
        z.object({
          content_type: text,
          title: z.string().optional(),
          data_base64: z.string().regex(/^[A-Za-z0-9+/\r\n]*={0,2}$/, 'expected base64 data').min(1),
        }),
      )
      .optional(),
  })
  .superRefine((r, ctx) => {
    if (r.observations === undefined && r.analyte === undefined && (r.documents?.length ?? 0) === 0) {
      ctx.addIssue({ code: 'custom', path: ['observations'], message: 'expected observations (full form) or analyte and value (compact form)' });
    }
    if (r.analyte !== undefined && r.value === undefined) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'required with analyte (compact form)' });
    }
  });

export const PlatformEvent = z.object({
  id: z.string().optional(),
  event: z.enum(['result.created', 'result.updated'], { error: "expected 'result.created' or 'result.updated'" }),
  occurred_at: IsoDateTime.optional(),
  tenant: z.string().optional(),
  result: PlatformResult,
});
export type PlatformEvent = z.infer<typeof PlatformEvent>;
