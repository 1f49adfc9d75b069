import { fhirBundleKind } from './encoders/fhir-bundle/kind.ts';
import { jsonTemplateKind } from './encoders/json-template/kind.ts';
import { oruR01Kind } from './encoders/oru-r01/kind.ts';
import type { Encoder } from './encoders/types.ts';
import { hl7v2OruKind } from './mapping/hl7v2-oru/index.ts';
import { jsonataInboundKind } from './mapping/jsonata-inbound/index.ts';
import type { MappingKind } from './mapping/kinds.ts';
import { createPlatformResultMapping } from './mapping/platform-result/map.ts';
import { PlatformResultSettings } from './mapping/platform-result/settings.ts';
import type { InboundMapping } from './mapping/types.ts';

/**
 * The kinds of mapping file the engine knows, inbound and outbound, like the connectors in
 * plugins.ts: a new kind is one folder with a `MappingKind` object and one line here.
 */

// `any` erases each kind's own settings type so kinds of different settings share one table;
// every use parses settings with that kind's schema before calling create.
// biome-ignore lint/suspicious/noExplicitAny: see above
type AnyKind<T> = MappingKind<any, T, any>;

export const inboundMappingKinds: Record<string, AnyKind<InboundMapping>> = {
  'platform-result': { direction: 'inbound', settings: PlatformResultSettings, create: createPlatformResultMapping },
  'hl7v2-oru': hl7v2OruKind,
  jsonata: jsonataInboundKind,
};

export const encoderKinds: Record<string, AnyKind<Encoder>> = {
  'oru-r01': oruR01Kind,
  'fhir-bundle': fhirBundleKind,
  'json-template': jsonTemplateKind,
};

/** Every section key some kind reads, so that a file's top level can be checked before its kind is known. */
export function sectionKeys(): string[] {
  const keys = new Set<string>();
  for (const k of [...Object.values(inboundMappingKinds), ...Object.values(encoderKinds)]) for (const key of Object.keys(k.sections?.shape ?? {})) keys.add(key);
  return [...keys];
}

