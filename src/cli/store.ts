import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineSettings } from '../config/settings.ts';
import { STORE_FILE } from '../engine/data-dir.ts';
import { ConduitError } from '../errors.ts';
import { checkStore } from '../store/sqlite/check.ts';
import { postgresWords, redactedUrl } from '../store/postgres/connection.ts';
import { rekeyPostgres } from '../store/postgres/rekey.ts';
import { SCHEMA_VERSION } from '../store/postgres/schema.ts';
import { type PostgresStoreStats, postgresStoreStats } from '../store/postgres/stats.ts';
import { newKeyLine, resolveKeyring } from '../store/sealing/keyring.ts';
import type { RekeyReport } from '../store/sealing/rekey.ts';
import { rekeySqlite } from '../store/sqlite/rekey.ts';
import { type SqliteStoreStats, storeStats } from '../store/sqlite/stats.ts';
import { UsageError } from './args.ts';

const ACTIONS = ['check', 'stats', 'keygen', 'rekey'];

export async function storeCommand(
  settings: EngineSettings,
  action: string | undefined,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  json = false,
  options: { keyId?: string } = {},
): Promise<number> {
  if (action === 'keygen') return keygen(options.keyId, out, err);
  if (action === 'rekey') return rekeyCommand(settings, out, err, json);
  if (action === 'check' && settings.store !== 'sqlite') return checkPostgres(settings.store, out, err);
  if (action === 'check') return check(settings, out, err);
  if (action === 'stats' && settings.store !== 'sqlite') return statsPostgres(settings.store, out, err, json);
  if (action === 'stats') return stats(settings, out, err, json);
  throw new UsageError(action ? `conduit store has no action '${action}' (only: ${ACTIONS.join(', ')})` : `conduit store needs an action: ${ACTIONS.join(', ')}`, { showUsage: true });
}

/** `conduit store keygen`: a new key line on stdout (only it, for `>>` or a secrets manager); how to use it on stderr. */
function keygen(keyId: string | undefined, out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  let line: string;
  try {
    line = newKeyLine(keyId);
  } catch (e) {
    if (!(e instanceof ConduitError)) throw e;
    err.write(`conduit: ${e.message}\n`);
    return 2;
  }
  out.write(`${line}\n`);
  err.write(
    'Put this line first in the data key file (owner-only: chmod 600), keeping the older keys below it; restart the engine, then run conduit store rekey.\n',
  );
  return 0;
}

/**
 * `conduit store rekey`: every row not sealed with the key file's first key (older keys,
 * plaintext) sealed with it (see store/sealing/rekey.ts). Exit 1 when rows could not be opened.
 */
async function rekeyCommand(settings: EngineSettings, out: NodeJS.WritableStream, err: NodeJS.WritableStream, json: boolean): Promise<number> {
  let report: RekeyReport;
  try {
    const { keyring, warnings } = resolveKeyring(settings);
    for (const w of warnings) err.write(`conduit: warning: ${w}\n`);
    if (!keyring) {
      err.write('conduit: conduit store rekey needs the data keys: set CONDUIT_DATA_KEY_FILE or pass --data-key-file (or CONDUIT_DATA_KEY)\n');
      return 2;
    }
    if (!json) err.write(`Sealing with data key ${keyring.sealing.id} (the first of ${keyring.source})...\n`);
    report = settings.store === 'sqlite' ? await rekeySqlite(join(settings.dataDir, STORE_FILE), keyring) : await rekeyPostgres(settings.store, keyring);
  } catch (e) {
    if (e instanceof ConduitError) err.write(`conduit: ${e.message}\n`);
    else if (settings.store !== 'sqlite') err.write(`${redactedUrl(settings.store)}: ${postgresWords(e)}\n`);
    else throw e;
    return 1;
  }
  out.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatRekey(report));
  return Object.values(report.tables).some((t) => t.unreadable > 0) ? 1 : 0;
}

function formatRekey(r: RekeyReport): string {
  const lines = Object.entries(r.tables).map(([table, t]) => {
    const resealed = Object.values(t.resealed).reduce((a, b) => a + b, 0);
    const from = Object.entries(t.resealed).map(([k, n]) => `${n} ${k === 'plaintext' ? 'plaintext' : `from ${k}`}`);
    return (
      `${table}: ${resealed} sealed with ${r.keyId}${from.length > 0 ? ` (${from.join(', ')})` : ''}` +
      `${t.changedMeanwhile > 0 ? `, ${t.changedMeanwhile} changed by the engine meanwhile (run rekey again)` : ''}` +
      `${t.unreadable > 0 ? `, ${t.unreadable} could not be opened: ${t.unreadableRows.join('; ')}${t.unreadable > t.unreadableRows.length ? '; …' : ''}` : ''}\n`
    );
  });
  const retired = r.retired.length > 0 ? `No row is sealed with ${r.retired.join(', ')} any more: once every instance runs with the new key first, those lines may leave the key file.\n` : '';
  return lines.join('') + retired;
}

/**
 * `conduit store check`: what the engine checks at start (the file's header and size, a
 * missing or emptied store), then SQLite's full `PRAGMA integrity_check`, which also
 * cross-checks every index. Safe beside a running engine (it only reads). Exit 1 when damaged.
 */
function check(settings: EngineSettings, out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  const file = join(settings.dataDir, STORE_FILE);
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

/**
 * `conduit store check` of a PostgreSQL store: it answers, its schema is one this Conduit knows,
 * and what it holds. Page-level checks are PostgreSQL's own (data checksums, amcheck).
 */
async function checkPostgres(url: string, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const s = await readPostgresStats(url, err);
  if (!s) return 1;
  if (s.schemaVersion > SCHEMA_VERSION) {
    err.write(`${s.url}: written by a newer Conduit (schema ${s.schemaVersion}, this one knows ${SCHEMA_VERSION})\n`);
    return 1;
  }
  const messages = s.channels.reduce((n, c) => n + c.messages, 0);
  const pending = s.channels.reduce((n, c) => n + c.pendingDeliveries, 0);
  out.write(`${s.url}: ok (schema ${s.schemaVersion}, ${messages} messages, ${pending} pending deliveries, ${mib(s.databaseBytes)}); pages are PostgreSQL's to check (data checksums, amcheck)\n`);
  return 0;
}

async function statsPostgres(url: string, out: NodeJS.WritableStream, err: NodeJS.WritableStream, json: boolean): Promise<number> {
  const s = await readPostgresStats(url, err);
  if (!s) return 1;
  out.write(json ? `${JSON.stringify(s, null, 2)}\n` : formatStats(s));
  return 0;
}

/** The PostgreSQL store's figures; undefined (and why, on `err`) when it cannot be read. */
async function readPostgresStats(url: string, err: NodeJS.WritableStream): Promise<PostgresStoreStats | undefined> {
  try {
    return await postgresStoreStats(url);
  } catch (e) {
    err.write(`${redactedUrl(url)}: ${postgresWords(e)}\n`);
    return undefined;
  }
}

/** `conduit store stats`: sizes per channel (messages, content kept, pending, bytes) and of the files. */
function stats(settings: EngineSettings, out: NodeJS.WritableStream, err: NodeJS.WritableStream, json: boolean): number {
  const file = join(settings.dataDir, STORE_FILE);
  if (!existsSync(file)) {
    err.write(`${file}: no store here (start the engine once, or pass --data)\n`);
    return 1;
  }
  const s = storeStats(file);
  out.write(json ? `${JSON.stringify(s, null, 2)}\n` : formatStats(s));
  return 0;
}

const MIB = 1024 * 1024;
const mib = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MiB`;

export function formatStats(s: SqliteStoreStats | PostgresStoreStats): string {
  const head = ['channel', 'messages', 'content removed', 'pending deliveries', 'content', 'oldest received'];
  const rows = s.channels.map((c) => [c.channelId, String(c.messages), String(c.contentRemoved), String(c.pendingDeliveries), mib(c.contentBytes), c.oldestReceivedAt ?? '-']);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`;
  const where =
    s.store === 'sqlite'
      ? `${s.file}: ${mib(s.fileBytes)} (of which ${mib(s.freeBytes)} free, reused by new rows), write-ahead log ${mib(s.walBytes)}\n`
      : `${s.url}: ${mib(s.databaseBytes)} (${Object.entries(s.tableBytes)
          .map(([t, b]) => `${t} ${mib(b)}`)
          .join(', ')})\n`;
  return (
    where +
    line(head) +
    line(widths.map((w) => '-'.repeat(w))) +
    rows.map(line).join('') +
    formatKeys(s.keys)
  );
}

/** Rows holding content by data key: 'plaintext' counts those stored without one (conduit store rekey seals them). */
function formatKeys(keys: SqliteStoreStats['keys']): string {
  const ids = [...new Set(keys.map((k) => k.keyId))].sort((a, b) => (a === null ? -1 : b === null ? 1 : a.localeCompare(b)));
  if (ids.length === 0) return '';
  const tables = ['messages', 'deliveries', 'attempts'] as const;
  const head = ['data key', ...tables];
  const rows = ids.map((id) => [id ?? 'plaintext', ...tables.map((t) => String(keys.find((k) => k.table === t && k.keyId === id)?.rows ?? 0))]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`;
  return `\nRows holding content, by data key:\n${line(head)}${line(widths.map((w) => '-'.repeat(w)))}${rows.map(line).join('')}`;
}
