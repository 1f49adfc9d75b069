import { z } from 'zod';

/**
 * The canonical lab report: the one shape between every input and every output.
 * Values, units, ranges, flags and statuses are carried exactly as the source sent them;
 * nothing here is recalculated or interpreted.
 */

/** ISO 8601 date-time with or without offset, or a date; kept as text so the offset survives. */
export const IsoDateTime = z
  .string()
  .regex(
    // Fields in their ranges (month 01-12, hour 00-23, second 60 for a leap second): the text
    // goes out as it is (HL7 DTM), so an impossible date must be refused here.
    /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])([T ]([01]\d|2[0-3]):[0-5]\d(:([0-5]\d|60)(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)?)?)?)?$/,
    'expected an ISO 8601 date-time such as 2026-11-20T09:13:41+01:00',
  );

/**
 * FHIR Observation.status / DiagnosticReport.status. A source status reaches the report only
 * through a mapping's status table; one the table does not know is refused. `unknown` ("the
 * source does not say") therefore only comes from a table row an integrator wrote: FHIR
 * carries it as `unknown`, and the ORU^R01 encoder refuses it unless the source sent an HL7
 * code (tables 0085 and 0123 have none for it), so it is never sent as final.
 */
export const ResultStatus = z.enum(['registered', 'preliminary', 'final', 'corrected', 'amended', 'cancelled', 'entered-in-error', 'unknown']);
export type ResultStatus = z.infer<typeof ResultStatus>;

/** An HL7 v2 HD (assigning authority, CX-4; EI-2..4 of an entity identifier) as sent. */
export const AssigningAuthority = z.object({
  namespace: z.string().optional(),
  /** An OID (type ISO), URI, UUID … */
  universalId: z.string().optional(),
  /** HL7 table 0301: ISO, URI, UUID, DNS … */
  universalIdType: z.string().optional(),
});
export type AssigningAuthority = z.infer<typeof AssigningAuthority>;

export const Identifier = z.object({
  value: z.string().min(1),
  /** URI (FHIR) or assigning authority (HL7 CX-4). */
  system: z.string().optional(),
  /** HL7 table 0203 identifier type, e.g. MR, PI. */
  type: z.string().optional(),
  /** The HL7 v2 assigning authority (CX-4, an HD) as sent, for outputs that carry it whole. */
  assigningAuthority: AssigningAuthority.optional(),
});
export type Identifier = z.infer<typeof Identifier>;

/**
 * HL7 v2 highlighting in a text (`\H\` on, `\N\` normal text), each escape where it was
 * sent: `at` is the offset in the plain text. FHIR has no highlighting; the ORU^R01 writes
 * them back.
 */
export const Highlighting = z.array(z.object({ at: z.number().int().nonnegative(), escape: z.enum(['H', 'N']) }));
export type Highlighting = z.infer<typeof Highlighting>;

export const Coding = z.object({
  code: z.string().min(1),
  display: z.string().optional(),
  /** Coding system: 'LN' / 'http://loinc.org', 'L' for local, or an HL7 v2 coding system name. */
  system: z.string().optional(),
  /** Version of the coding system, as sent (HL7 v2 CWE-7, -8, -13). */
  version: z.string().optional(),
  /** Highlighting in `display` as sent (HL7 v2 `\H\`/`\N\` in CWE-2, -5, -11). */
  displayHighlighting: Highlighting.optional(),
});
export type Coding = z.infer<typeof Coding>;

/**
 * A coded element with every coding the source sent for one concept: the first one, the
 * others in the order sent (HL7 v2 CE/CWE/CNE alternate triplets), and the original text.
 */
export const CodedConcept = Coding.extend({
  alternates: z.array(Coding).optional(),
  /** The text as the user or device gave it (HL7 v2 CWE-9). */
  originalText: z.string().optional(),
  /** Highlighting in `originalText` as sent (CWE-9). */
  originalTextHighlighting: Highlighting.optional(),
  /** HL7 v2 components (1-based) sent as the HL7 null `""`: no value, written back in place by the ORU^R01. */
  nullComponents: z.array(z.number().int().positive()).optional(),
  /**
   * Sent with text but no code (HL7 v2 CWE-1 empty, CWE-2 the text): `code` holds that text.
   * The ORU^R01 writes it back as text; FHIR gives it as `text` only, never as a code.
   */
  textOnly: z.literal(true).optional(),
});
export type CodedConcept = z.infer<typeof CodedConcept>;

export const Patient = z.object({
  /** The source platform's patient id. */
  id: z.string().optional(),
  identifiers: z.array(Identifier).default([]),
  family: z.string().optional(),
  given: z.array(z.string()).default([]),
  /** HL7 v2 PID-5 components (1 family, 2 given, 3 further given) sent as the HL7 null `""`: no value, written back in place by the ORU^R01. */
  nameNulls: z.array(z.number().int().min(1).max(3)).optional(),
  /** HL7 v2 `\H\`/`\N\` in PID-5 as sent: in `family`, and in each of `given` (same order). */
  nameHighlighting: z.object({ family: Highlighting.optional(), given: z.array(Highlighting).optional() }).optional(),
  birthDate: z.string().regex(/^\d{4}(-\d{2}(-\d{2})?)?$/, 'expected YYYY, YYYY-MM or YYYY-MM-DD').optional(),
  sex: z.enum(['female', 'male', 'other', 'unknown']).optional(),
});
export type Patient = z.infer<typeof Patient>;

export const Device = z.object({
  id: z.string().optional(),
  model: z.string().optional(),
  serial: z.string().optional(),
  site: z.string().optional(),
});
export type Device = z.infer<typeof Device>;

export const Observation = z.object({
  /** The analyser's or source's own code for the analyte, with any other codes sent for it. */
  code: CodedConcept,
  /** LOINC where a mapping knows it. */
  loinc: Coding.optional(),
  /** The value exactly as sent: '5.4', '<0.5', '>14.0', 'POSITIVE', 'see comment'. */
  value: z.string(),
  unit: z.string().optional(),
  /** UCUM code where a mapping knows it. */
  ucum: z.string().optional(),
  /** The unit as a coded element, every triplet and the text as sent (HL7 v2 OBX-6 CE/CWE). */
  unitCoding: CodedConcept.optional(),
  referenceRange: z.string().optional(),
  /** The analyser's own abnormal flags (L, H, LL, HH, A, AA, N …), verbatim. */
  flags: z.array(z.string()).default([]),
  /**
   * The flags as coded elements where the source coded them (HL7 v2.7 OBX-8 CWE), one per
   * flag in `flags`' order; a flag sent as a bare code is `{ code }`.
   */
  flagCodings: z.array(CodedConcept).optional(),
  status: ResultStatus,
  /** The status as the source wrote it (HL7 v2 OBX-11 code, platform status). */
  statusText: z.string().optional(),
  observedAt: IsoDateTime.optional(),
  comments: z.array(z.string()).default([]),
  /** The highlighting of each comment, in `comments`' order (`[]` for one without); only when one has some. */
  commentHighlighting: z.array(Highlighting).optional(),
  /**
   * Fields the source sent as the HL7 v2 null `""` ("delete the value you hold"), which an
   * empty field ("not sent") is not: such a field is left out here (`value` is ''), the ORU
   * writes `""` back, FHIR leaves the element out.
   */
  nulls: z.array(z.enum(['value', 'unit', 'referenceRange', 'flags', 'observedAt', 'operator', 'device'])).optional(),
  /** The value type the source declared (HL7 v2 OBX-2: NM, SN, ST, TX, FT, CWE …), as sent. */
  valueType: z.string().optional(),
  /** The code of a coded value (HL7 v2 CE/CWE/CNE); `value` holds its text, or the code when no text was sent. */
  valueCoding: CodedConcept.optional(),
  /** The further repetitions of a coded value (HL7 v2 OBX-5 repeated), each a concept of its own, in the order sent. */
  moreValueCodings: z.array(CodedConcept).optional(),
  /**
   * Highlighting in a text value (HL7 v2 `\H\` on, `\N\` normal text), each where it was sent:
   * `at` is the offset in `value`. `value` itself is the plain text; the ORU writes these back.
   */
  highlighting: Highlighting.optional(),
  /** HL7 v2 OBX-4 observation sub-id, as sent: ties results of one isolate or one repeat together. */
  subId: z.string().optional(),
});
export type Observation = z.infer<typeof Observation>;

export const Attachment = z.object({
  contentType: z.string().min(1),
  title: z.string().optional(),
  /** Base64 of the document, as received. */
  dataBase64: z.string().min(1),
});
export type Attachment = z.infer<typeof Attachment>;

export const Provenance = z.object({
  kind: z.enum(['platform-event', 'hl7v2', 'rest']),
  /** Event id, MSH-10, submission id. */
  eventId: z.string().optional(),
  eventType: z.string().optional(),
  occurredAt: IsoDateTime.optional(),
  tenant: z.string().optional(),
});

export const LabReport = z.object({
  /** The source's result id; with `version`, the idempotency key of intake. */
  id: z.string().min(1),
  version: z.number().int().positive(),
  /** True for a correction of an earlier version (result.updated, HL7 status C). */
  correction: z.boolean(),
  status: ResultStatus,
  /** The report status as the source wrote it (HL7 v2 OBR-25 code). */
  statusText: z.string().optional(),
  patient: Patient.optional(),
  encounter: z.object({ id: z.string().min(1) }).optional(),
  order: z
    .object({
      id: z.string().optional(),
      accession: z.string().optional(),
      /** Who assigned the placer's (`id`) and the filler's (`accession`) number: HL7 v2 EI-2..4 as sent. */
      placerAuthority: AssigningAuthority.optional(),
      fillerAuthority: AssigningAuthority.optional(),
    })
    .optional(),
  device: Device.optional(),
  operator: z.object({ id: z.string().optional(), name: z.string().optional() }).optional(),
  panel: CodedConcept.optional(),
  observedAt: IsoDateTime.optional(),
  issuedAt: IsoDateTime.optional(),
  observations: z.array(Observation),
  attachments: z.array(Attachment).default([]),
  /**
   * Fields of the report the source sent as the HL7 v2 null `""` (see Observation.nulls): left
   * out here, written back as `""` by the ORU^R01, left out by FHIR.
   */
  nulls: z
    .array(z.enum(['patientIdentifiers', 'patientName', 'birthDate', 'sex', 'encounter', 'placerNumber', 'fillerNumber', 'observedAt', 'issuedAt']))
    .optional(),
  /** Notes on the report as a whole (HL7 v2 NTE after the OBR), verbatim, one per note. */
  comments: z.array(z.string()).optional(),
  /** The highlighting of each comment, in `comments`' order (`[]` for one without); only when one has some. */
  commentHighlighting: z.array(Highlighting).optional(),
  provenance: Provenance,
});
export type LabReport = z.infer<typeof LabReport>;

/**
 * The key that orders deliveries: results for one patient (else encounter, else result)
 * go out in order on one lane.
 */
export function partitionKey(report: LabReport): string {
  if (report.patient?.id) return `patient:${report.patient.id}`;
  const firstId = report.patient?.identifiers[0];
  if (firstId) return `patient:${firstId.system ?? ''}|${firstId.value}`;
  if (report.encounter) return `encounter:${report.encounter.id}`;
  return `result:${report.id}`;
}
