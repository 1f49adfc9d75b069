import type { z } from 'zod';
import { createFhirBundleEncoder } from '../encoders/fhir-bundle/encode.ts';
import { FhirBundleSettings } from '../encoders/fhir-bundle/settings.ts';
import { createOruR01Encoder } from '../encoders/oru-r01/encode.ts';
import { OruR01Settings } from '../encoders/oru-r01/settings.ts';
import type { Encoder } from '../encoders/types.ts';
import { hl7v2OruKind } from './hl7v2-oru/index.ts';
import { jsonataInboundKind } from './jsonata-inbound/index.ts';
import { createPlatformResultMapping } from './platform-result/map.ts';
import { PlatformResultSettings } from './platform-result/settings.ts';
import type { InboundMapping } from './types.ts';

/** A kind of mapping file: the schema of its `settings` and what it builds from them. */
export interface MappingKind<S, T> {
  readonly direction: 'inbound' | 'outbound';
  readonly settings: z.ZodType<S>;
  create(id: string, settings: S): T;
}

// `any` erases each kind's own settings type so kinds of different settings share one table;
// every use parses settings with that kind's schema before calling create.
// biome-ignore lint/suspicious/noExplicitAny: see above
type AnyKind<T> = MappingKind<any, T>;

export const inboundMappingKinds: Record<string, AnyKind<InboundMapping>> = {
  'platform-result': { direction: 'inbound', settings: PlatformResultSettings, create: createPlatformResultMapping },
  'hl7v2-oru': hl7v2OruKind,
  jsonata: jsonataInboundKind,
};

export const encoderKinds: Record<string, AnyKind<Encoder>> = {
  'oru-r01': { direction: 'outbound', settings: OruR01Settings, create: (_id, s: OruR01Settings) => createOruR01Encoder(s) },
  'fhir-bundle': { direction: 'outbound', settings: FhirBundleSettings, create: (_id, s: FhirBundleSettings) => createFhirBundleEncoder(s) },
};
