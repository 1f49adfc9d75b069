export interface ParsedArgs {
  command: string | undefined;
  positional: string[];
  /** `--name value` or `--name=value`; boolean flags get 'true'. */
  flags: Record<string, string>;
}

const BOOLEAN_FLAGS = new Set(['--raw', '--help', '-h', '--canonical', '--json', '--version', '--update']);

export function parseArgs(argv: string[]): ParsedArgs {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('-')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags[a.slice(0, eq)] = a.slice(eq + 1);
      else if (BOOLEAN_FLAGS.has(a)) flags[a] = 'true';
      else {
        const v = argv[i + 1];
        if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
        flags[a] = v;
        i++;
      }
    } else positional.push(a);
  }
  return { command: positional.shift(), positional, flags };
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}
