import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FhirServerPeer, startFhirServer } from '../../peers/fhir-server/index.ts';
import { assertOutcome, Cleanup, fhirSender, send } from './helpers.ts';

const cleanup = new Cleanup();
after(() => cleanup.run());

describe('FHIR sender: static bearer token and no auth', () => {
  let fhir: FhirServerPeer;
  before(async () => {
    fhir = cleanup.add(await startFhirServer());
    fhir.requireBearer((token) => token === 'api-key-7f3a9');
  });

  it('sends Authorization: Bearer <token>', async () => {
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl, auth: { type: 'bearer', token: 'api-key-7f3a9' } });
    assertOutcome(await send(sender), 'acknowledged');
    assert.equal(fhir.requests.at(-1)!.authorization, 'Bearer api-key-7f3a9');
  });

  it('a refused static token is rejected AUTH_UNAUTHORIZED at once: nothing to refresh, one request', async () => {
    const before = fhir.requests.length;
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl, auth: { type: 'bearer', token: 'revoked-key' } });
    const outcome = await send(sender);
    assertOutcome(outcome, 'rejected', 'AUTH_UNAUTHORIZED');
    assert.equal(outcome.detail, '401 Unauthorized: Unauthorized');
    assert.equal(fhir.requests.length, before + 1);
  });

  it('without auth a server that wants a token answers 401: rejected AUTH_UNAUTHORIZED', async () => {
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl });
    assertOutcome(await send(sender), 'rejected', 'AUTH_UNAUTHORIZED');
    assert.equal(fhir.requests.at(-1)!.authorization, undefined);
  });
});
