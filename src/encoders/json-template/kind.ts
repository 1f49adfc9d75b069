import type { Encoder } from '../types.ts';
import { createJsonTemplateEncoder, type JsonTemplateContext } from './encode.ts';
import { JsonTemplateSettings } from './settings.ts';

export { createJsonTemplateEncoder, type JsonTemplateContext } from './encode.ts';
export { JsonTemplateSettings } from './settings.ts';

/**
 * The `json-template` outbound mapping kind: a report → the requests of an `http` destination.
 * Expressions may `$lookup` the tables of `settings.tables` and the file's own `tables:`.
 */
export const jsonTemplateKind = {
  direction: 'outbound' as const,
  settings: JsonTemplateSettings,
  create: (id: string, settings: JsonTemplateSettings, context?: JsonTemplateContext): Encoder => createJsonTemplateEncoder(id, settings, context),
};
