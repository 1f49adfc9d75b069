/** The JSON-path diff `conduit test` prints for FHIR outputs, and the parser that keeps numbers as written. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffJson } from '../../src/testing/json-diff.ts';
import { parseRawJson, rawJsonText } from '../../src/testing/raw-json.ts';
import { prettyJson } from '../../src/util/pretty-json.ts';

const observation = (id: string, value: string) =>
  `{"fullUrl":"urn:uuid:${id}","resource":{"resourceType":"Observation","code":{"coding":[{"system":"http://loinc.org","code":"6298-4"}]},"valueQuantity":{"value":${value},"unit":"mmol/L"}}}`;
const bundle = (...entries: string[]) => `{"resourceType":"Bundle","type":"transaction","entry":[${entries.join(',')}]}`;
const base = bundle(observation('a', '5.4'), observation('b', '6.1'), observation('c', '4.2'));

test('raw JSON keeps numbers as written and round-trips compact text', () => {
  const v = parseRawJson('{"a": 6.0, "b": [1e3, -0.50, true, null], "c": "x\\"y\\u00e9"}');
  assert.equal(rawJsonText(v), '{"a":6.0,"b":[1e3,-0.50,true,null],"c":"x\\"yé"}');
  assert.throws(() => parseRawJson('{"a": 1,}'), /expected a key/);
  assert.throws(() => parseRawJson('[1] 2'), /unexpected text/);
  assert.throws(() => parseRawJson('{"a": 01}'), /expected ','/);
});

test('equal documents: no differences, however they are indented', () => {
  assert.deepEqual(diffJson(base, prettyJson(base)), []);
});

test('a changed value: its JSON path and both values, numbers as written', () => {
  const actual = base.replace('"value":6.1', '"value":6.2');
  assert.deepEqual(diffJson(base, actual), ['entry[1].resource.valueQuantity.value: expected 6.1, got 6.2']);
});

test('6.0 and 6 differ (FHIR decimals keep their precision), as do 6 and "6"', () => {
  const exp = bundle(observation('a', '6.0'));
  assert.deepEqual(diffJson(exp, exp.replace('6.0', '6')), ['entry[0].resource.valueQuantity.value: expected 6.0, got 6']);
  assert.deepEqual(diffJson(exp, exp.replace('6.0', '"6.0"')), ['entry[0].resource.valueQuantity.value: expected 6.0, got "6.0"']);
});

test('keys added and removed, at any depth; key order does not matter', () => {
  const exp = '{"status":"final","valueQuantity":{"value":6.1,"unit":"mmol/L","system":"http://unitsofmeasure.org"}}';
  const act = '{"valueQuantity":{"unit":"mmol/L","value":6.1,"comparator":">"},"status":"final","interpretation":[{"text":"H"}]}';
  assert.deepEqual(diffJson(exp, act), [
    'valueQuantity.system: removed "http://unitsofmeasure.org"',
    'valueQuantity.comparator: added ">"',
    'interpretation: added [{"text":"H"}]',
  ]);
});

test('nested arrays of objects: the item and the key inside it', () => {
  const exp = '{"entry":[{"resource":{"identifier":[{"system":"s","value":"MRN-1"},{"system":"t","value":"pat_1"}]}}]}';
  const act = exp.replace('"pat_1"', '"pat_2"');
  assert.deepEqual(diffJson(exp, act), ['entry[0].resource.identifier[1].value: expected "pat_1", got "pat_2"']);
  assert.deepEqual(diffJson('{"a":[[1,2],[3,4]]}', '{"a":[[1,2],[3,5]]}'), ['a[1][1]: expected 4, got 5']);
});

test('an array item added or removed in the middle shows as that, not as changes to every later item', () => {
  const extra = observation('x', '140');
  assert.deepEqual(diffJson(base, bundle(observation('a', '5.4'), extra, observation('b', '6.1'), observation('c', '4.2'))), [
    `entry[1]: added ${extra.slice(0, 120)}…`,
  ]);
  assert.deepEqual(diffJson(base, bundle(observation('a', '5.4'), observation('c', '4.2'))), [`entry[1]: removed ${observation('b', '6.1').slice(0, 120)}…`]);
  assert.deepEqual(diffJson('{"given":["Thi","Mai"]}', '{"given":["Thi"]}'), ['given[1]: removed "Mai"']);
});

test('a value of another type, and keys that are not identifiers', () => {
  assert.deepEqual(diffJson('{"a":{"b":1}}', '{"a":[1]}'), ['a: expected {"b":1}, got [1]']);
  assert.deepEqual(diffJson('{"mmol/L":1}', '{"mmol/L":2}'), ['["mmol/L"]: expected 1, got 2']);
  assert.deepEqual(diffJson('1', '2'), ['(root): expected 1, got 2']);
});

test('long strings (Base64 attachments) are shown around where they differ', () => {
  const data = 'JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoKdHJhaWxlcgo8PC9Sb290IDEgMCBSPj4KJSVFT0YK';
  const [line] = diffJson(`{"data":"${data}"}`, `{"data":"${data.replace('dHJhaWxlcgo8', 'dHJhaWxlcgo9')}"}`);
  assert.match(line!, /^data: expected …\S+…?, got …\S+…?$/);
  assert.ok(line!.includes('dHJhaWxlcgo8') && line!.includes('dHJhaWxlcgo9'), line);
});

test('a file that is not JSON is named as such', () => {
  assert.match(diffJson('{"a":', '{"a":1}').join('\n'), /^\(expected file\): not valid JSON: .+ at character 5$/);
  assert.match(diffJson('{"a":1}', '{"a":1').join('\n'), /^\(output\): not valid JSON: /);
});
