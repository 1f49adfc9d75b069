import { join } from 'node:path';
import type { EngineSettings } from '../config/settings.ts';
import { checkStore } from '../store/sqlite/check.ts';
import { UsageError } from './args.ts';

/**
 * `conduit store check`: what the engine checks at start (the file's header and size, a
 * missing or emptied store), then SQLite's full `PRAGMA integrity_check`, which also
 * cross-checks every index. Safe beside a running engine (it only reads). Exit 1 when damaged.
 */
export function storeCommand(settings: EngineSettings, action: string | undefined, out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  if (action !== 'check') throw new UsageError(action ? `conduit store has no action '${action}' (only: check)` : 'conduit store needs an action: check', { showUsage: true });
  const file = join(settings.dataDir, 'conduit.db');
  const t0 = performance.now();
  const report = checkStore(file);
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  if (!report.ok) {
    for (const p of report.problems) err.write(`${file}: ${p}\n`);
    err.write(
      `The store is damaged. Stop the engine, restore ${file} from a backup and remove conduit.db-wal and conduit.db-shm beside it; ` +
        'deliveries since the backup are pending or lost (their sources may need to send them again).\n',
    );
    return 1;
  }
  if (report.bytes === 0) {
    out.write(`${file}: empty (no store written yet)\n`);
    return 0;
  }
  const counts = [
    `schema ${report.schemaVersion}`,
    ...(report.messages !== undefined ? [`${report.messages} messages`] : []),
    ...(report.deliveries !== undefined ? [`${report.deliveries} deliveries`, `${report.pending} pending`] : []),
    `${report.bytes} bytes`,
  ];
  out.write(`${file}: ok (${counts.join(', ')}); integrity check passed in ${seconds} s\n`);
  return 0;
}
