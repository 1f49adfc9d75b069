import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { exportPKCS8, generateKeyPair } from 'jose';
import { sequence, startFhirServer } from '../../peers/fhir-server/index.ts';
import { startTokenServer } from '../../peers/oauth/index.ts';
import { assertOutcome, Cleanup, captureLog, fhirSender, INVALID_OBSERVATION, send } from './helpers.ts';

const cleanup = new Cleanup();
after(() => cleanup.run());

const SECRET = 'cl1ent-s3cret-value';

describe('FHIR sender logs: codes and statuses, never bodies, identifiers or credentials', () => {
  it('across deliveries, rejections, retries and token refreshes', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
    const pem = await exportPKCS8(privateKey);
    const oauth = cleanup.add(
      await startTokenServer({
        clients: [
          { clientId: 'lab', clientSecret: SECRET },
          { clientId: 'lab-jwt', publicKey, keyId: 'k1' },
        ],
      }),
    );
    const fhir = cleanup.add(await startFhirServer());
    fhir.requireBearer((token) => oauth.isValid(token));
    const { log, lines } = captureLog();
    const cc = { type: 'oauth2-client-credentials', tokenUrl: oauth.tokenUrl, clientId: 'lab', clientSecret: SECRET };
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl, auth: cc }, { log });
    const smart = fhirSender(cleanup, { baseUrl: fhir.baseUrl, auth: { type: 'smart-backend', tokenUrl: oauth.tokenUrl, clientId: 'lab-jwt', keyId: 'k1', algorithm: 'ES384', privateKey: pem } }, { log });
    const wrong = fhirSender(cleanup, { baseUrl: fhir.baseUrl, auth: { ...cc, clientSecret: 'not-the-secret' } }, { log });

    assertOutcome(await send(sender), 'acknowledged');
    assertOutcome(await send(smart), 'acknowledged');
    assertOutcome(await send(sender, INVALID_OBSERVATION), 'rejected', 'HTTP_CLIENT_ERROR');
    oauth.revokeAll();
    assertOutcome(await send(sender), 'acknowledged');
    fhir.script(sequence({ status: 503, body: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient', diagnostics: 'Patient Okonkwo locked' }] } }));
    assertOutcome(await send(sender), 'retryable', 'HTTP_SERVER_ERROR');
    assertOutcome(await send(wrong), 'rejected', 'AUTH_TOKEN_REJECTED');

    const text = lines.join('\n');
    const tokens = fhir.requests.flatMap((r) => (r.authorization ? [r.authorization.slice('Bearer '.length)] : []));
    assert.ok(tokens.length > 0);
    const forbidden = [
      'Okonkwo', 'Adaeze', 'Lindqvist', 'MRN-40211', 'MRN-51877', 'ACC-77120', '2823-3', '5.9', 'mmol', 'Invalid JSON type',
      SECRET, 'not-the-secret', 'PRIVATE KEY', pem.split('\n')[1]!, ...tokens, 'Basic ', 'client_assertion', 'eyJ',
    ];
    for (const s of forbidden) assert.ok(!text.includes(s), `the log holds '${s}'`);
    for (const code of ['HTTP_CLIENT_ERROR', 'HTTP_SERVER_ERROR', 'AUTH_TOKEN_REJECTED']) assert.ok(text.includes(`"code":"${code}"`), code);
    assert.ok(text.includes('"status":401'));
  });
});
