/**
 * Cost of the store check on a large store: builds a store of N messages (default 1 M) shaped
 * like the sample channel's (the full-bmp-panel event as raw input and canonical report, its
 * ORU^R01 as the payload, one acknowledged delivery with one attempt each) in a temp directory,
 * then times what `conduit start` runs at open (header and size check, `PRAGMA quick_check`)
 * and what `conduit store check` runs (`PRAGMA integrity_check`), each with the file in the
 * page cache (just written) and, when this process may drop the caches (root), from disk.
 *
 *   node test/bench/store-check.bench.ts [--messages 1000000] [--dir <parent dir>] [--keep]
 */
import { readFileSync, rmSync, statSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { checkStore, openChecked } from '../../src/store/sqlite/check.ts';
import { SqliteStore } from '../../src/store/sqlite/store.ts';

const REPO = join(import.meta.dirname, '..', '..');
const { values } = parseArgs({ options: { messages: { type: 'string', default: '1000000' }, dir: { type: 'string' }, keep: { type: 'boolean', default: false } } });
const count = Number(values.messages);
const dir = mkdtempSync(join(values.dir ?? tmpdir(), 'conduit-store-bench-'));
const file = join(dir, 'conduit.db');

const raw = readFileSync(join(REPO, 'samples/platform-events/full-bmp-panel.json'), 'utf8');
const payload = readFileSync(join(REPO, 'samples/platform-events/full-bmp-panel.platform-to-lis.lis.hl7'), 'utf8');

function build(): number {
  const t0 = performance.now();
  // The store creates the schema; the rows go in with plain SQL in large transactions.
  new SqliteStore(file, { synchronous: 'normal' }).close();
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF');
  const message = db.prepare(
    `INSERT INTO messages (id, channel_id, source_id, source_version, received_at, raw_input, input_format, canonical, partition_key, mapping_version)
     VALUES (?, 'platform-to-lis', ?, '1', ?, ?, 'json', ?, ?, 'platform-result@0123456789ab')`,
  );
  const delivery = db.prepare(
    `INSERT INTO deliveries (message_seq, channel_id, destination_id, lane, control_id, payload, content_type, mapping_version, status, attempts, updated_at)
     VALUES (?, 'platform-to-lis', 'lis', 0, ?, ?, 'application/hl7-v2', 'oru-r01-lis@0123456789ab', 'acknowledged', 1, ?)`,
  );
  const attempt = db.prepare(
    `INSERT INTO attempts (delivery_id, attempt, started_at, latency_ms, outcome, response) VALUES (?, 1, ?, 3.2, 'acknowledged', ?)`,
  );
  const base = Date.UTC(2026, 0, 1);
  for (let i = 0; i < count; ) {
    db.exec('BEGIN');
    for (const end = Math.min(count, i + 10_000); i < end; i++) {
      const at = new Date(base + i * 1000).toISOString();
      const id = `01K${String(i).padStart(23, '0')}`;
      const seq = Number(message.run(id, `res_${i}`, at, raw.replace('"res_', `"res_${i}_`), raw, `patient:p${i % 5000}`).lastInsertRowid);
      const d = Number(delivery.run(seq, `C${i}`, payload, at).lastInsertRowid);
      attempt.run(d, at, `MSH|^~\\&|LIS|LAB|||${i}||ACK^R01|A${i}|P|2.5.1\rMSA|AA|C${i}\r`);
    }
    db.exec('COMMIT');
  }
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  db.close();
  return performance.now() - t0;
}

/** Drops the OS page cache (root only), so the next read comes from disk. */
function dropCaches(): boolean {
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
try {
  const built = build();
  const bytes = statSync(file).size;
  console.log(`store: ${count} messages, ${(bytes / 1e9).toFixed(2)} GB, built in ${s(built)}`);
  const quick = time(() => openChecked(file).close());
  const full = time(() => {
    const r = checkStore(file);
    if (!r.ok) throw new Error(r.problems.join('; '));
  });
  console.log(`page cache warm: start-up check (quick_check) ${s(quick)}; conduit store check (integrity_check) ${s(full)}`);
  if (dropCaches()) {
    const coldQuick = time(() => openChecked(file).close());
    dropCaches();
    const coldFull = time(() => checkStore(file));
    console.log(`from disk (caches dropped): start-up check ${s(coldQuick)}; conduit store check ${s(coldFull)}`);
  } else console.log('from disk: not measured (dropping the page cache needs root)');
} finally {
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept: ${file}`);
}
