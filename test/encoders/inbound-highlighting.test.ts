/**
 * Issue 13 rule 6 on highlighting: `\H\` (start highlighting) and `\N\` (normal text) in a
 * text OBX-5 go out in the ORU^R01 where they were sent; FHIR strings have no highlighting,
 * so the FHIR text drops them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Observation } from '@medplum/fhirtypes';
import { MSH, PID, through } from './inbound-support.ts';

const message = [
  MSH,
  PID,
  'OBR|1||FIL-1|FILM^Blood film^99LAB|||20261120091000+0100||||||||||||||||||F',
  'OBX|1|FT|FILM^Blood film comment^99LAB||\\H\\Film:\\N\\ pencil cells \\T\\ target cells.\\.br\\\\H\\Iron studies\\N\\ suggested.~Second line \\E\\H\\E\\ as text.||||||F',
];

test('ORU^R01: \\H\\ and \\N\\ go back where they were sent; other escapes as before', () => {
  const { oru } = through(message);
  assert.equal(
    oru.segment('OBX')!.raw(5),
    '\\H\\Film:\\N\\ pencil cells \\T\\ target cells.\\.br\\\\H\\Iron studies\\N\\ suggested.\\.br\\Second line \\E\\H\\E\\ as text.',
  );
});

test('FHIR: the text without highlighting', () => {
  const [o] = through(message).resources<Observation>('Observation');
  assert.equal(o!.valueString, 'Film: pencil cells & target cells.\nIron studies suggested.\nSecond line \\H\\ as text.');
});
