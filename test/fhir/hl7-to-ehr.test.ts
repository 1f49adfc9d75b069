/**
 * ORU^R01 over MLLP (our listener) → canonical → FHIR transaction Bundles → the FHIR server
 * peer, for every HL7 v2 sample in samples/hl7v2 (v2.3 to v2.5.1, several delimiters and
 * value types).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Hl7Message, readAck } from '../../src/protocols/hl7v2/index.ts';
import { MllpClientConnection } from '../../src/protocols/mllp/index.ts';
import { type FhirServerPeer, startFhirServer } from '../peers/fhir-server/index.ts';
import { toEhrChannel } from '../support/fhir-channel.ts';
import { startTestEngine, type TestEngine } from '../support/in-process.ts';
import { hl7v2Sample, hl7v2SampleNames } from '../support/repo.ts';

const samples = hl7v2SampleNames();

describe('HL7 v2 ORU^R01 → FHIR R4 on a real FHIR server', () => {
  let fhir: FhirServerPeer;
  let t: TestEngine;
  let conn: MllpClientConnection;
  before(async () => {
    fhir = await startFhirServer({ transactions: false });
    t = await startTestEngine({
      'hl7-to-ehr.yaml': toEhrChannel('hl7-to-ehr', fhir.baseUrl, { source: '  type: mllp\n  host: 127.0.0.1\n  port: 0', mapping: 'hl7v2-oru' }),
    });
    const port = Number(/:(\d+)$/.exec(t.engine.channels[0]!.describeSource())![1]);
    conn = await MllpClientConnection.connect({ host: '127.0.0.1', port, connectTimeoutMs: 2000, maxFrameBytes: 1 << 20 });
  });
  after(async () => {
    await conn.close();
    await t.stop();
    await fhir.close();
  });

  async function deliver(file: string) {
    const text = hl7v2Sample(file).replace(/\r?\n/g, '\r');
    return readAck(Hl7Message.parse((await conn.request(text, 5000)).toString()));
  }

  test(`each of the ${samples.length} samples is acknowledged AA and every order reaches the EHR`, async () => {
    assert.ok(samples.length >= 6);
    for (const f of samples) {
      const ack = await deliver(f);
      assert.equal(ack.code, 'AA', `${f}: ${ack.text}`);
    }
    await t.drained(30_000);
    const { messages } = (await (await t.admin('/api/messages?limit=100')).json()) as { messages: Array<{ id: string; status: string }> };
    assert.ok(messages.length > samples.length, 'the two-order sample became two messages');
    for (const m of messages) {
      const view = (await (await t.admin(`/api/messages/${m.id}`)).json()) as { status: string; deliveries: Array<{ attempts: Array<{ detail?: string }> }> };
      assert.equal(view.status, 'acknowledged', JSON.stringify(view.deliveries[0]?.attempts));
    }
    const reports = await fhir.search('DiagnosticReport', { _count: '100' });
    assert.equal(reports.entry?.length, messages.length - 1, 'one DiagnosticReport per order; the correction updated its report');
  });

  test('resending every sample creates nothing new on the EHR', async () => {
    const count = async (type: string) => (await fhir.search(type, { _count: '1000' })).entry?.length ?? 0;
    const before = { p: await count('Patient'), r: await count('DiagnosticReport'), o: await count('Observation') };
    for (const f of samples) assert.equal((await deliver(f)).code, 'AA');
    // A resend with the same MSH-10 is a duplicate at intake; the admin resend goes to the EHR again.
    const { messages } = (await (await t.admin('/api/messages?limit=100')).json()) as { messages: Array<{ id: string }> };
    for (const m of messages) await t.admin(`/api/messages/${m.id}/resend`, { method: 'POST' });
    await t.drained(30_000);
    assert.deepEqual({ p: await count('Patient'), r: await count('DiagnosticReport'), o: await count('Observation') }, before);
  });

  test('values arrive as sent: SN comparators, coded results, PDFs', async () => {
    const all = (await fhir.search('Observation', { _count: '1000' })).entry!.map((e) => e.resource as unknown as Record<string, unknown>);
    assert.ok(all.some((o) => (o.valueQuantity as { comparator?: string } | undefined)?.comparator), 'an SN comparator became valueQuantity.comparator');
    assert.ok(all.some((o) => o.valueCodeableConcept), 'a CWE result became valueCodeableConcept');
    const withPdf = (await fhir.search('DiagnosticReport', { _count: '100' })).entry!.filter((e) => (e.resource as { presentedForm?: unknown[] }).presentedForm);
    assert.equal(withPdf.length, 1);
  });
});
