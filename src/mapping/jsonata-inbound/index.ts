import type { MappingKind } from '../kinds.ts';
import type { InboundMapping } from '../types.ts';
import { createJsonataInboundMapping } from './map.ts';
import { JsonataInboundSettings } from './settings.ts';

export { compileJsonataMapping } from './compile.ts';
export { createJsonataInboundMapping, mapEvent } from './map.ts';
export { JsonataInboundSettings } from './settings.ts';

/**
 * The `jsonata` inbound mapping kind (JSON → canonical reports by JSONata), as registered in
 * `inboundMappingKinds`. Expressions may `$lookup` the tables of `settings.tables` and the file's
 * own `tables:`.
 */
export const jsonataInboundKind: MappingKind<JsonataInboundSettings, InboundMapping> = {
  direction: 'inbound',
  settings: JsonataInboundSettings,
  create: createJsonataInboundMapping,
};
