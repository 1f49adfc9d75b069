import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { senderPlugins } from '../../../src/plugins.ts';
import { FHIR_DESTINATION_DEFAULTS, fhirDestinationConfig, fhirSenderPlugin } from '../../../src/senders/fhir/index.ts';
import { AUTH_DEFAULTS } from '../../../src/senders/http/auth/index.ts';
import { captureLog } from './helpers.ts';

function issues(input: unknown): Array<{ path: string; message: string; code: string }> {
  const result = fhirDestinationConfig.safeParse(input);
  assert.equal(result.success, false, 'expected the config to be refused');
  return result.error!.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code }));
}

describe('FHIR destination config', () => {
  it('is registered as the fhir sender plugin', () => {
    assert.equal(senderPlugins['fhir'], fhirSenderPlugin);
    assert.equal(fhirSenderPlugin.kind, 'fhir');
  });

  it('fills the defaults: 30 s timeout, no auth', () => {
    assert.deepEqual(fhirDestinationConfig.parse({ baseUrl: 'https://ehr.example/fhir/R4' }), {
      baseUrl: 'https://ehr.example/fhir/R4',
      timeoutMs: 30_000,
      auth: { type: 'none' },
    });
    assert.equal(FHIR_DESTINATION_DEFAULTS.timeoutMs, 30_000);
    assert.ok(Object.isFrozen(FHIR_DESTINATION_DEFAULTS) && Object.isFrozen(AUTH_DEFAULTS));
  });

  it('fills the defaults of each auth type', () => {
    const cc = fhirDestinationConfig.parse({
      baseUrl: 'https://ehr.example/fhir',
      auth: { type: 'oauth2-client-credentials', tokenUrl: 'https://auth.example/token', clientId: 'c', clientSecret: 's' },
    }).auth;
    assert.deepEqual(cc, {
      type: 'oauth2-client-credentials',
      tokenUrl: 'https://auth.example/token',
      clientId: 'c',
      clientSecret: 's',
      authMethod: 'client_secret_basic',
      tokenLifetimeLeewayS: 30,
    });
    const smart = fhirDestinationConfig.parse({
      baseUrl: 'https://ehr.example/fhir',
      auth: { type: 'smart-backend', tokenUrl: 'https://auth.example/token', clientId: 'c', keyId: 'k1', privateKey: 'file:keys/lab.pem' },
    }).auth;
    assert.deepEqual(smart, {
      type: 'smart-backend',
      tokenUrl: 'https://auth.example/token',
      clientId: 'c',
      keyId: 'k1',
      privateKey: 'file:keys/lab.pem',
      algorithm: 'RS384',
      scope: 'system/*.write',
      tokenLifetimeLeewayS: 30,
    });
  });

  it('reports every problem with its path, unknown keys included', () => {
    assert.deepEqual(issues({ baseUrl: 'ftp://ehr.example', timeoutMs: 0, retries: 3 }), [
      { path: 'baseUrl', message: 'expected an http:// or https:// URL', code: 'invalid_format' },
      { path: 'timeoutMs', message: 'Too small: expected number to be >0', code: 'too_small' },
      { path: '', message: 'Unrecognized key: "retries"', code: 'unrecognized_keys' },
    ]);
  });

  it('auth: an unknown type names the ones there are; each type is strict and says what is missing', () => {
    assert.deepEqual(issues({ baseUrl: 'https://e.example', auth: { type: 'basic' } }), [
      { path: 'auth.type', message: "expected auth.type 'none', 'bearer', 'oauth2-client-credentials' or 'smart-backend'", code: 'invalid_union' },
    ]);
    assert.deepEqual(issues({ baseUrl: 'https://e.example', auth: { type: 'bearer', token: '', scope: 'x' } }), [
      { path: 'auth.token', message: 'expected the token', code: 'too_small' },
      { path: 'auth', message: 'Unrecognized key: "scope"', code: 'unrecognized_keys' },
    ]);
    assert.deepEqual(
      issues({ baseUrl: 'https://e.example', auth: { type: 'oauth2-client-credentials', tokenUrl: 'not a url', clientId: 'c', authMethod: 'private_key_jwt' } }),
      [
        { path: 'auth.tokenUrl', message: 'expected an http:// or https:// URL', code: 'invalid_format' },
        { path: 'auth.clientSecret', message: 'expected the client secret', code: 'invalid_type' },
        { path: 'auth.authMethod', message: 'Invalid option: expected one of "client_secret_basic"|"client_secret_post"', code: 'invalid_value' },
      ],
    );
    assert.deepEqual(
      issues({ baseUrl: 'https://e.example', auth: { type: 'smart-backend', tokenUrl: 'https://a.example/t', clientId: 'c', privateKey: 'MIIEvQ…', algorithm: 'RS256' } }),
      [
        { path: 'auth.privateKey', message: "expected PEM text ('-----BEGIN PRIVATE KEY-----…') or 'file:<path to a PEM file>'", code: 'custom' },
        { path: 'auth.keyId', message: 'expected the key id (kid) registered with the server', code: 'invalid_type' },
        { path: 'auth.algorithm', message: 'Invalid option: expected one of "RS384"|"ES384"', code: 'invalid_value' },
      ],
    );
  });

  it('headers: names must be tokens, and credentials or framing headers cannot be set there', () => {
    assert.deepEqual(issues({ baseUrl: 'https://e.example', headers: { Authorization: 'Bearer x', 'Content-Type': 'application/json', 'X-Ok': 'y' } }), [
      { path: 'headers.Authorization', message: "header 'Authorization' cannot be set here: set credentials with auth (type bearer for a fixed token)", code: 'custom' },
      { path: 'headers.Content-Type', message: "header 'Content-Type' cannot be set here: the sender always sends application/fhir+json", code: 'custom' },
    ]);
    assert.equal(issues({ baseUrl: 'https://e.example', headers: { 'bad name': 'x' } })[0]!.path, 'headers.bad name');
  });

  it('warns when credentials would travel over plain http to a host that is not loopback', () => {
    const { log, lines } = captureLog();
    const config = fhirDestinationConfig.parse({ baseUrl: 'http://ehr.example/fhir', auth: { type: 'bearer', token: 't0k3n' } });
    fhirSenderPlugin.create(config, { log });
    assert.equal(lines.filter((l) => l.includes('"code":"CONFIG_INSECURE"')).length, 1);
    assert.ok(!lines.join('').includes('t0k3n'));
    const quiet = captureLog();
    fhirSenderPlugin.create(fhirDestinationConfig.parse({ baseUrl: 'http://127.0.0.1:8080/fhir', auth: { type: 'bearer', token: 't' } }), { log: quiet.log });
    assert.equal(quiet.lines.length, 0);
  });
});
