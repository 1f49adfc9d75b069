/**
 * Issue 13 rule 5: the HL7 null `""` ("delete the value you hold") is not an empty field
 * ("not sent"), and neither is the text `""`. The canonical observation leaves such a field
 * out and lists it in `nulls`, so that each output can say it its own way.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { issues, observation, obx, oru, report } from './support.ts';

test('"" in OBX-5, -6, -7 and -8 is a null: the field is left out and named in nulls', () => {
  const o = observation(oru(obx({ 5: '""', 6: '""', 7: '""', 8: '""', 11: 'D' })));
  assert.equal(o.value, '');
  assert.deepEqual([o.unit, o.ucum, o.referenceRange, o.flags], [undefined, undefined, undefined, []]);
  assert.deepEqual(o.nulls, ['value', 'unit', 'referenceRange', 'flags']);
});

test('a null value is a value of its own: accepted whatever OBX-11 says, unlike an empty NM', () => {
  assert.deepEqual(observation(oru(obx({ 5: '""', 11: 'F' }))).nulls, ['value']);
  assert.equal(issues(oru(obx({ 5: '', 11: 'F' }))).length, 1, 'an empty NM with F is still refused');
});

test('"" in OBX-16 or OBX-18 names no operator or device (not one called "")', () => {
  const r = report(oru(obx({ 16: '""', 18: '""' })));
  assert.deepEqual([r.operator, r.device], [undefined, undefined]);
  assert.deepEqual(report(oru(obx({ 16: '""' }), obx({ 1: '2', 16: 'OP12^Okafor^Jide' }))).operator, { id: 'OP12', name: 'Jide Okafor' });
});

test('empty fields are "not sent": no nulls, nothing left as the text ""', () => {
  const o = observation(oru(obx({ 7: '', 8: '' })));
  assert.equal(o.nulls, undefined);
  assert.deepEqual([o.referenceRange, o.flags], [undefined, []]);
  // Quotes inside a value are text, not a null.
  assert.equal(observation(oru(obx({ 2: 'ST', 5: 'said ""maybe""' }))).value, 'said ""maybe""');
});
