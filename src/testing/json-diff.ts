import { align } from './align.ts';
import { excerpts, truncate } from './excerpt.ts';
import { parseRawJson, type RawJson, rawJsonText } from './raw-json.ts';

/**
 * Differences between two JSON documents by JSON path, one line each:
 *
 *   entry[3].resource.valueQuantity.value: expected 6.1, got 6.2
 *   entry[3].resource.valueQuantity.value: expected 6.0, got 6      numbers as written
 *   entry[2].resource.interpretation: removed [{"coding":[…]}]
 *   entry[5]: added {"fullUrl":"urn:uuid:…",…}
 *
 * Array items are paired by similarity, so an item added or removed in the middle shows as
 * that. Indices are those of the expected document, and of the actual one for added items.
 * The order of an object's keys is not compared.
 */
export function diffJson(expectedText: string, actualText: string): string[] {
  let expected: RawJson;
  let actual: RawJson;
  try {
    expected = parseRawJson(expectedText);
  } catch (e) {
    return [`(expected file): not valid JSON: ${(e as Error).message}`];
  }
  try {
    actual = parseRawJson(actualText);
  } catch (e) {
    return [`(output): not valid JSON: ${(e as Error).message}`];
  }
  const out: string[] = [];
  diffValues('', expected, actual, out);
  return out;
}

function diffValues(path: string, a: RawJson, b: RawJson, out: string[]): void {
  if (a.type === 'object' && b.type === 'object') {
    for (const [key, x] of a.entries) {
      const y = b.entries.get(key);
      if (y === undefined) out.push(`${member(path, key)}: removed ${show(x)}`);
      else diffValues(member(path, key), x, y, out);
    }
    for (const [key, y] of b.entries) if (!a.entries.has(key)) out.push(`${member(path, key)}: added ${show(y)}`);
    return;
  }
  if (a.type === 'array' && b.type === 'array') {
    const leaves = new Map<RawJson, Map<string, number>>();
    const leavesOf = (v: RawJson) => leaves.get(v) ?? leaves.set(v, flatten(v)).get(v)!;
    for (const [i, j] of align(a.items, b.items, (x, y) => distance(x, y, leavesOf))) {
      if (i !== undefined && j !== undefined) diffValues(`${path}[${i}]`, a.items[i]!, b.items[j]!, out);
      else if (i !== undefined) out.push(`${path}[${i}]: removed ${show(a.items[i]!)}`);
      else if (j !== undefined) out.push(`${path}[${j}]: added ${show(b.items[j]!)}`);
    }
    return;
  }
  const x = rawJsonText(a);
  const y = rawJsonText(b);
  if (x === y) return;
  const [ex, ey] = a.type === b.type && a.type !== 'object' && a.type !== 'array' ? excerpts(x, y) : [show(a), show(b)];
  out.push(`${path || '(root)'}: expected ${ex}, got ${ey}`);
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function member(path: string, key: string): string {
  if (!IDENTIFIER.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}

function show(v: RawJson): string {
  return truncate(rawJsonText(v));
}

/** 0 for equal values, 1 for nothing in common; containers by the share of leaves they share. */
function distance(a: RawJson, b: RawJson, leavesOf: (v: RawJson) => Map<string, number>): number {
  if (textOf(a) === textOf(b)) return 0;
  if (a.type !== b.type || (a.type !== 'object' && a.type !== 'array')) return 1;
  const x = leavesOf(a);
  const y = leavesOf(b);
  let common = 0;
  let total = 0;
  for (const [leaf, n] of x) {
    common += Math.min(n, y.get(leaf) ?? 0);
    total += n;
  }
  for (const n of y.values()) total += n;
  return total === 0 ? 0 : 1 - (2 * common) / total;
}

const texts = new WeakMap<RawJson, string>();

/** The compact text of an array item, computed once: each is compared with every other item. */
function textOf(v: RawJson): string {
  let t = texts.get(v);
  if (t === undefined) {
    t = rawJsonText(v);
    texts.set(v, t);
  }
  return t;
}

/** `path=value` of every leaf, counted. */
function flatten(v: RawJson, path = '', out = new Map<string, number>()): Map<string, number> {
  if (v.type === 'object') for (const [k, x] of v.entries) flatten(x, `${path}.${k}`, out);
  else if (v.type === 'array') {
    for (const [i, x] of v.items.entries()) flatten(x, `${path}[${i}]`, out);
  }
  else {
    const leaf = `${path}=${rawJsonText(v)}`;
    out.set(leaf, (out.get(leaf) ?? 0) + 1);
  }
  return out;
}
