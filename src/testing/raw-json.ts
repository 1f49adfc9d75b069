/**
 * A JSON parser that keeps each number as written: JSON.parse would read a FHIR decimal 6.0
 * as 6, and a golden test must see the difference between the two (FHIR R4 section 2.6.3.1:
 * the precision of a decimal is significant). RFC 8259 grammar, nothing more.
 */
export type RawJson =
  | { readonly type: 'object'; readonly entries: ReadonlyMap<string, RawJson> }
  | { readonly type: 'array'; readonly items: readonly RawJson[] }
  | { readonly type: 'string'; readonly value: string }
  /** `text` as written: `6.0`, `1e3`, `true`, `null`. */
  | { readonly type: 'number' | 'boolean' | 'null'; readonly text: string };

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

export function parseRawJson(text: string): RawJson {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at character ${i}`);
  };
  const skip = () => {
    WHITESPACE.lastIndex = i;
    WHITESPACE.exec(text);
    i = WHITESPACE.lastIndex;
  };
  const string = (): string => {
    // JSON string syntax is a subset of JavaScript's: let JSON.parse decode the escapes.
    const start = i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      i++;
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): RawJson => {
    skip();
    const c = text[i];
    if (c === '{') {
      i++;
      const entries = new Map<string, RawJson>();
      skip();
      if (text[i] === '}') {
        i++;
        return { type: 'object', entries };
      }
      for (;;) {
        skip();
        if (text[i] !== '"') fail('expected a key');
        const key = string();
        skip();
        if (text[i++] !== ':') fail("expected ':'");
        entries.set(key, value());
        skip();
        const next = text[i++];
        if (next === '}') return { type: 'object', entries };
        if (next !== ',') fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const items: RawJson[] = [];
      skip();
      if (text[i] === ']') {
        i++;
        return { type: 'array', items };
      }
      for (;;) {
        items.push(value());
        skip();
        const next = text[i++];
        if (next === ']') return { type: 'array', items };
        if (next !== ',') fail("expected ',' or ']'");
      }
    }
    if (c === '"') return { type: 'string', value: string() };
    for (const [word, type] of [
      ['true', 'boolean'],
      ['false', 'boolean'],
      ['null', 'null'],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return { type, text: word };
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return fail('unexpected character');
    i = NUMBER.lastIndex;
    return { type: 'number', text: m[0] };
  };
  const root = value();
  skip();
  if (i < text.length) fail('unexpected text after the JSON value');
  return root;
}

/** Compact JSON text of a value, numbers as written. */
export function rawJsonText(v: RawJson): string {
  switch (v.type) {
    case 'object':
      return `{${[...v.entries].map(([k, x]) => `${JSON.stringify(k)}:${rawJsonText(x)}`).join(',')}}`;
    case 'array':
      return `[${v.items.map(rawJsonText).join(',')}]`;
    case 'string':
      return JSON.stringify(v.value);
    case 'number':
    case 'boolean':
    case 'null':
      return v.text;
    default:
      return v satisfies never;
  }
}
