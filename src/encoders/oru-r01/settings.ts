import { z } from 'zod';

const Hd = z.union([z.string(), z.object({ namespace: z.string(), universalId: z.string().optional(), universalIdType: z.string().optional() }).strict()]);

/** Field settings of the ORU^R01 encoder, read from a file under mappings/. */
export const OruR01Settings = z
  .object({
    /** MSH-3 */ sendingApplication: Hd.default('CONDUIT'),
    /** MSH-4 */ sendingFacility: Hd.optional(),
    /** MSH-5 */ receivingApplication: Hd.optional(),
    /** MSH-6 */ receivingFacility: Hd.optional(),
    /** MSH-11, HL7 table 0103: P production, T training, D debugging. */
    processingId: z.enum(['P', 'T', 'D']).default('P'),
    /** MSH-15 / MSH-16 (table 0155); empty for original acknowledgement mode. */
    acceptAckType: z.enum(['AL', 'NE', 'ER', 'SU']).optional(),
    applicationAckType: z.enum(['AL', 'NE', 'ER', 'SU']).optional(),
    /** PV1-2, HL7 table 0004 (O outpatient, E emergency, U unknown …), when an encounter is known. */
    patientClass: z.string().min(1).default('O'),
    /** OBR-4 when the report names no panel and has several observations. */
    defaultService: z.object({ code: z.string().min(1), display: z.string().optional(), system: z.string().default('L') }).strict()
      .default({ code: 'POCT', display: 'Point-of-care testing', system: 'L' }),
    /** OBX-3 coding system for the source's own analyte codes (CWE-3). */
    localCodingSystem: z.string().min(1).default('L'),
    /**
     * OBX-8: analyser flags as sent (false), or mapped to HL7 table 0078 through the `hl7_0078`
     * column of the mapping's `flags` table (true); a flag the table does not map goes as sent.
     */
    mapFlags: z.boolean().default(false),
  })
  .strict();
export type OruR01Settings = z.infer<typeof OruR01Settings>;
