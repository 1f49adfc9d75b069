/**
 * Shared helpers for the HL7 v2 codec tests: the real-world samples, our fixtures and a
 * generator of segments full of delimiters, line breaks and non-ASCII, driven by the seeded
 * PRNG of ../support/prng.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Delimiters,
  encodeSegment,
  type FieldInput,
  formatMessage,
  readDelimiters,
  type RepetitionInput,
} from '../../../src/protocols/hl7v2/index.ts';
import { pick } from '../../support/prng.ts';
import { SHARED_SAMPLES_DIR } from '../../support/shared-samples.ts';

export interface MessageFile {
  name: string;
  text: string;
}

/** Real-world samples, read-only, outside the repository (../shared/hl7-samples; HL7_SAMPLES_DIR overrides). */
const SAMPLES_DIR = join(SHARED_SAMPLES_DIR, '/');
const FIXTURES_DIR = fileURLToPath(new URL('../../fixtures/hl7v2/', import.meta.url));

function readHl7Files(dir: string): MessageFile[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.hl7'))
    .sort()
    .map((name) => ({ name, text: readFileSync(dir + name, 'utf8') }));
}

/** The real-world samples, or undefined when the folder is absent (tests then skip). */
export function readSamples(): MessageFile[] | undefined {
  return existsSync(SAMPLES_DIR) ? readHl7Files(SAMPLES_DIR) : undefined;
}

export function readFixtures(): MessageFile[] {
  return readHl7Files(FIXTURES_DIR);
}

export function fixture(name: string): string {
  return readFileSync(FIXTURES_DIR + name, 'utf8');
}

/** Delimiter sets met in the wild or allowed by the standard, read through our own reader. */
export const DELIMITER_SETS: ReadonlyArray<{ label: string; delimiters: Delimiters }> = [
  { label: 'standard |^~\\&', delimiters: readDelimiters('MSH|^~\\&|') },
  { label: 'v2.7 five characters |^~\\&#', delimiters: readDelimiters('MSH|^~\\&#|') },
  { label: 'dollar subcomponent |^~\\$', delimiters: readDelimiters('MSH|^~\\$|') },
  { label: 'all custom |$%@!', delimiters: readDelimiters('MSH|$%@!|') },
  { label: 'hash field separator #^~\\&', delimiters: readDelimiters('MSH#^~\\&#') },
];

/**
 * Units a random leaf is built from: every delimiter of every set above, escape look-alikes,
 * all three line breaks, spaces, and non-ASCII up to astral emoji with ZWJ sequences.
 */
const UNITS = [
  '|', '^', '~', '\\', '&', '#', '$', '%', '@', '!',
  '\\F\\', '\\.br\\', '\\X0D\\', '\\H\\', '\\', '\\\\',
  '\r', '\n', '\r\n', ' ', '\t',
  'a', 'Z', '0', '9', '.', '-',
  'é', 'ệ', 'Ω', 'λ', '中', '文', 'µ', '\u00a0', '😀', '👩🏽‍⚕️',
];

export function randomLeaf(rand: () => number, maxUnits = 10): string {
  const n = Math.floor(rand() * (maxUnits + 1));
  let s = '';
  for (let i = 0; i < n; i++) s += pick(rand, UNITS);
  return s;
}

/** The leaf as `Hl7Segment.get` gives it back: line breaks become the \.br\ formatting escape. */
export function keptLeaf(value: string, d: Delimiters): string {
  return value.replace(/\r\n|\r|\n/g, `${d.escape}.br${d.escape}`);
}

/** The leaf as `get(..., { formatting: 'text' })` gives it back: every line break is "\n". */
export function textLeaf(value: string): string {
  return value.replace(/\r\n|\r|\n/g, '\n');
}

function randomRepetition(rand: () => number): RepetitionInput {
  const r = rand();
  if (r < 0.35) return randomLeaf(rand);
  if (r < 0.4) return null;
  const comps = Math.ceil(rand() * 4);
  return Array.from({ length: comps }, () => (rand() < 0.3 ? Array.from({ length: Math.ceil(rand() * 3) }, () => randomLeaf(rand, 6)) : randomLeaf(rand)));
}

function randomField(rand: () => number): FieldInput {
  if (rand() < 0.25) return { repeat: Array.from({ length: Math.ceil(rand() * 3) }, () => randomRepetition(rand)) };
  return randomRepetition(rand);
}

export interface GeneratedSegment {
  name: string;
  fields: FieldInput[];
}

const SEGMENT_NAMES = ['PID', 'ORC', 'OBR', 'OBX', 'NTE', 'ZX1'];

/** A message of random segments; the MSH fields from MSH-3 on are random too. */
export function randomMessage(rand: () => number, d: Delimiters): { text: string; segments: GeneratedSegment[] } {
  const segments: GeneratedSegment[] = [];
  const mshFields: FieldInput[] = [];
  const mshLength = 2 + Math.floor(rand() * 12);
  for (let f = 3; f <= mshLength; f++) mshFields[f] = randomField(rand);
  segments.push({ name: 'MSH', fields: mshFields });
  const count = 1 + Math.floor(rand() * 5);
  for (let i = 0; i < count; i++) {
    const fields: FieldInput[] = [];
    const length = Math.floor(rand() * 9);
    for (let f = 1; f <= length; f++) fields[f] = randomField(rand);
    segments.push({ name: pick(rand, SEGMENT_NAMES), fields });
  }
  return { text: formatMessage(segments.map((s) => encodeSegment(s.name, s.fields, d))), segments };
}

export interface LeafPosition {
  field: number;
  repetition: number;
  component: number;
  subcomponent: number;
}

/** The value an input puts at one position ('' where the input has nothing). */
export function inputLeaf(input: FieldInput, at: LeafPosition): string {
  let rep: RepetitionInput;
  if (input != null && typeof input === 'object' && !Array.isArray(input)) rep = input.repeat[at.repetition];
  else rep = at.repetition === 0 ? input : undefined;
  if (rep == null) return '';
  if (typeof rep === 'string') return at.component === 1 && at.subcomponent === 1 ? rep : '';
  const comp = rep[at.component - 1];
  if (comp == null) return '';
  if (typeof comp === 'string') return at.subcomponent === 1 ? comp : '';
  return comp[at.subcomponent - 1] ?? '';
}

/** Every position an input fills, plus one past each end, so absent leaves are checked too. */
export function* inputPositions(field: number, input: FieldInput): Generator<LeafPosition> {
  const reps: RepetitionInput[] = input != null && typeof input === 'object' && !Array.isArray(input) ? input.repeat : [input];
  for (let repetition = 0; repetition <= reps.length; repetition++) {
    const rep = reps[repetition];
    const comps = Array.isArray(rep) ? rep : [rep];
    for (let component = 1; component <= comps.length + 1; component++) {
      const comp = comps[component - 1];
      const subs = Array.isArray(comp) ? comp.length : 1;
      for (let subcomponent = 1; subcomponent <= subs + 1; subcomponent++) yield { field, repetition, component, subcomponent };
    }
  }
}

/** A position in the notation errors use: `PID-3[0].4.2`. */
export function where(leaf: LeafPosition & { name: string }): string {
  return `${leaf.name}-${leaf.field}[${leaf.repetition}].${leaf.component}.${leaf.subcomponent}`;
}
