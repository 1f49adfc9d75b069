import { z } from 'zod';
import { ResultStatus } from '../../canonical/report.ts';

/** Settings of the platform-result mapping, read from its file under mappings/. */
export const PlatformResultSettings = z
  .object({
    /** Identifier system (FHIR) / assigning authority (HL7 CX-4) of the platform's patient id. */
    patientIdSystem: z.string().min(1).default('CATENIX'),
    /** Identifier system / assigning authority of `patient.external_id` (the MRN at the clinic). */
    externalIdSystem: z.string().min(1).default('MRN'),
    /** Platform status → canonical result status; unknown statuses are refused with 422. */
    statuses: z.record(z.string(), ResultStatus).default({
      final: 'final',
      preliminary: 'preliminary',
      corrected: 'corrected',
      amended: 'amended',
      cancelled: 'cancelled',
      'entered-in-error': 'entered-in-error',
      registered: 'registered',
      pending: 'registered',
    }),
  })
  .strict();
export type PlatformResultSettings = z.infer<typeof PlatformResultSettings>;
