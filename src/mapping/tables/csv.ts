/**
 * RFC 4180 CSV with the comment lines our code tables use. Records end at CRLF or LF (a bare
 * CR too); fields are separated by commas; a field that starts with a double quote runs to the
 * next lone double quote, `""` inside it is one quote, and it may hold commas and line breaks.
 * A line that starts with `#` where a record would start is a comment, and a blank line is
 * skipped: neither is data. Every record keeps the line it starts on, for messages.
 */

export interface CsvRecord {
  /** 1-based line of the file where the record starts. */
  readonly line: number;
  readonly fields: readonly string[];
}

export class CsvSyntaxError extends Error {
  override readonly name = 'CsvSyntaxError';
  readonly line: number;
  constructor(message: string, line: number) {
    super(message);
    this.line = line;
  }
}

export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  /** Moves past one line break at i (CRLF, LF or CR), counting it. */
  const lineBreak = (): boolean => {
    if (text[i] === '\r') i += text[i + 1] === '\n' ? 2 : 1;
    else if (text[i] === '\n') i++;
    else return false;
    line++;
    return true;
  };
  while (i < n) {
    if (text[i] === '#') {
      while (i < n && text[i] !== '\n' && text[i] !== '\r') i++;
      lineBreak();
      continue;
    }
    if (lineBreak()) continue; // a blank line
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        const opened = line;
        i++;
        for (;;) {
          if (i >= n) throw new CsvSyntaxError(`the quoted field opened on line ${opened} is never closed; expected a closing double quote`, opened);
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) line++;
          field += c;
          i++;
        }
        if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          throw new CsvSyntaxError(`unexpected ${JSON.stringify(text[i])} after a closing double quote; expected a comma or the end of the line`, line);
        }
      } else {
        const from = i;
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          if (text[i] === '"') {
            throw new CsvSyntaxError('a double quote inside an unquoted field; expected the whole field in double quotes, with "" for each quote in it', line);
          }
          i++;
        }
        field = text.slice(from, i);
      }
      fields.push(field);
      if (text[i] === ',') {
        i++;
        continue;
      }
      lineBreak();
      break;
    }
    records.push({ line: start, fields });
  }
  return records;
}
