import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfiguration } from '../../src/config/load.ts';
import { EngineSettings } from '../../src/config/settings.ts';
import { formatIssue } from '../../src/config/yaml-file.ts';
import { Engine } from '../../src/engine/engine.ts';
import { createLogger } from '../../src/log.ts';
import { MllpClientConnection } from '../../src/protocols/mllp/index.ts';

export const REPO = join(import.meta.dirname, '..', '..');
export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestEngine {
  engine: Engine;
  url: string;
  dir: string;
  /** Every log line the engine wrote. */
  logs: string[];
  admin(path: string, init?: RequestInit): Promise<Response>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  /** Resolves when no delivery is pending, polling the store. */
  drained(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts an engine in this process on port 0 with the given channel files (YAML text by
 * file name) and the repository's mapping files, in a fresh temp data directory.
 */
export async function startTestEngine(channels: Record<string, string>, overrides: Partial<EngineSettings> = {}): Promise<TestEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-test-'));
  const channelsDir = join(dir, 'channels');
  mkdirSync(channelsDir);
  for (const [name, text] of Object.entries(channels)) writeFileSync(join(channelsDir, name), text);
  const mappingsDir = join(dir, 'mappings');
  cpSync(join(REPO, 'mappings'), mappingsDir, { recursive: true });
  const settings = EngineSettings.parse({ port: 0, dataDir: join(dir, 'data'), channelsDir, mappingsDir, logLevel: 'info', watch: false, ...overrides });
  const configuration = loadConfiguration(settings);
  if (configuration.issues.length > 0) throw new Error(configuration.issues.map(formatIssue).join('\n'));
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const engine = new Engine({ settings, configuration, log: createLogger(settings.logLevel, sink), adminToken: ADMIN_TOKEN });
  try {
    await engine.start();
  } catch (e) {
    // As `conduit start` does: what the constructor opened (the store's writer thread) would keep the test process alive.
    await engine.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const url = `http://127.0.0.1:${engine.port}`;
  return {
    engine,
    url,
    dir,
    logs,
    admin: (path, init) => fetch(url + path, { ...init, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...init?.headers } }),
    post: (path, body, headers = {}) =>
      fetch(url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    async drained(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (engine.store.pendingCount() > 0) {
        if (Date.now() > deadline) throw new Error(`still ${engine.store.pendingCount()} pending deliveries after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await engine.store.flush();
    },
    async stop() {
      await engine.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A webhook → ORU^R01 → MLLP channel pointed at `port`. */
export function webhookToMllpChannel(id: string, port: number, delivery?: string, extraSource = ''): string {
  return `id: ${id}
source:
  type: webhook
  path: /channels/${id}${extraSource}
${platformResultToLis(port, delivery)}`;
}

/** The platform mapping and one MLLP destination `lis` at `port`: the rest of a webhook or REST channel to the LIS. */
export function platformResultToLis(port: number, delivery = 'maxAttempts: 3\n      initialBackoffMs: 50\n      maxBackoffMs: 200'): string {
  return `mapping: platform-result
destinations:
  - id: lis
    mapping: oru-r01-lis
    sender:
      type: mllp
      host: 127.0.0.1
      port: ${port}
      ackTimeoutMs: 2000
    delivery:
      ${delivery}
`;
}

/** A port nobody listens on right now: bound, read back, released (for a peer that is down, then comes up). */
export async function releasedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The port an MLLP listener channel of a test engine took (channels listen on port 0); the first channel by default. */
export function mllpPortOf(t: TestEngine, channelId?: string): number {
  const channel = channelId === undefined ? t.engine.channels[0] : t.engine.channels.find((c) => c.id === channelId);
  if (!channel) throw new Error(`no channel ${channelId ?? '(first)'} in the test engine`);
  return Number(/:(\d+)$/.exec(channel.describeSource())![1]);
}

/** A client connection to an MLLP listener on this machine, as a sending system would open it. */
export function connectMllp(port: number): Promise<MllpClientConnection> {
  return MllpClientConnection.connect({ host: '127.0.0.1', port, connectTimeoutMs: 2000, maxFrameBytes: 1 << 20 });
}
