/**
 * The message browser's queries on a large store: `node test/bench/paging.bench.ts [--messages 1000000]`.
 * Fills a SQLite store in a temp directory with N messages (one delivery each, 50,000 patients),
 * then times GET /api/messages's store query (listMessages) for the first page, a page halfway
 * down (by cursor), the last page, and each filter: patient, control id (MSH-10), source id,
 * status, a time range. Each figure is the median of 5 runs. Prints the load average; asserts nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteStore } from '../../src/store/sqlite/store.ts';
import type { MessageQuery, NewMessage } from '../../src/store/types.ts';
import { fmt, loadAverage } from './measure.ts';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '1000000' } } });
const total = Number(values.messages);
const dir = mkdtempSync(join(tmpdir(), 'conduit-paging-'));
const store = new SqliteStore(join(dir, 'conduit.db'), { synchronous: 'normal' });
const start = Date.UTC(2026, 0, 1);
const message = (i: number): NewMessage => ({
  id: `M${String(i).padStart(9, '0')}`,
  channelId: i % 3 === 0 ? 'to-ehr' : 'to-lis',
  sourceId: `res_${i}`,
  sourceVersion: '1',
  // One a second from 2026-01-01: a million span eleven and a half days.
  receivedAt: new Date(start + i * 1000).toISOString(),
  rawInput: `{"result":{"id":"res_${i}"}}`,
  inputFormat: 'json',
  canonical: `{"id":"res_${i}"}`,
  partitionKey: `patient:P${i % 50_000}`,
  deliveries: [{ destinationId: 'lis', lane: 0, controlId: `C${String(i).padStart(12, '0')}`, payload: `MSH|^~\\&|…|C${i}\r`, contentType: 'application/hl7-v2' }],
});

console.log(`Paging on ${fmt(total)} messages (SQLite, load average ${fmt(loadAverage(), 1)}): filling…`);
const t0 = performance.now();
const BATCH = 5000;
for (let i = 0; i < total; i += BATCH) {
  await Promise.all(Array.from({ length: Math.min(BATCH, total - i) }, (_, k) => store.insertMessage(message(i + k))));
}
await store.flush();
console.log(`  filled in ${fmt((performance.now() - t0) / 1000, 1)} s`);

async function timed(label: string, q: MessageQuery): Promise<string | undefined> {
  const ms: number[] = [];
  let page: Awaited<ReturnType<typeof store.listMessages>> | undefined;
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    page = await store.listMessages(q);
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  console.log(`  ${label.padEnd(44)} ${fmt(ms[2]!, 2).padStart(8)} ms  (${page!.messages.length} messages)`);
  return page!.nextCursor;
}

const half = Math.floor(total / 2);
await timed('first page (50, newest first)', { limit: 50 });
await timed('a page halfway down (cursor)', { limit: 50, cursor: (half + 1).toString(36) });
await timed('the last page (cursor)', { limit: 50, cursor: (51).toString(36) });
await timed('by channel, halfway down', { limit: 50, channelId: 'to-ehr', cursor: (half + 1).toString(36) });
await timed('by patient (20 messages)', { limit: 50, patient: `P${half % 50_000}` });
await timed('by control id (MSH-10)', { limit: 50, controlId: `C${String(half).padStart(12, '0')}` });
await timed('by source id', { limit: 50, sourceId: `res_${half}` });
await timed('by status acknowledged (none: all queued)', { limit: 50, status: 'acknowledged' });
await timed('by status queued (every message), halfway', { limit: 50, status: 'queued', cursor: (half + 1).toString(36) });
await timed('by time range (an hour, halfway)', {
  limit: 50,
  since: new Date(start + half * 1000).toISOString(),
  until: new Date(start + (half + 3600) * 1000).toISOString(),
});
await store.close();
rmSync(dir, { recursive: true, force: true });
