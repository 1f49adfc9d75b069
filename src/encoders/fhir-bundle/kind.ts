import type { MappingKind } from '../../mapping/kinds.ts';
import { checkTableColumns, STANDARD_TABLES } from '../codes.ts';
import type { Encoder } from '../types.ts';
import { createFhirBundleEncoder } from './encode.ts';
import { FhirBundleSettings } from './settings.ts';

/** The `fhir-bundle` outbound mapping kind: settings and code tables (analytes, units, flags). */
export const fhirBundleKind: MappingKind<FhirBundleSettings, Encoder> = {
  direction: 'outbound',
  settings: FhirBundleSettings,
  create(_id, settings, context) {
    const { tables } = context;
    for (const issue of checkTableColumns(tables, { ...STANDARD_TABLES, flags: ['fhir_code'] }, 'fhir-bundle')) context.report(issue);
    return createFhirBundleEncoder(settings, { analytes: tables.get('analytes'), units: tables.get('units'), flags: tables.get('flags') });
  },
};
