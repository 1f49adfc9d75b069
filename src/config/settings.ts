import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_BODY_LIMITS } from '../http/body.ts';
import { CorsOrigins } from '../http/cors.ts';

/**
 * A whole number from a flag or variable ('8080') or from code (8080). Not z.coerce: it
 * reads '' and ' ' as 0 and '1e3' as 1000, so `--port=` would silently pick a random port.
 */
const wholeNumber = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)], { error: 'expected a whole number' });

/** Read when it exists and no --alerts (CONDUIT_ALERTS) names another file. */
const DEFAULT_ALERTS_FILE = 'alerts.yaml';

/** Engine settings: flags override environment variables, which override these defaults. */
export const EngineSettings = z
  .object({
    host: z.string().default('127.0.0.1'),
    /** HTTP port of webhooks, REST sources and the admin API. */
    port: wholeNumber.pipe(z.number().int().min(0).max(65535)).default(8080),
    dataDir: z.string().default('./data'),
    /** Where messages are stored: 'sqlite' (a file in the data directory) or a PostgreSQL URL, for several instances on one database. */
    store: z
      .string()
      .regex(/^(sqlite|postgres(ql)?:\/\/.+)$/, { error: "expected 'sqlite' or a PostgreSQL URL (postgres://user@host:5432/database)" })
      .default('sqlite'),
    channelsDir: z.string().default('./channels'),
    mappingsDir: z.string().default('./mappings'),
    /** Pending deliveries across all channels above which sources push back (HTTP 503, slower MLLP reads). */
    maxBacklog: wholeNumber.pipe(z.number().int().positive()).default(50_000),
    /** Bytes of HTTP request bodies held at once across all requests; over it the largest body in flight gets 503. */
    maxBodyBytesInFlight: wholeNumber.pipe(z.number().int().positive()).default(DEFAULT_BODY_LIMITS.maxBytesInFlight),
    /** A request body that sends nothing for this long is cut (408). */
    bodyTimeoutMs: wholeNumber.pipe(z.number().int().positive()).default(DEFAULT_BODY_LIMITS.idleTimeoutMs),
    /** A request whose headers are not complete after this long is cut (408). */
    headersTimeoutMs: wholeNumber.pipe(z.number().int().positive()).default(10_000),
    /** 'full' fsyncs each commit; 'normal' survives a process crash but not a power cut. */
    durability: z.enum(['full', 'normal']).default('full'),
    /** Reload channel and mapping files when they change. */
    watch: z.union([z.boolean(), z.enum(['true', 'false'], { error: "expected 'true' or 'false'" }).transform((v) => v === 'true')]).default(true),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** /health shows a destination degraded while it has dead or rejected deliveries this recent. */
    healthWindowHours: wholeNumber.pipe(z.number().int().positive()).default(24),
    /** At start: 'quick' reads every page of the store (SQLite quick_check); 'header' checks only its header and size. */
    storeCheck: z.enum(['quick', 'header']).default('quick'),
    /**
     * Several instances on one PostgreSQL store: how long a lane's lease lasts without renewal,
     * so how soon the lanes of an instance that died move to the others.
     */
    leaseMs: wholeNumber.pipe(z.number().int().min(1000)).default(10_000),
    /** How often channels' retention (see the channel file's `retention`) is applied. */
    retentionIntervalMs: wholeNumber.pipe(z.number().int().positive()).default(60_000),
    /** Audit rows older than this are removed (their own retention, not the channels'); about 6 years by default. */
    auditRetentionDays: wholeNumber.pipe(z.number().int().positive()).default(2192),
    /** Admin API requests per minute per token; over it, 429 with Retry-After. */
    apiRateLimit: wholeNumber.pipe(z.number().int().positive()).default(1200),
    /** Browser origins that may call the HTTP port (CORS), exact, e.g. https://console.example.org; none: no CORS answer at all. */
    corsOrigins: CorsOrigins.default([]),
    /** PEM certificate (chain) and key file of the HTTP port: with both it serves HTTPS (TLS 1.2+), reloading them when they change. */
    tlsCert: z.string().min(1).optional(),
    tlsKey: z.string().min(1).optional(),
    /** PEM file of the CA(s) that sign client certificates: clients are asked for one (sources with `clientCertificate` check it). */
    tlsClientCa: z.string().min(1).optional(),
    /**
     * The data key file (one `<key-id> <base64 of 32 bytes>` line per key, the first seals): message
     * content is encrypted at rest with it (see store/sealing/). CONDUIT_DATA_KEY gives one key instead.
     */
    dataKeyFile: z.string().min(1).optional(),
    /** The alert rules and their webhooks (see alerts/rules.ts); ./alerts.yaml when it exists, else no alerts. */
    alerts: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if ((s.tlsCert === undefined) !== (s.tlsKey === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [s.tlsCert === undefined ? 'tlsCert' : 'tlsKey'],
        message: 'HTTPS needs both --tls-cert (CONDUIT_TLS_CERT) and --tls-key (CONDUIT_TLS_KEY): give both or neither',
      });
    }
    if (s.tlsClientCa !== undefined && s.tlsCert === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['tlsClientCa'],
        message: '--tls-client-ca (CONDUIT_TLS_CLIENT_CA) needs HTTPS: give --tls-cert and --tls-key too',
      });
    }
  });
export type EngineSettings = z.infer<typeof EngineSettings>;

const ENV: Record<keyof EngineSettings, string> = {
  host: 'CONDUIT_HOST',
  port: 'CONDUIT_PORT',
  dataDir: 'CONDUIT_DATA',
  store: 'CONDUIT_STORE',
  channelsDir: 'CONDUIT_CHANNELS',
  mappingsDir: 'CONDUIT_MAPPINGS',
  maxBacklog: 'CONDUIT_MAX_BACKLOG',
  maxBodyBytesInFlight: 'CONDUIT_MAX_BODY_BYTES_IN_FLIGHT',
  bodyTimeoutMs: 'CONDUIT_BODY_TIMEOUT_MS',
  headersTimeoutMs: 'CONDUIT_HEADERS_TIMEOUT_MS',
  durability: 'CONDUIT_DURABILITY',
  logLevel: 'CONDUIT_LOG_LEVEL',
  watch: 'CONDUIT_WATCH',
  healthWindowHours: 'CONDUIT_HEALTH_WINDOW_HOURS',
  storeCheck: 'CONDUIT_STORE_CHECK',
  retentionIntervalMs: 'CONDUIT_RETENTION_INTERVAL_MS',
  leaseMs: 'CONDUIT_LEASE_MS',
  auditRetentionDays: 'CONDUIT_AUDIT_RETENTION_DAYS',
  apiRateLimit: 'CONDUIT_API_RATE_LIMIT',
  corsOrigins: 'CONDUIT_CORS_ORIGINS',
  tlsCert: 'CONDUIT_TLS_CERT',
  tlsKey: 'CONDUIT_TLS_KEY',
  tlsClientCa: 'CONDUIT_TLS_CLIENT_CA',
  dataKeyFile: 'CONDUIT_DATA_KEY_FILE',
  alerts: 'CONDUIT_ALERTS',
};

const FLAGS: Record<string, keyof EngineSettings> = {
  '--host': 'host',
  '--port': 'port',
  '--data': 'dataDir',
  '--store': 'store',
  '--channels': 'channelsDir',
  '--mappings': 'mappingsDir',
  '--max-backlog': 'maxBacklog',
  '--max-body-bytes-in-flight': 'maxBodyBytesInFlight',
  '--body-timeout-ms': 'bodyTimeoutMs',
  '--headers-timeout-ms': 'headersTimeoutMs',
  '--durability': 'durability',
  '--log-level': 'logLevel',
  '--watch': 'watch',
  '--health-window-hours': 'healthWindowHours',
  '--store-check': 'storeCheck',
  '--retention-interval-ms': 'retentionIntervalMs',
  '--lease-ms': 'leaseMs',
  '--audit-retention-days': 'auditRetentionDays',
  '--api-rate-limit': 'apiRateLimit',
  '--cors-origins': 'corsOrigins',
  '--tls-cert': 'tlsCert',
  '--tls-key': 'tlsKey',
  '--tls-client-ca': 'tlsClientCa',
  '--data-key-file': 'dataKeyFile',
  '--alerts': 'alerts',
};

export const SETTINGS_FLAGS = Object.keys(FLAGS);

export function settingsFlag(flag: string): keyof EngineSettings | undefined {
  return FLAGS[flag];
}

/** Reads settings from flags (already split into name → value) and the environment. */
export function readSettings(flags: Record<string, string>, env: NodeJS.ProcessEnv = process.env): EngineSettings {
  const raw: Record<string, string> = {};
  for (const [key, name] of Object.entries(ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  for (const [flag, value] of Object.entries(flags)) {
    const key = FLAGS[flag];
    if (key) raw[key] = value;
  }
  const s = EngineSettings.parse(raw);
  const tlsFiles = Object.fromEntries((['tlsCert', 'tlsKey', 'tlsClientCa'] as const).flatMap((k) => (s[k] === undefined ? [] : [[k, resolve(s[k])]])));
  const alerts = s.alerts ?? (existsSync(DEFAULT_ALERTS_FILE) ? DEFAULT_ALERTS_FILE : undefined);
  return Object.freeze({ ...s, dataDir: resolve(s.dataDir), channelsDir: resolve(s.channelsDir), mappingsDir: resolve(s.mappingsDir), ...tlsFiles, ...(alerts ? { alerts: resolve(alerts) } : {}) });
}
