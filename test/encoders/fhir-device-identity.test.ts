/**
 * Issue 8 §2: a Device keeps both identities, the platform's device id and the serial, each
 * in its own system, and the conditional create matches on the platform id when there is
 * one: a report without a serial finds the same Device as one with it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Bundle, BundleEntry, Device } from '@medplum/fhirtypes';
import type { LabReport } from '../../src/canonical/report.ts';
import type { Encoded } from '../../src/encoders/types.ts';
import { fhirEncoder, repoTables } from './mapping-support.ts';
import { CTX, report } from './support.ts';

const SETTINGS = { deviceIdSystem: 'https://example.org/sid/device-id', deviceIdentifierSystem: 'https://example.org/sid/device-serial' };

function deviceEntry(device: LabReport['device']): BundleEntry<Device> | undefined {
  const out = fhirEncoder(SETTINGS, repoTables()).encoder.encode(report({ device }), CTX) as Encoded;
  return (JSON.parse(out.payload) as Bundle).entry!.find((e) => e.resource?.resourceType === 'Device') as BundleEntry<Device> | undefined;
}

test('both identifiers, each in its system; the match is the platform id', () => {
  const e = deviceEntry({ id: 'dev_AF2_0007', model: 'Afinion 2', serial: 'AF2-11873' })!;
  assert.deepEqual(e.resource!.identifier, [
    { system: SETTINGS.deviceIdSystem, value: 'dev_AF2_0007' },
    { system: SETTINGS.deviceIdentifierSystem, value: 'AF2-11873' },
  ]);
  assert.equal(e.resource!.serialNumber, 'AF2-11873');
  assert.equal(e.request!.ifNoneExist, `identifier=${encodeURIComponent(`${SETTINGS.deviceIdSystem}|dev_AF2_0007`)}`);
});

test('one analyser is one Device: with and without a serial, the same conditional create', () => {
  const withSerial = deviceEntry({ id: 'dev_AF2_0007', serial: 'AF2-11873' })!;
  const withoutSerial = deviceEntry({ id: 'dev_AF2_0007' })!;
  assert.equal(withoutSerial.request!.ifNoneExist, withSerial.request!.ifNoneExist);
  assert.deepEqual(withoutSerial.resource!.identifier, [{ system: SETTINGS.deviceIdSystem, value: 'dev_AF2_0007' }]);
});

test('a device known by its serial alone is matched on the serial; none at all makes no Device', () => {
  const serialOnly = deviceEntry({ serial: 'AF2-11873', model: 'Afinion 2' })!;
  assert.equal(serialOnly.request!.ifNoneExist, `identifier=${encodeURIComponent(`${SETTINGS.deviceIdentifierSystem}|AF2-11873`)}`);
  assert.equal(deviceEntry({ model: 'Afinion 2' }), undefined);
});
