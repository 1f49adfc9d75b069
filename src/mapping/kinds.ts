import type { z } from 'zod';
import type { CodeTable } from './tables/table.ts';

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
