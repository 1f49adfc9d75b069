import { z } from 'zod';
import { type Patient, ResultStatus } from '../../canonical/report.ts';

/**
 * HL7 table 0085, observation result status (OBX-11), v2.5.1 section 7.4.2.11, with the
 * v2.6+ additions A and B. Mapped as in the HL7 v2-to-FHIR ConceptMap, except that the
 * canonical model has no `partial`: S (partial) becomes preliminary.
 */
export const TABLE_0085: Readonly<Record<string, ResultStatus>> = Object.freeze({
  /** Amended based on adjustments by the placer (v2.6+). */
  A: 'amended',
  /** Appended report: final results reviewed and further information given (v2.6+). */
  B: 'amended',
  /** A correction that replaces a final result. */
  C: 'corrected',
  /** Deletes the OBX record. */
  D: 'entered-in-error',
  F: 'final',
  /** Specimen in the lab, results pending. */
  I: 'registered',
  /** Not asked: the observation was not sought. */
  N: 'cancelled',
  /** Order detail description only, no result. */
  O: 'registered',
  P: 'preliminary',
  /** Results entered, not verified. */
  R: 'preliminary',
  /** Partial results. */
  S: 'preliminary',
  /** Status changed to final without retransmitting the result. */
  U: 'final',
  /** Posted as wrong, e.g. sent for the wrong patient. */
  W: 'entered-in-error',
  /** Results cannot be obtained for this observation. */
  X: 'cancelled',
});

/** HL7 table 0123, result status (OBR-25), v2.5.1 section 4.5.3.25. */
export const TABLE_0123: Readonly<Record<string, ResultStatus>> = Object.freeze({
  /** Order received; specimen not yet received. */
  O: 'registered',
  /** No results available; specimen received, procedure incomplete. */
  I: 'registered',
  /** No results available; procedure scheduled, not done. */
  S: 'registered',
  /** Some, but not all, results available (FHIR `partial`). */
  A: 'preliminary',
  P: 'preliminary',
  /** Results stored, not yet verified (FHIR `partial`). */
  R: 'preliminary',
  C: 'corrected',
  F: 'final',
  /** No results available; order cancelled. */
  X: 'cancelled',
  // Y (no order on record for this test) and Z (no record of this patient) answer queries:
  // they say nothing about a result, so an ORU^R01 carrying them is refused unless a
  // `resultStatuses` row says what they mean.
});

type Sex = NonNullable<Patient['sex']>;
const Sex = z.enum(['female', 'male', 'other', 'unknown']);

/** HL7 table 0001, administrative sex (PID-8). A is ambiguous, N not applicable. */
export const TABLE_0001: Readonly<Record<string, Sex>> = Object.freeze({
  F: 'female',
  M: 'male',
  O: 'other',
  U: 'unknown',
  A: 'other',
  N: 'unknown',
});

/** Settings of the hl7v2-oru mapping, read from its file under mappings/. */
export const Hl7v2OruSettings = z
  .object({
    /** MSH-9 message code ^ trigger event accepted; anything else is refused (AE). */
    acceptedMessageTypes: z
      .array(z.string().regex(/^[A-Z0-9]{3}\^[A-Z0-9]{3}$/, 'expected a message type such as ORU^R01'))
      .min(1)
      .default(['ORU^R01']),
    /** MSH-12 versions accepted. The mapping reads fields that mean the same from v2.3 to v2.7.1. */
    acceptedVersions: z
      .array(z.string().regex(/^2\.\d(\.\d)?$/, 'expected an HL7 v2 version such as 2.5.1'))
      .min(1)
      .default(['2.3', '2.3.1', '2.4', '2.5', '2.5.1', '2.6', '2.7', '2.7.1']),
    /**
     * UTC offset given to a date-time sent without one (MSH-7, OBR-7, OBR-22, OBX-14 …).
     * Unset, such a time stays local (valid ISO 8601, not a valid FHIR dateTime).
     */
    defaultTimezoneOffset: z
      .string()
      .regex(/^(Z|[+-](0\d|1[0-4]):[0-5]\d)$/, "expected a UTC offset such as '+01:00' or 'Z'")
      .optional(),
    /**
     * Assigning authority (CX-4 namespace or universal id) → identifier system, e.g. a URI
     * for FHIR. Authorities not listed get their universal id as a URI (ISO → `urn:oid:…`,
     * UUID → `urn:uuid:…`, URI as sent), else keep their name as the system.
     */
    patientIdentifierSystems: z.record(z.string().min(1), z.string().min(1)).default({}),
    /**
     * Whether an order without a PID before it is accepted (a report without a patient).
     * Off by default: a result that names no patient cannot be filed safely, so it is refused
     * (AE, ERR naming PID). Turn it on only for senders whose results have no patient, such
     * as quality-control or environmental samples.
     */
    allowMissingPatient: z.boolean().default(false),
    /**
     * How a report is identified. `order`: the filler order number (OBR-3, else ORC-3, else
     * the placer's OBR-2 / ORC-2); orders of one message that share a number are told apart
     * by their OBR-4 code. `order-and-service`: always number + OBR-4 code, for senders that
     * reuse one accession number for every test of a specimen.
     */
    reportIdentity: z.enum(['order', 'order-and-service']).default('order'),
    /**
     * Extra or overriding OBX-11 codes on top of HL7 table 0085, e.g. a LIS's own `Z: final`.
     * A code in neither is refused (AE naming OBX-11 and the code).
     */
    observationStatuses: z.record(z.string().min(1), ResultStatus).default({}),
    /** Extra or overriding OBR-25 codes on top of HL7 table 0123; a code in neither is refused. */
    resultStatuses: z.record(z.string().min(1), ResultStatus).default({}),
    /** Extra or overriding PID-8 codes on top of HL7 table 0001, e.g. `X: other`. */
    administrativeSex: z.record(z.string().min(1), Sex).default({}),
  })
  .strict();
export type Hl7v2OruSettings = z.infer<typeof Hl7v2OruSettings>;
