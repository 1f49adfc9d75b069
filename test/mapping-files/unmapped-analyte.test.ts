/**
 * Issue 4, point 4: an analyte with no LOINC in the table does not stop delivery. The LIS gets
 * the ORU^R01 and the EHR the Bundle with the local code alone; each delivery carries the
 * warning in the admin API (GET /api/messages/:id, deliveries[].warnings), without patient data.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type FhirServerPeer, startFhirServer } from '../peers/fhir-server/index.ts';
import { makeEvent } from '../support/events.ts';
import { toEhrChannel } from '../support/fhir-channel.ts';
import { startTestEngine, type TestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { sandboxMessages, startSandboxLis } from '../support/sandbox.ts';

type View = { status: string; deliveries: Array<{ destinationId: string; status: string; mappingVersion?: string; warnings?: string[] }> };

const WARNING = "analyte 'XYZ-NEW' has no LOINC code in tables/analytes.csv; sent with its local code only";

/** The full-panel event with one more observation whose analyte the table does not know. */
function eventWithUnknownAnalyte(resultId: string) {
  const e = makeEvent(resultId, { family: 'Okonkwo-Private' });
  const r = e.result as { observations: Array<Record<string, unknown>> };
  r.observations.push({ analyte: 'XYZ-NEW', display: 'New marker', value: '12.5', unit: 'zz/L', flags: [], status: 'final' });
  return e;
}

describe('an analyte without LOINC is delivered with its local code and a warning', () => {
  let lis: Awaited<ReturnType<typeof startSandboxLis>>;
  let fhir: FhirServerPeer;
  let t: TestEngine;
  before(async () => {
    lis = await startSandboxLis();
    fhir = await startFhirServer({ transactions: false });
    t = await startTestEngine({ 'to-lis.yaml': webhookToMllpChannel('to-lis', lis.mllpPort), 'to-ehr.yaml': toEhrChannel('to-ehr', fhir.baseUrl) });
  });
  after(async () => {
    await t.stop();
    await lis.stop();
    await fhir.close();
  });

  async function send(channel: string, event: unknown): Promise<View> {
    const res = await t.post(`/channels/${channel}`, event);
    assert.equal(res.status, 201, await res.clone().text());
    const { messageId } = (await res.json()) as { messageId: string };
    await t.drained();
    return (await (await t.admin(`/api/messages/${messageId}`)).json()) as View;
  }

  test('ORU^R01 to the LIS: acknowledged, OBX-3 with the local code alone, the warning recorded', async () => {
    const view = await send('to-lis', eventWithUnknownAnalyte('res_NOLOINC_1'));
    assert.equal(view.status, 'acknowledged');
    const d = view.deliveries[0]!;
    assert.equal(d.status, 'acknowledged');
    assert.deepEqual(d.warnings, [WARNING]);
    assert.match(d.mappingVersion ?? '', /^oru-r01-lis@[0-9a-f]{12}$/);
    assert.ok(!JSON.stringify(d.warnings).includes('Okonkwo'), 'no patient data in warnings');
    const received = (await sandboxMessages(lis)).find((m) => m.includes('res_NOLOINC_1'))!;
    assert.match(received, /\rOBX\|4\|NM\|XYZ-NEW\^New marker\^L\|\|12\.5\|zz\/L\|/);
    assert.match(received, /\rOBX\|1\|NM\|GLU\^Glucose\^L\^14743-9\^/, 'the known analytes keep their LOINC');
  });

  test('FHIR Bundle to the EHR: accepted, Observation.code with the local coding alone, both warnings recorded', async () => {
    const view = await send('to-ehr', eventWithUnknownAnalyte('res_NOLOINC_2'));
    assert.equal(view.status, 'acknowledged');
    assert.deepEqual(view.deliveries[0]!.warnings, [WARNING, "unit 'zz/L' has no UCUM code in tables/units.csv; sent as text without a UCUM code"]);
    const found = await fhir.search('Observation', 'code=https://catenix.example/fhir/CodeSystem/analyte|XYZ-NEW');
    const obs = found.entry![0]!.resource as unknown as { code: { coding: Array<{ system: string; code: string }> }; valueQuantity: Record<string, unknown> };
    assert.deepEqual(
      obs.code.coding.map((c) => c.code),
      ['XYZ-NEW'],
    );
    assert.deepEqual(obs.valueQuantity, { value: 12.5, unit: 'zz/L' });
  });

  test('a report whose analytes all have LOINC carries no warnings', async () => {
    const view = await send('to-lis', makeEvent('res_NOLOINC_3'));
    assert.equal(view.deliveries[0]!.warnings, undefined);
  });
});
