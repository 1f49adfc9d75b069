/**
 * File name patterns of the file drop source: `*` (any run of characters), `?` (one
 * character), `[abc]` / `[!abc]` (one of, none of) and `{hl7,txt}` (alternatives). They match
 * a whole name in the inbox, case-insensitively, since Windows senders often write `.HL7`.
 */
export class GlobError extends Error {
  override readonly name = 'GlobError';
}

const SPECIAL = /[.+^$()|\\/]/;

export function globToRegExp(pattern: string): RegExp {
  if (pattern === '') throw new GlobError('the pattern is empty');
  if (/[/\\]/.test(pattern)) throw new GlobError(`'${pattern}' holds a path separator: the pattern matches names in the directory, not paths`);
  let re = '';
  let braces = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close === -1) throw new GlobError(`'[' at character ${i + 1} of '${pattern}' is not closed`);
      let body = pattern.slice(i + 1, close);
      const negate = body.startsWith('!');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, (x) => `\\${x}`)}]`;
      i = close;
    } else if (c === '{') {
      braces++;
      re += '(?:';
    } else if (c === '}') {
      if (braces === 0) throw new GlobError(`'}' at character ${i + 1} of '${pattern}' has no '{'`);
      braces--;
      re += ')';
    } else if (c === ',' && braces > 0) re += '|';
    else re += SPECIAL.test(c) ? `\\${c}` : c;
  }
  if (braces > 0) throw new GlobError(`'{' in '${pattern}' is not closed`);
  // s: `*` and `?` match any character, a line break too, so such a name is not silently skipped.
  return new RegExp(`^${re}$`, 'is');
}

/**
 * Names the source never reads: dot-files and `.tmp` / `.part` files are writes in progress
 * (rsync, curl, browsers and our own file destination write under such a name, then rename).
 */
export function isInProgressName(name: string): boolean {
  return name.startsWith('.') || /\.(tmp|part)$/i.test(name);
}
