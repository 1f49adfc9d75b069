import type { MappingKind } from '../../mapping/kinds.ts';
import { codeTablesOf } from '../../mapping/tables/index.ts';
import { checkTableColumns, STANDARD_TABLES } from '../codes.ts';
import type { Encoder } from '../types.ts';
import { compileOruEdits, OruR01Sections } from './edits.ts';
import { createOruR01Encoder } from './encode.ts';
import { OruR01Settings } from './settings.ts';

/** The `oru-r01` outbound mapping kind: settings, code tables, `fields:` and `segments:`. */
export const oruR01Kind: MappingKind<OruR01Settings, Encoder, OruR01Sections> = {
  direction: 'outbound',
  settings: OruR01Settings,
  sections: OruR01Sections,
  create(_id, settings, context) {
    const { tables } = context;
    const required: Record<string, readonly string[]> = { ...STANDARD_TABLES, ...(settings.mapFlags ? { flags: ['hl7_0078'] } : {}) };
    for (const issue of checkTableColumns(tables, required, 'oru-r01')) context.report(issue);
    if (settings.mapFlags && !tables.has('flags')) {
      context.report({ path: ['settings', 'mapFlags'], code: 'table_missing', message: 'mapFlags needs a flags table; expected tables: { flags: tables/flags.csv } in this file' });
    }
    const edits = compileOruEdits(context.sections, codeTablesOf(tables), context.report);
    return createOruR01Encoder(settings, { analytes: tables.get('analytes'), units: tables.get('units'), flags: tables.get('flags') }, edits);
  },
};
