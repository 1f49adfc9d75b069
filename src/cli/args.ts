export interface ParsedArgs {
  command: string | undefined;
  positional: string[];
  /** `--name value` or `--name=value`; boolean flags get 'true'. */
  flags: Record<string, string>;
  /** Flags given last or before another flag, without the value they take. */
  missingValue: string[];
}

const BOOLEAN_FLAGS = new Set(['--raw', '--help', '-h', '--canonical', '--json', '--version', '--update']);

/** Flags every command takes. */
const GLOBAL_FLAGS = ['--help', '-h', '--version'] as const;

export function parseArgs(argv: string[]): ParsedArgs {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  const missingValue: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('-')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags[a.slice(0, eq)] = a.slice(eq + 1);
      else if (BOOLEAN_FLAGS.has(a)) flags[a] = 'true';
      else {
        const v = argv[i + 1];
        if (v === undefined || v.startsWith('--')) {
          flags[a] = '';
          missingValue.push(a);
        } else {
          flags[a] = v;
          i++;
        }
      }
    } else positional.push(a);
  }
  return { command: positional.shift(), positional, flags, missingValue };
}

/** What one command accepts besides the global flags. */
export interface CommandArgs {
  readonly flags: readonly string[];
  /** Names of its positional arguments, in order, for messages. */
  readonly positional: readonly string[];
}

/**
 * Refuses a flag the command does not take and positional arguments it does not expect, so a
 * typo (`--chanels /x`) never falls back to a default silently; then a flag without its value.
 */
export function checkArgs(command: string, args: ParsedArgs, accepted: CommandArgs | undefined): void {
  if (accepted) checkFlags(command, args, accepted);
  const [missing] = args.missingValue;
  if (missing) throw new UsageError(`${missing} needs a value`, { showUsage: true });
}

function checkFlags(command: string, args: ParsedArgs, accepted: CommandArgs): void {
  const known = [...GLOBAL_FLAGS, ...accepted.flags];
  for (const flag of Object.keys(args.flags)) {
    if (known.includes(flag)) continue;
    const near = closest(flag, accepted.flags);
    throw new UsageError(`conduit ${command} has no option ${flag}${near ? ` (did you mean ${near}?)` : ''}`, { showUsage: true });
  }
  if (args.positional.length > accepted.positional.length) {
    const extra = args.positional.slice(accepted.positional.length).map((p) => `'${p}'`);
    const wants = accepted.positional.length === 0 ? 'takes no arguments' : `takes ${accepted.positional.map((p) => `<${p}>`).join(' ')}`;
    throw new UsageError(`conduit ${command} ${wants}; unexpected ${extra.join(' ')}`, { showUsage: true });
  }
}

/** The known flag within two edits of `flag`, if there is one. */
function closest(flag: string, known: readonly string[]): string | undefined {
  let best: { flag: string; d: number } | undefined;
  for (const k of known) {
    const d = editDistance(flag, k);
    if (d <= 2 && (!best || d < best.d)) best = { flag: k, d };
  }
  return best?.flag;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** Print the usage after the message: the command line itself is wrong, not what it names. */
  readonly showUsage: boolean;
  constructor(message: string, options: { showUsage?: boolean } = {}) {
    super(message);
    this.showUsage = options.showUsage ?? false;
  }
}
