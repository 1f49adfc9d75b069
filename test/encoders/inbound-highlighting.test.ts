/**
 * Issue 13 rule 6 on highlighting: `\H\` (start highlighting) and `\N\` (normal text) in a
 * text OBX-5 and in NTE-3 go out in the ORU^R01 where they were sent; FHIR strings have no highlighting,
 * so the FHIR text drops them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DiagnosticReport, Observation } from '@medplum/fhirtypes';
import { MSH, PID, through } from './inbound-support.ts';

const message = [
  MSH,
  PID,
  'OBR|1||FIL-1|FILM^Blood film^99LAB|||20261120091000+0100||||||||||||||||||F',
  'NTE|1|L|\\H\\Reviewed\\N\\ by a haematologist.',
  'OBX|1|FT|FILM^Blood film comment^99LAB||\\H\\Film:\\N\\ pencil cells \\T\\ target cells.\\.br\\\\H\\Iron studies\\N\\ suggested.~Second line \\E\\H\\E\\ as text.||||||F',
  'NTE|1|L|Call \\H\\ward 7\\N\\.',
];

test('ORU^R01: \\H\\ and \\N\\ go back where they were sent; other escapes as before', () => {
  const { oru } = through(message);
  assert.equal(
    oru.segment('OBX')!.raw(5),
    '\\H\\Film:\\N\\ pencil cells \\T\\ target cells.\\.br\\\\H\\Iron studies\\N\\ suggested.\\.br\\Second line \\E\\H\\E\\ as text.',
  );
});

test('ORU^R01: NTEs keep their highlighting too, after the OBR and after an OBX', () => {
  const { oru } = through(message);
  assert.deepEqual(
    oru.segments.filter((s) => s.name === 'NTE').map((s) => s.raw(3)),
    ['\\H\\Reviewed\\N\\ by a haematologist.', 'Call \\H\\ward 7\\N\\.'],
  );
});

test('FHIR: the text without highlighting', () => {
  const t = through(message);
  const [o] = t.resources<Observation>('Observation');
  assert.deepEqual(o!.note, [{ text: 'Call ward 7.' }]);
  assert.equal(t.resources<DiagnosticReport>('DiagnosticReport')[0]!.conclusion, 'Reviewed by a haematologist.');
  assert.equal(o!.valueString, 'Film: pencil cells & target cells.\nIron studies suggested.\nSecond line \\H\\ as text.');
});
