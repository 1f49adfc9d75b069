import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Hl7Message } from '../../src/protocols/hl7v2/index.ts';
import { makeEvent } from '../support/events.ts';
import { startTestEngine } from '../support/in-process.ts';
import { sandboxMessages, startSandboxLis } from '../support/sandbox.ts';

/** Seed 001: one LIS, several partner labs; `partner_lab_id` in the event picks the lab's feed. */
function channel(labA: number, labB: number): string {
  return `id: routed
source:
  type: webhook
filters:
  - name: northside-tenant-only
    when: report.provenance.tenant = 'northside-clinics'
  - name: final-or-corrected
    when: report.status in ['final', 'corrected']
mapping: platform-result
destinations:
  - id: lab-a
    mapping: oru-r01-lis
    when: input.result.partner_lab_id = 'LAB-A'
    sender: { type: mllp, host: 127.0.0.1, port: ${labA} }
    delivery: { maxAttempts: 2, initialBackoffMs: 50 }
  - id: lab-b
    mapping: oru-r01-lis
    when: input.result.partner_lab_id = 'LAB-B' or report.observations[code.code = 'HBA1C']
    sender: { type: mllp, host: 127.0.0.1, port: ${labB} }
    delivery: { maxAttempts: 2, initialBackoffMs: 50 }
`;
}

function event(id: string, extra: Record<string, unknown>, tenant = 'northside-clinics', status = 'final') {
  const e = makeEvent(id) as { tenant: string; result: Record<string, unknown> };
  e.tenant = tenant;
  Object.assign(e.result, extra, { status });
  return e;
}

test('filters keep reports out (stored as filtered, with the rule); routes pick destinations by any field', async () => {
  const a = await startSandboxLis();
  const b = await startSandboxLis();
  const t = await startTestEngine({ 'routed.yaml': channel(a.mllpPort, b.mllpPort) });
  after(async () => {
    await t.stop();
    await a.stop();
    await b.stop();
  });
  const post = async (e: unknown) => ((await (await t.post('/channels/routed', e)).json()) as { messageId: string }).messageId;
  const toA = await post(event('res_R1', { partner_lab_id: 'LAB-A', observations: [{ analyte: 'GLU', value: '5.1', status: 'final' }] }));
  const toB = await post(event('res_R2', { partner_lab_id: 'LAB-B', observations: [{ analyte: 'GLU', value: '5.2', status: 'final' }] }));
  const both = await post(event('res_R3', { partner_lab_id: 'LAB-A' }));
  const otherTenant = await post(event('res_R4', { partner_lab_id: 'LAB-A' }, 'riverside'));
  const preliminary = await post(event('res_R5', { partner_lab_id: 'LAB-A' }, 'northside-clinics', 'preliminary'));
  const nowhere = await post(event('res_R6', { partner_lab_id: 'LAB-Z', observations: [{ analyte: 'GLU', value: '5.3', status: 'final' }] }));
  await t.drained();

  const filler = async (lis: typeof a) => (await sandboxMessages(lis)).map((m) => Hl7Message.parse(m).segment('ORC')!.get(3));
  assert.deepEqual(await filler(a), ['res_R1', 'res_R3']);
  assert.deepEqual(await filler(b), ['res_R2', 'res_R3'], 'res_R3 has an HbA1c result, which also routes to lab B');

  const view = async (id: string) => (await (await t.admin(`/api/messages/${id}`)).json()) as { status: string; filteredBy?: string; deliveries: Array<{ destinationId: string }> };
  assert.deepEqual((await view(toA)).deliveries.map((d) => d.destinationId), ['lab-a']);
  assert.deepEqual((await view(toB)).deliveries.map((d) => d.destinationId), ['lab-b']);
  assert.deepEqual((await view(both)).deliveries.map((d) => d.destinationId), ['lab-a', 'lab-b']);
  assert.deepEqual(await view(otherTenant).then((v) => [v.status, v.filteredBy, v.deliveries.length]), ['filtered', 'filter northside-tenant-only', 0]);
  assert.deepEqual(await view(preliminary).then((v) => [v.status, v.filteredBy]), ['filtered', 'filter final-or-corrected']);
  assert.deepEqual(await view(nowhere).then((v) => [v.status, v.filteredBy]), ['filtered', 'routing: no destination condition holds']);
  const filtered = (await (await t.admin('/api/messages?status=filtered')).json()) as { messages: Array<{ id: string; status: string }> };
  assert.deepEqual(filtered.messages.map((m) => m.id).sort(), [otherTenant, preliminary, nowhere].sort());
});

test('a condition that is not valid JSONata is a configuration issue with its line', async () => {
  await assert.rejects(
    startTestEngine({ 'routed.yaml': channel(1, 2).replace("report.status in ['final', 'corrected']", "report.status in ['final'") }),
    /routed\.yaml:\d+: filters\[1\]\.when: not a valid JSONata expression/,
  );
});
