/**
 * Re-indents JSON text without parsing it into values, so numbers keep the digits they were
 * written with (JSON.parse would turn a FHIR decimal 6.0 into 6).
 */
export function prettyJson(text: string, indent = '  '): string {
  let out = '';
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    switch (c) {
      case '"':
        inString = true;
        out += c;
        break;
      case '{':
      case '[': {
        const close = c === '{' ? '}' : ']';
        let j = i + 1;
        while (/\s/.test(text[j] ?? '')) j++;
        if (text[j] === close) {
          out += c + close;
          i = j;
        } else out += `${c}\n${indent.repeat(++depth)}`;
        break;
      }
      case '}':
      case ']':
        out += `\n${indent.repeat(--depth)}${c}`;
        break;
      case ',':
        out += `,\n${indent.repeat(depth)}`;
        break;
      case ':':
        out += ': ';
        break;
      default:
        if (!/\s/.test(c)) out += c;
    }
  }
  return out;
}
