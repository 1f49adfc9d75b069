import type { z } from 'zod';
import { fhirBundleKind } from '../encoders/fhir-bundle/kind.ts';
import { jsonTemplateKind } from '../encoders/json-template/kind.ts';
import { oruR01Kind } from '../encoders/oru-r01/kind.ts';
import type { Encoder } from '../encoders/types.ts';
import { hl7v2OruKind } from './hl7v2-oru/index.ts';
import { jsonataInboundKind } from './jsonata-inbound/index.ts';
import { createPlatformResultMapping } from './platform-result/map.ts';
import { PlatformResultSettings } from './platform-result/settings.ts';
import type { CodeTable } from './tables/table.ts';
import type { InboundMapping } from './types.ts';

/** A problem inside a mapping file, at a path of that file (`['fields', 'PID-3.4']`). */
export interface MappingIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly code: string;
}

/** What a kind builds from besides its settings: the file's code tables and sections. */
export interface MappingContext<X = unknown> {
  /** The code tables the file names under `tables:`, by name; `file` is the path as written there. */
  readonly tables: ReadonlyMap<string, CodeTable>;
  /** The file's top-level sections this kind reads (see `MappingKind.sections`), parsed. */
  readonly sections: X;
  /** Reports a problem at a path of the mapping file; a mapping with any problem is not used. */
  report(issue: MappingIssue): void;
}

/** A kind of mapping file: the schema of its `settings` (and other sections) and what it builds from them. */
export interface MappingKind<S, T, X = unknown> {
  readonly direction: 'inbound' | 'outbound';
  readonly settings: z.ZodType<S>;
  /**
   * Top-level keys of the file besides kind, description, settings and tables that this kind
   * reads (`fields`, `segments` of oru-r01), as an object schema; other kinds refuse them.
   */
  readonly sections?: z.ZodType<X> & { readonly shape: Readonly<Record<string, unknown>> };
  /** Builds the mapping; problems a schema cannot see (expressions, table columns) go to `context.report`. */
  create(id: string, settings: S, context: MappingContext<X>): T;
}

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

