import { join } from 'node:path';
import type { AccessStore } from '../audit/store.ts';
import type { EngineSettings } from '../config/settings.ts';
import { secureDataDirectory } from '../engine/data-dir.ts';
import { PostgresAccessStore } from './postgres/access.ts';
import { ACCESS_FILE, SqliteAccessStore } from './sqlite/access.ts';

/**
 * Tokens and the audit trail, for the engine and the CLI alike: beside the SQLite store in a file
 * of its own (made owner-only first; `modes` says what was tightened or could not be), or in the
 * PostgreSQL store's database.
 */
export function openAccessStore(settings: Pick<EngineSettings, 'store' | 'dataDir'>): { store: AccessStore; modes: { tightened: string[]; left: string[] } } {
  if (settings.store !== 'sqlite') return { store: new PostgresAccessStore(settings.store), modes: { tightened: [], left: [] } };
  const modes = secureDataDirectory(settings.dataDir, ACCESS_FILE);
  return { store: new SqliteAccessStore(join(settings.dataDir, ACCESS_FILE)), modes };
}
