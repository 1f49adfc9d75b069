import type { MappingKind } from '../kinds.ts';
import type { InboundMapping } from '../types.ts';
import { createHl7v2OruMapping } from './map.ts';
import { Hl7v2OruSettings } from './settings.ts';

export { createHl7v2OruMapping, mapOruR01 } from './map.ts';
export { Hl7v2OruSettings } from './settings.ts';

/** The `hl7v2-oru` inbound mapping kind, as registered in `inboundMappingKinds`. */
export const hl7v2OruKind: MappingKind<Hl7v2OruSettings, InboundMapping> = {
  direction: 'inbound',
  settings: Hl7v2OruSettings,
  create: createHl7v2OruMapping,
};
