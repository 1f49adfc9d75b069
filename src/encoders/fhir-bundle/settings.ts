import { z } from 'zod';

const Uri = z.string().regex(/^[a-z][a-z0-9+.-]*:\S+$/i, 'expected an absolute URI such as https://example.org/fhir/sid/mrn or urn:oid:1.2.3');

/** Settings of the FHIR R4 transaction Bundle encoder, read from a file under mappings/. */
export const FhirBundleSettings = z
  .object({
    /**
     * Canonical identifier systems (HL7 assigning authorities such as MRN, CATENIX) → FHIR
     * identifier system URIs. Unlisted ones become `urn:conduit:identifier:<name>`.
     */
    identifierSystems: z.record(z.string(), Uri).default({}),
    /**
     * Which patient identifier the EHR matches on (conditional create): the first identifier
     * of this canonical type (PI platform id, MR external id), else the first one.
     */
    matchPatientOn: z.string().min(1).default('MR'),
    resultIdentifierSystem: Uri.default('urn:conduit:result-id'),
    observationIdentifierSystem: Uri.default('urn:conduit:observation-id'),
    encounterIdentifierSystem: Uri.default('urn:conduit:encounter-id'),
    /** Identifier system of the platform's own device id (HL7 v2: OBX-18 EI-1); Devices are matched on it. */
    deviceIdSystem: Uri.default('urn:conduit:device-id'),
    /** Identifier system of device serial numbers; the match when a report has no device id. */
    deviceIdentifierSystem: Uri.default('urn:conduit:device-serial'),
    placerOrderIdentifierSystem: Uri.default('urn:conduit:placer-order'),
    fillerOrderIdentifierSystem: Uri.default('urn:conduit:accession'),
    /** CodeSystem URI of the source's own analyte and panel codes. */
    localCodeSystem: Uri.default('urn:conduit:code:local'),
    /**
     * HL7 v2 coding system names (CWE-3, e.g. a lab's `99RIV`) → FHIR CodeSystem URIs, before
     * the standard ones (LN, SCT, UCUM, HL7nnnn …). Unlisted local names become
     * `<localCodeSystem>:<name>`.
     */
    codeSystems: z.record(z.string().min(1), Uri).default({}),
    /** Encounter.class (v3-ActCode) of encounters created for results: AMB ambulatory by default. */
    encounterClass: z.object({ code: z.string(), display: z.string().optional() }).strict().default({ code: 'AMB', display: 'ambulatory' }),
    /** DiagnosticReport.code when the report names no panel and has several results. */
    defaultReportCode: z
      .object({ system: Uri, code: z.string(), display: z.string().optional() })
      .strict()
      .default({ system: 'http://loinc.org', code: '11502-2', display: 'Laboratory report' }),
    /**
     * Offset given to date-times that have a time but no zone (FHIR requires one), e.g. from an
     * HL7 v2 sender that omits it. Times that have an offset keep theirs.
     */
    offsetForLocalTimes: z.string().regex(/^(Z|[+-]\d{2}:\d{2})$/, "expected 'Z' or an offset such as +01:00").default('Z'),
    /**
     * Units as sent → UCUM codes, before the `units` table (which replaces this list; entries
     * here override it). A numeric value whose unit is known gets system and code.
     */
    ucumUnits: z.record(z.string(), z.string()).default({}),
    /**
     * Source analyte codes → LOINC when the canonical observation has none, before the
     * `analytes` table (which replaces this list; entries here override it).
     */
    loinc: z.record(z.string(), z.object({ code: z.string().regex(/^\d{1,7}-\d$/, 'expected a LOINC code such as 2345-7'), display: z.string().optional() }).strict()).default({}),
  })
  .strict();
export type FhirBundleSettings = z.infer<typeof FhirBundleSettings>;
