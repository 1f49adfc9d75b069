import { InputError, type InputIssue } from '../errors.ts';
import { formatPath } from './issues.ts';

/**
 * Parses a JSON body; malformed JSON is an INPUT_INVALID_JSON (HTTP 400) naming the body. Text
 * that no destination could carry is refused here, at intake, as INPUT_TEXT_INVALID (422) naming
 * each field, rather than accepted and then refused at send time:
 * - a lone surrogate (`"\ud800"` escaped in the JSON), which is no Unicode text;
 * - a C0 control character other than TAB, LF and CR (NUL, BEL, VT, FS, ESC…): FHIR R4 strings
 *   may not hold them (R4 datatypes, `string`), and HL7 v2 receivers are not trusted with them.
 *   DEL and C1 controls are allowed in FHIR strings and written as `\Xhh\` in HL7 v2.
 */
export function parseJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InputError('INPUT_INVALID_JSON', [{ path: '(body)', code: 'invalid_json', message: `not valid JSON: ${(e as Error).message}` }]);
  }
  if (cannotHoldRefusedText(text)) return value;
  const issues: InputIssue[] = [];
  checkText(value, [], issues);
  if (issues.length > 0) throw new InputError('INPUT_TEXT_INVALID', issues);
  return value;
}

/** More would only lengthen the answer: the sender fixes the cause once. */
const MAX_ISSUES = 20;
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Names from HL7 v2 / ASCII for the controls senders most often leak. */
const CONTROL_NAMES: Readonly<Record<number, string>> = { 0: 'NUL', 7: 'BEL', 8: 'BS', 11: 'VT', 12: 'FF', 27: 'ESC', 28: 'FS' };

function problem(s: string): string | undefined {
  const c = CONTROL.exec(s);
  if (c) {
    const code = c[0].charCodeAt(0);
    const name = CONTROL_NAMES[code];
    return `holds the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}${name ? ` (${name})` : ''} at character ${c.index + 1}: text may hold TAB, LF and CR, no other control characters`;
  }
  const l = LONE_SURROGATE.exec(s);
  if (l) return `holds a lone surrogate at character ${l.index + 1} (half of a UTF-16 pair, \\u${l[0].charCodeAt(0).toString(16)}): it is not Unicode text`;
  return undefined;
}

/**
 * A string of parsed JSON can hold a control character only through an escape (`\b`, `\f`,
 * `\u…`: JSON.parse refuses raw controls in strings), and a lone surrogate only through `\u…` or
 * raw in the text. Text that is well formed and has none of those escapes needs no walk (most
 * bodies); text with them is walked, and a false alarm (`\\u`, an escaped backslash) costs only that.
 */
function cannotHoldRefusedText(text: string): boolean {
  return !ESCAPES_THAT_MAKE_REFUSED_TEXT.test(text) && text.isWellFormed();
}
const ESCAPES_THAT_MAKE_REFUSED_TEXT = /\\[bfu]/;

/** Walks the value with one path stack, built into a string only for a value that is refused. */
function checkText(value: unknown, path: PropertyKey[], issues: InputIssue[]): void {
  if (issues.length >= MAX_ISSUES) return;
  if (typeof value === 'string') {
    const p = problem(value);
    if (p) issues.push({ path: formatPath(path), code: 'invalid_text', message: p });
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      checkText(value[i], path, issues);
      path.pop();
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      path.push(k);
      const p = problem(k);
      if (p) issues.push({ path: formatPath(path), code: 'invalid_text', message: `the name ${p}` });
      checkText(v, path, issues);
      path.pop();
    }
  }
}
