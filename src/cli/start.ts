import module from 'node:module';
import { type AdminToken, resolveAdminToken } from '../admin/token.ts';
import { loadAlertRules } from '../alerts/load.ts';
import { ConduitError } from '../errors.ts';
import { loadConfiguration } from '../config/load.ts';
import type { EngineSettings } from '../config/settings.ts';
import { formatIssue } from '../config/yaml-file.ts';
import { Engine } from '../engine/engine.ts';
import { channelIds } from '../engine/observability.ts';
import { createLogger } from '../log.ts';

/** `conduit start`: runs the engine until SIGINT/SIGTERM. Refuses to start on an invalid configuration. */
export async function startCommand(settings: EngineSettings, err: NodeJS.WritableStream): Promise<number> {
  const log = createLogger(settings.logLevel);
  const configuration = loadConfiguration(settings);
  // The alerts file too, before anything is opened or written.
  const alerts = settings.alerts === undefined ? [] : loadAlertRules(settings.alerts, configuration.issues.length === 0 ? channelIds(configuration.channels) : undefined).issues;
  const issues = [...configuration.issues, ...alerts];
  if (issues.length > 0) {
    for (const i of issues) err.write(`${formatIssue(i)}\n`);
    err.write('Conduit did not start: fix the problems above (npx conduit validate shows them too).\n');
    return 1;
  }
  let admin: AdminToken;
  try {
    admin = resolveAdminToken(settings.dataDir);
  } catch (e) {
    if (!(e instanceof ConduitError)) throw e;
    err.write(`Conduit did not start: ${e.message}.\n`);
    return 1;
  }
  if (admin.generated) {
    // Printed once, at first start, on stderr only; never logged.
    err.write(`Admin API token (saved in ${admin.file}; set CONDUIT_ADMIN_TOKEN to choose your own):\n  ${admin.token}\n`);
  }
  let engine: Engine;
  try {
    engine = new Engine({ settings, configuration, log, adminToken: admin.token });
  } catch (e) {
    // A damaged or missing store is refused with what to do (src/store/sqlite/check.ts).
    if (!(e instanceof ConduitError)) throw e;
    err.write(`Conduit did not start: ${e.message}\n`);
    return 1;
  }
  try {
    await engine.start();
  } catch (e) {
    log.fatal({ err: e }, 'Conduit could not start');
    // A setting that cannot be used (an unreadable TLS certificate, say) is told on stderr too, as the configuration's problems are.
    // A refused data key of a PostgreSQL store (found once the store opened) too.
    if (e instanceof ConduitError && (e.code === 'CONFIG_INVALID' || e.code === 'STORE_KEY_MISMATCH' || e.code === 'STORE_KEY_UNKNOWN')) {
      err.write(`Conduit did not start: ${e.message}\n`);
    }
    await engine.stop().catch(() => {});
    return 1;
  }
  // The compile cache (src/bin/conduit.js) is written at exit by default, which an engine stopped
  // with kill -9 never reaches. Written now that every module is loaded: later, the write (about
  // 150 ms of this thread) stalled the deliveries of the moment.
  module.flushCompileCache();
  return await new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'stopping');
      engine.stop().then(
        () => resolve(0),
        (e: unknown) => {
          log.error({ err: e }, 'stop failed');
          resolve(1);
        },
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
