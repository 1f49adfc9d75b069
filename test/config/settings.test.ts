import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { readSettings, SETTINGS_FLAGS, settingsFlag } from '../../src/config/settings.ts';

test('with no flags and no environment, every setting has its default; directories are absolute', () => {
  const s = readSettings({}, {});
  assert.deepEqual(s, {
    host: '127.0.0.1',
    port: 8080,
    dataDir: resolve('./data'),
    store: 'sqlite',
    channelsDir: resolve('./channels'),
    mappingsDir: resolve('./mappings'),
    maxBacklog: 50_000,
    maxBodyBytesInFlight: 16_777_216,
    bodyTimeoutMs: 10_000,
    headersTimeoutMs: 10_000,
    durability: 'full',
    watch: true,
    logLevel: 'info',
    healthWindowHours: 24,
    storeCheck: 'quick',
    retentionIntervalMs: 60_000,
    leaseMs: 10_000,
    auditRetentionDays: 2192,
    apiRateLimit: 1200,
    corsOrigins: [],
  });
});

test('environment variables override the defaults, converted to their types', () => {
  const s = readSettings(
    {},
    {
      CONDUIT_HOST: '0.0.0.0',
      CONDUIT_PORT: '9090',
      CONDUIT_DATA: '/var/lib/conduit',
      CONDUIT_STORE: 'postgres://conduit@db.example:5432/conduit',
      CONDUIT_CHANNELS: 'conf/channels',
      CONDUIT_MAPPINGS: 'conf/mappings',
      CONDUIT_MAX_BACKLOG: '1000',
      CONDUIT_MAX_BODY_BYTES_IN_FLIGHT: '1000000',
      CONDUIT_BODY_TIMEOUT_MS: '5000',
      CONDUIT_HEADERS_TIMEOUT_MS: '3000',
      CONDUIT_DURABILITY: 'normal',
      CONDUIT_LOG_LEVEL: 'debug',
      CONDUIT_WATCH: 'false',
      CONDUIT_HEALTH_WINDOW_HOURS: '2',
      CONDUIT_STORE_CHECK: 'header',
      CONDUIT_RETENTION_INTERVAL_MS: '5000',
      CONDUIT_LEASE_MS: '3000',
      CONDUIT_AUDIT_RETENTION_DAYS: '365',
      CONDUIT_API_RATE_LIMIT: '60',
    },
  );
  assert.deepEqual(s, {
    host: '0.0.0.0',
    port: 9090,
    dataDir: '/var/lib/conduit',
    store: 'postgres://conduit@db.example:5432/conduit',
    channelsDir: resolve('conf/channels'),
    mappingsDir: resolve('conf/mappings'),
    maxBacklog: 1000,
    maxBodyBytesInFlight: 1_000_000,
    bodyTimeoutMs: 5000,
    headersTimeoutMs: 3000,
    durability: 'normal',
    watch: false,
    logLevel: 'debug',
    healthWindowHours: 2,
    storeCheck: 'header',
    retentionIntervalMs: 5000,
    leaseMs: 3000,
    auditRetentionDays: 365,
    apiRateLimit: 60,
    corsOrigins: [],
  });
});

test('flags override environment variables', () => {
  const env = { CONDUIT_PORT: '9090', CONDUIT_DURABILITY: 'normal', CONDUIT_LOG_LEVEL: 'debug', CONDUIT_DATA: '/env/data' };
  const s = readSettings({ '--port': '7070', '--log-level': 'warn', '--data': '/flag/data' }, env);
  assert.equal(s.port, 7070);
  assert.equal(s.logLevel, 'warn');
  assert.equal(s.dataDir, '/flag/data');
  // Not given as a flag: the environment still applies.
  assert.equal(s.durability, 'normal');
});

test('an empty environment variable counts as unset', () => {
  const s = readSettings({}, { CONDUIT_PORT: '', CONDUIT_HOST: '' });
  assert.equal(s.port, 8080);
  assert.equal(s.host, '127.0.0.1');
});

test('flags other than the settings flags are ignored', () => {
  const s = readSettings({ '--json': 'true', '--raw': 'true', '--nonsense': 'x' }, {});
  assert.equal(s.port, 8080);
  assert.ok(!('--json' in s) && !('nonsense' in s));
});

test('the settings are frozen', () => {
  const s = readSettings({}, {});
  assert.ok(Object.isFrozen(s));
  assert.throws(() => {
    (s as { port: number }).port = 1;
  }, TypeError);
});

test('port 0 (pick a free port) is accepted', () => {
  assert.equal(readSettings({ '--port': '0' }, {}).port, 0);
});

for (const [name, flags, env] of [
  ['port not a number (flag)', { '--port': 'abc' }, {}],
  ['port not a number (env)', {}, { CONDUIT_PORT: 'abc' }],
  ['port above 65535', { '--port': '70000' }, {}],
  ['port negative', { '--port': '-1' }, {}],
  ['port fractional', { '--port': '80.5' }, {}],
  ['port empty (--port=)', { '--port': '' }, {}],
  ['port blank', {}, { CONDUIT_PORT: ' ' }],
  ['port in exponent notation', { '--port': '8e3' }, {}],
  ['port in hex', { '--port': '0x50' }, {}],
  ['max backlog zero', { '--max-backlog': '0' }, {}],
  ['max backlog not a number', {}, { CONDUIT_MAX_BACKLOG: 'lots' }],
  ['body budget zero', { '--max-body-bytes-in-flight': '0' }, {}],
  ['body timeout not a number', {}, { CONDUIT_BODY_TIMEOUT_MS: '10s' }],
  ['unknown durability', { '--durability': 'fast' }, {}],
  ['unknown log level', {}, { CONDUIT_LOG_LEVEL: 'loud' }],
  ['store neither sqlite nor a PostgreSQL URL', { '--store': 'mysql://db/conduit' }, {}],
  ['store a URL without a host', {}, { CONDUIT_STORE: 'postgres://' }],
  ['lease shorter than a second', { '--lease-ms': '500' }, {}],
] as Array<[string, Record<string, string>, NodeJS.ProcessEnv]>) {
  test(`invalid values are rejected: ${name}`, () => {
    assert.throws(
      () => readSettings(flags, env),
      (e: Error) => e.name === 'ZodError',
    );
  });
}

test('an invalid value names the setting in the error', () => {
  assert.throws(
    () => readSettings({ '--durability': 'fast' }, {}),
    (e: Error) => /durability/.test(e.message) && /full/.test(e.message) && /normal/.test(e.message),
  );
});

test('settingsFlag maps each flag to its setting; SETTINGS_FLAGS lists them all', () => {
  assert.equal(settingsFlag('--port'), 'port');
  assert.equal(settingsFlag('--data'), 'dataDir');
  assert.equal(settingsFlag('--channels'), 'channelsDir');
  assert.equal(settingsFlag('--max-backlog'), 'maxBacklog');
  assert.equal(settingsFlag('--json'), undefined);
  assert.deepEqual([...SETTINGS_FLAGS].sort(), [
    '--alerts',
    '--api-rate-limit',
    '--audit-retention-days',
    '--body-timeout-ms',
    '--channels',
    '--cors-origins',
    '--data',
    '--data-key-file',
    '--durability',
    '--headers-timeout-ms',
    '--health-window-hours',
    '--host',
    '--lease-ms',
    '--log-level',
    '--mappings',
    '--max-backlog',
    '--max-body-bytes-in-flight',
    '--port',
    '--retention-interval-ms',
    '--store',
    '--store-check',
    '--tls-cert',
    '--tls-client-ca',
    '--tls-key',
    '--watch',
  ]);
});

test('the alerts file: --alerts over CONDUIT_ALERTS, made absolute; none when neither is given and there is no ./alerts.yaml', () => {
  assert.equal(readSettings({}, { CONDUIT_ALERTS: 'ops/alerts.yaml' }).alerts, resolve('ops/alerts.yaml'));
  assert.equal(readSettings({ '--alerts': '/etc/conduit/alerts.yaml' }, { CONDUIT_ALERTS: 'ops/alerts.yaml' }).alerts, '/etc/conduit/alerts.yaml');
  // The tests run in the repository, which has no alerts.yaml.
  assert.equal(readSettings({}, {}).alerts, undefined);
});
