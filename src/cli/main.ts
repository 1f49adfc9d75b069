import { readSettings, SETTINGS_FLAGS, settingsFlag } from '../config/settings.ts';
import { VERSION } from '../version.ts';
import { type CommandArgs, checkArgs, parseArgs, UsageError } from './args.ts';

const USAGE = `Conduit ${VERSION}: HL7 v2 and FHIR integration engine

Usage:
  conduit start [options]                         run the engine with the channels in ./channels
  conduit validate [options] [--json]             check every channel and mapping file, and the alerts file; exit 1 on any problem
  conduit preview <channel> <input-file> [--raw] [--destination <id>] [--canonical]
                                                  print what the channel would send for that input
  conduit test [--update] [--channel <id>] [--samples <dir>]
                                                  golden tests: every sample in samples/ through every channel
                                                  with an inbound mapping, compared with the expected output
                                                  beside it; exit 1 on any difference; --update rewrites them
  conduit store check [--data <dir> | --store <url>]
                                                  check the store: SQLite's integrity check, or that PostgreSQL
                                                  answers with a schema this Conduit knows; exit 1 if damaged
  conduit store stats [--data <dir> | --store <url>] [--json]
                                                  sizes per channel: messages, content removed by retention,
                                                  pending deliveries, bytes of content; file, log and free space
                                                  (PostgreSQL: the database and each table); rows by data key
  conduit store keygen [--id <key-id>]            print a new data key line '<key-id> <base64 of 32 bytes>' for the
                                                  key file (id default k-<yyyymmdd>-<random>)
  conduit store rekey [--data <dir> | --store <url>] [--data-key-file <file>]
                                                  seal again with the key file's first key every row sealed with
                                                  another key or stored in plaintext, in small batches; safe while
                                                  the engine runs, to interrupt and to run again

  conduit token create --name <name> --role <viewer|operator|integrator|admin> [--tenant <tag>] [--expires <90d|12h>]
                                                  a named admin API token; its secret is printed once, only its hash stored
  conduit token list [--json]                     named tokens, their roles, tenants and state (never secrets)
  conduit token revoke <id|name>                  the token stops working at the engine's next request
  conduit audit verify [--json]                   walk the audit trail's hash chain; exit 1 naming every row
                                                  that was edited, forged or deleted

Options (also from the environment):
  --port <n>          CONDUIT_PORT      HTTP port for webhooks and the admin API (default 8080)
  --host <addr>       CONDUIT_HOST      interface to listen on (default 127.0.0.1)
  --data <dir>        CONDUIT_DATA      data directory with the embedded store (default ./data)
  --channels <dir>    CONDUIT_CHANNELS  channel files (default ./channels)
  --mappings <dir>    CONDUIT_MAPPINGS  mapping files (default ./mappings)
  --max-backlog <n>   CONDUIT_MAX_BACKLOG  pending deliveries before sources push back (default 50000)
  --max-body-bytes-in-flight <n>  CONDUIT_MAX_BODY_BYTES_IN_FLIGHT  HTTP body bytes held at once (default 16 MiB)
  --body-timeout-ms <ms>  CONDUIT_BODY_TIMEOUT_MS  cut a request body that sends nothing this long (default 10000)
  --headers-timeout-ms <ms>  CONDUIT_HEADERS_TIMEOUT_MS  cut requests whose headers take longer (default 10000)
  --watch <true|false>  CONDUIT_WATCH  reload channel and mapping files when they change (default true)
  --durability <full|normal>  CONDUIT_DURABILITY  fsync every commit (full, default) or not
  --log-level <lvl>   CONDUIT_LOG_LEVEL (default info)
  --health-window-hours <n>  CONDUIT_HEALTH_WINDOW_HOURS  /health counts dead and rejected deliveries this recent (default 24)
  --store-check <quick|header>  CONDUIT_STORE_CHECK  at start read every page of the store (quick, default) or its header only
  --retention-interval-ms <ms>  CONDUIT_RETENTION_INTERVAL_MS  how often channels' retention is applied (default 60000)
  --data-key-file <file>  CONDUIT_DATA_KEY_FILE  data keys ('<key-id> <base64 of 32 bytes>' per line, the first seals):
                      message content is encrypted at rest (AES-256-GCM); or one key as CONDUIT_DATA_KEY=<key-id>:<base64>
  --tls-cert <file> --tls-key <file>  CONDUIT_TLS_CERT CONDUIT_TLS_KEY  PEM certificate and key: the HTTP port serves HTTPS (TLS 1.2+), reloaded when the files change
  --tls-client-ca <file>  CONDUIT_TLS_CLIENT_CA  PEM CA(s) of client certificates, for sources with clientCertificate
  --alerts <file>     CONDUIT_ALERTS    alert rules and their webhooks (default ./alerts.yaml when it exists, else no alerts)
  --cors-origins <list>  CONDUIT_CORS_ORIGINS  browser origins allowed to call the API, comma-separated and exact
                      (https://console.example.org); none by default: no CORS headers at all
  Admin API token: CONDUIT_ADMIN_TOKEN (16+ visible ASCII characters), else generated into the data directory at first start.
`;

/** What each command accepts; the commands themselves are imported only when run (`--version` loads no engine). */
const COMMAND_ARGS: Record<string, CommandArgs> = {
  start: { flags: SETTINGS_FLAGS, positional: [] },
  validate: { flags: [...SETTINGS_FLAGS, '--json'], positional: [] },
  preview: { flags: [...SETTINGS_FLAGS, '--raw', '--canonical', '--destination'], positional: ['channel', 'input-file'] },
  test: { flags: [...SETTINGS_FLAGS, '--update', '--channel', '--samples'], positional: [] },
  store: { flags: ['--data', '--store', '--json', '--data-key-file', '--id'], positional: ['action'] },
  token: { flags: ['--data', '--store', '--data-key-file', '--json', '--name', '--role', '--tenant', '--expires'], positional: ['action', 'id-or-name'] },
  audit: { flags: ['--data', '--store', '--data-key-file', '--json'], positional: ['action'] },
};

export async function main(argv: string[]): Promise<number> {
  try {
    const args = parseArgs(argv);
    if (args.flags['--version']) {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    if (!args.command || args.flags['--help'] || args.flags['-h'] || args.command === 'help') {
      process.stdout.write(USAGE);
      return args.command || args.flags['--help'] || args.flags['-h'] ? 0 : 2;
    }
    checkArgs(args.command, args, COMMAND_ARGS[args.command]);
    const engineFlags = Object.fromEntries(Object.entries(args.flags).filter(([k]) => settingsFlag(k)));
    const settings = readSettings(engineFlags);
    switch (args.command) {
      case 'start': {
        const { startCommand } = await import('./start.ts');
        return await startCommand(settings, process.stderr);
      }
      case 'validate': {
        const { validateCommand } = await import('./validate.ts');
        return validateCommand(settings, process.stdout, Boolean(args.flags['--json']));
      }
      case 'preview': {
        const [channelId, inputFile] = args.positional;
        if (!channelId || !inputFile) throw new UsageError('preview needs a channel id and an input file', { showUsage: true });
        const { previewCommand } = await import('./preview.ts');
        return await previewCommand(
          settings,
          {
            channelId,
            inputFile,
            raw: Boolean(args.flags['--raw']),
            canonical: Boolean(args.flags['--canonical']),
            ...(args.flags['--destination'] ? { destination: args.flags['--destination'] } : {}),
          },
          process.stdout,
          process.stderr,
        );
      }
      case 'test': {
        const { testCommand } = await import('./test.ts');
        return await testCommand(
          settings,
          {
            update: Boolean(args.flags['--update']),
            ...(args.flags['--channel'] !== undefined ? { channelId: args.flags['--channel'] } : {}),
            ...(args.flags['--samples'] !== undefined ? { samplesDir: args.flags['--samples'] } : {}),
          },
          process.stdout,
          process.stderr,
        );
      }
      case 'store': {
        const { storeCommand } = await import('./store.ts');
        return await storeCommand(settings, args.positional[0], process.stdout, process.stderr, Boolean(args.flags['--json']), {
          ...(args.flags['--id'] !== undefined ? { keyId: args.flags['--id'] } : {}),
        });
      }
      case 'token': {
        const { tokenCommand } = await import('./access.ts');
        const f = args.flags;
        return await tokenCommand(
          settings,
          args.positional[0],
          args.positional[1],
          {
            ...(f['--name'] !== undefined ? { name: f['--name'] } : {}),
            ...(f['--role'] !== undefined ? { role: f['--role'] } : {}),
            ...(f['--tenant'] !== undefined ? { tenant: f['--tenant'] } : {}),
            ...(f['--expires'] !== undefined ? { expires: f['--expires'] } : {}),
            json: Boolean(f['--json']),
          },
          process.stdout,
          process.stderr,
        );
      }
      case 'audit': {
        const { auditCommand } = await import('./access.ts');
        return await auditCommand(settings, args.positional[0], process.stdout, process.stderr, Boolean(args.flags['--json']));
      }
      default:
        throw new UsageError(`unknown command '${args.command}'`, { showUsage: true });
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(e.showUsage ? `conduit: ${e.message}\n\n${USAGE}` : `conduit: ${e.message}\n(conduit --help shows the commands)\n`);
      return 2;
    }
    if (e instanceof Error && e.name === 'ZodError') {
      // One line per setting, not the JSON dump that is a ZodError's message.
      const issues = (e as Error & { issues: Array<{ path: PropertyKey[]; message: string }> }).issues;
      for (const i of issues) process.stderr.write(`conduit: invalid option: ${i.path.map(String).join('.')}: ${i.message}\n`);
      return 2;
    }
    if (e instanceof Error && e.name === 'ConduitError') {
      // A configuration or store problem a command met (a bad key file, a store it cannot open): its message says what.
      process.stderr.write(`conduit: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
