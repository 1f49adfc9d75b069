/**
 * The HTTPS settings (--tls-cert, --tls-key, --tls-client-ca and their CONDUIT_TLS_* variables):
 * what goes together, and `conduit start` refusing files it cannot use with the setting and
 * the file named, before anything listens.
 */
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readSettings } from '../../src/config/settings.ts';
import { conduit, REPO } from '../cli/support.ts';
import { type CertFiles, certificateDir, makeCa, skipWithoutOpenssl, type TestCa } from '../support/certs.ts';
import { mkdirSync, writeFileSync } from 'node:fs';

test('the three settings come from flags or the environment; their paths are made absolute', () => {
  const s = readSettings({ '--tls-cert': 'tls/server.crt' }, { CONDUIT_TLS_KEY: 'tls/server.key', CONDUIT_TLS_CLIENT_CA: '/etc/conduit/clients.pem' });
  assert.equal(s.tlsCert, resolve('tls/server.crt'));
  assert.equal(s.tlsKey, resolve('tls/server.key'));
  assert.equal(s.tlsClientCa, '/etc/conduit/clients.pem');
  assert.equal(readSettings({}, {}).tlsCert, undefined);
});

for (const [name, flags, setting, words] of [
  ['a certificate without its key', { '--tls-cert': 'a.crt' }, 'tlsKey', /both --tls-cert \(CONDUIT_TLS_CERT\) and --tls-key \(CONDUIT_TLS_KEY\)/],
  ['a key without its certificate', { '--tls-key': 'a.key' }, 'tlsCert', /give both or neither/],
  ['a client CA without HTTPS', { '--tls-client-ca': 'ca.pem' }, 'tlsClientCa', /--tls-client-ca \(CONDUIT_TLS_CLIENT_CA\) needs HTTPS/],
] as Array<[string, Record<string, string>, string, RegExp]>) {
  test(`a settings error: ${name}`, () => {
    assert.throws(
      () => readSettings(flags, {}),
      (e: Error & { issues?: Array<{ path: PropertyKey[]; message: string }> }) =>
        e.name === 'ZodError' && e.issues?.length === 1 && e.issues[0]!.path.join('.') === setting && words.test(e.issues[0]!.message),
    );
  });
}

describe('conduit start with HTTPS files it cannot use', { skip: skipWithoutOpenssl }, () => {
  const certs = certificateDir();
  let ca: TestCa;
  let server: CertFiles;
  let channels: string;
  const start = (flags: string[], env: Record<string, string> = {}) =>
    conduit(['start', '--channels', channels, '--mappings', join(REPO, 'mappings'), '--data', join(certs.dir, 'data'), '--port', '0', ...flags], env);
  const file = (name: string, text: string) => {
    const path = join(certs.dir, name);
    writeFileSync(path, text);
    return path;
  };

  before(() => {
    ca = makeCa(certs.dir);
    server = ca.server('conduit');
    channels = join(certs.dir, 'channels');
    mkdirSync(channels);
    writeFileSync(join(channels, 'in.yaml'), 'id: in\nsource:\n  type: webhook\nmapping: platform-result\ndestinations:\n  - id: lis\n    mapping: oru-r01-lis\n    sender:\n      type: mllp\n      host: 127.0.0.1\n      port: 1\n');
  });
  after(() => certs.remove());

  test('settings that do not go together: exit 2 with the flags named', () => {
    const r = start(['--tls-cert', server.cert]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /invalid option: tlsKey: HTTPS needs both --tls-cert/);
  });

  test('a certificate file that does not exist: exit 1 naming the setting and the file', () => {
    const missing = join(certs.dir, 'missing.crt');
    const r = start(['--tls-cert', missing, '--tls-key', server.key]);
    assert.equal(r.status, 1);
    assert.ok(r.stderr.includes(`Conduit did not start: --tls-cert (CONDUIT_TLS_CERT): '${missing}': cannot read it (ENOENT)`), r.stderr);
  });

  test('a certificate that is not PEM, given by the environment: exit 1 saying so', () => {
    const garbage = file('garbage.crt', 'hello\n');
    const r = start([], { CONDUIT_TLS_CERT: garbage, CONDUIT_TLS_KEY: server.key });
    assert.equal(r.status, 1);
    assert.ok(r.stderr.includes(`--tls-cert (CONDUIT_TLS_CERT): '${garbage}': not a PEM certificate`), r.stderr);
  });

  test('a key that does not match the certificate: exit 1 naming --tls-key', () => {
    const other = ca.server('other');
    const r = start(['--tls-cert', server.cert, '--tls-key', other.key]);
    assert.equal(r.status, 1);
    assert.ok(r.stderr.includes(`--tls-key (CONDUIT_TLS_KEY): '${other.key}': the key does not match the certificate`), r.stderr);
  });

  test('a client CA file without a certificate: exit 1 naming --tls-client-ca', () => {
    const r = start(['--tls-cert', server.cert, '--tls-key', server.key, '--tls-client-ca', server.key]);
    assert.equal(r.status, 1);
    assert.ok(r.stderr.includes(`--tls-client-ca (CONDUIT_TLS_CLIENT_CA): '${server.key}': holds no PEM certificate`), r.stderr);
  });
});
