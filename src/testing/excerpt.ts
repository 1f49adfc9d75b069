/** Values in a diff line: short ones whole, long ones (Base64 documents) around where they differ. */
const WIDTH = 60;
const BEFORE = 12;

export function excerpts(expected: string, actual: string): [string, string] {
  if (expected.length <= WIDTH && actual.length <= WIDTH) return [expected, actual];
  let p = 0;
  while (p < expected.length && p < actual.length && expected[p] === actual[p]) p++;
  const start = p > BEFORE ? p - BEFORE : 0;
  return [cut(expected, start), cut(actual, start)];
}

export function truncate(text: string, width = WIDTH * 2): string {
  return cut(text, 0, width);
}

function cut(text: string, start: number, width = WIDTH): string {
  const end = start + width;
  return `${start > 0 ? '…' : ''}${text.slice(start, end)}${end < text.length ? '…' : ''}`;
}
