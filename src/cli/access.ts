import { userInfo } from 'node:os';
import { listedToken, createToken, revokeToken } from '../access/token-service.ts';
import { TokenRequest } from '../access/tokens.ts';
import type { AccessStore } from '../audit/store.ts';
import { chainKeys } from '../audit/chain-keys.ts';
import { AuditTrail, verifyTrail } from '../audit/trail.ts';
import { resolveKeyring } from '../store/sealing/keyring.ts';
import type { EngineSettings } from '../config/settings.ts';
import { ConduitError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { zodIssues } from '../mapping/issues.ts';
import { openAccessStore } from '../store/access-store.ts';
import { UsageError } from './args.ts';

/** What the CLI records as the actor of a change: `cli:<OS user>`. */
function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/** The audit chain's keys, from the data keys the engine is given (CONDUIT_DATA_KEY_FILE, CONDUIT_DATA_KEY). */
function keysOf(settings: EngineSettings) {
  return chainKeys(resolveKeyring(settings).keyring);
}

async function withAccess<T>(settings: EngineSettings, work: (store: AccessStore, trail: AuditTrail) => Promise<T>): Promise<T> {
  const { store } = openAccessStore(settings);
  const trail = new AuditTrail(store, keysOf(settings).sealing, createLogger('silent'));
  try {
    return await work(store, trail);
  } finally {
    await trail.settled();
    await store.close();
  }
}

export interface TokenFlags {
  name?: string;
  role?: string;
  tenant?: string;
  expires?: string;
  json: boolean;
}

const TOKEN_ACTIONS = ['create', 'list', 'revoke'];

/**
 * `conduit token create|list|revoke`: named tokens of the admin API, in the data directory's
 * access database (or the PostgreSQL store); a running engine sees changes at its next request.
 */
export async function tokenCommand(
  settings: EngineSettings,
  action: string | undefined,
  target: string | undefined,
  flags: TokenFlags,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  switch (action) {
    case 'create': {
      const request = TokenRequest.safeParse({
        name: flags.name,
        role: flags.role,
        ...(flags.tenant !== undefined ? { tenant: flags.tenant } : {}),
        ...(flags.expires !== undefined ? { expires: flags.expires } : {}),
      });
      if (!request.success) {
        for (const i of zodIssues(request.error, '--')) err.write(`conduit: ${i.path.replace(/^--\.?/, '--')}: ${i.message}\n`);
        return 2;
      }
      return withAccess(settings, async (store, trail) => {
        try {
          const { secret, token } = await createToken(store, trail, request.data, { name: cliActor() });
          if (flags.json) out.write(`${JSON.stringify({ ...listedToken(token), token: secret })}\n`);
          else {
            out.write(`Token '${token.name}' (${token.id}), role ${token.role}${token.tenant ? `, tenant ${token.tenant}` : ''}${token.expiresAt ? `, expires ${token.expiresAt}` : ''}.\n`);
            out.write(`Shown once, keep it now (only its hash is stored):\n  ${secret}\n`);
          }
          return 0;
        } catch (e) {
          if (e instanceof ConduitError && e.code === 'TOKEN_NAME_TAKEN') {
            err.write(`conduit: ${e.message}\n`);
            return 1;
          }
          throw e;
        }
      });
    }
    case 'list':
      return withAccess(settings, async (store) => {
        const tokens = (await store.listTokens()).map((t) => listedToken(t));
        if (flags.json) {
          out.write(`${JSON.stringify(tokens)}\n`);
          return 0;
        }
        if (tokens.length === 0) out.write('No named tokens (the bootstrap admin token, CONDUIT_ADMIN_TOKEN, is not listed).\n');
        for (const t of tokens) {
          out.write(
            `${t.id}  ${t.name}  ${t.role}${t.tenant ? ` tenant=${t.tenant}` : ''}  ${t.state}  created ${t.createdAt} by ${t.createdBy}` +
              `${t.expiresAt ? `  expires ${t.expiresAt}` : ''}${t.revokedAt ? `  revoked ${t.revokedAt}` : ''}\n`,
          );
        }
        return 0;
      });
    case 'revoke': {
      if (!target) throw new UsageError('conduit token revoke needs the token id or name', { showUsage: true });
      return withAccess(settings, async (store, trail) => {
        const t = await revokeToken(store, trail, target, { name: cliActor() });
        if (!t) {
          err.write(`conduit: no token with id or name '${target}'\n`);
          return 1;
        }
        out.write(`Token '${t.name}' (${t.id}) revoked at ${t.revokedAt}.\n`);
        return 0;
      });
    }
    default:
      throw new UsageError(action ? `conduit token has no action '${action}' (only: ${TOKEN_ACTIONS.join(', ')})` : `conduit token needs an action: ${TOKEN_ACTIONS.join(', ')}`, {
        showUsage: true,
      });
  }
}

/**
 * `conduit audit verify`: walks the audit trail's hash chain; exit 1 when a row was edited,
 * forged or deleted (each named), 0 with the number of rows and the head otherwise.
 */
export async function auditCommand(
  settings: EngineSettings,
  action: string | undefined,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  json: boolean,
): Promise<number> {
  if (action !== 'verify') {
    throw new UsageError(action ? `conduit audit has no action '${action}' (only: verify)` : 'conduit audit needs an action: verify', { showUsage: true });
  }
  return withAccess(settings, async (store, trail) => {
    const v = await verifyTrail(store, keysOf(settings).all);
    await trail.record({
      action: 'audit.verify',
      outcome: v.problems.length === 0 ? 'success' : 'failure',
      actor: cliActor(),
      target: 'audit',
      detail: { rows: v.rows, problems: v.problems.length },
    });
    if (json) out.write(`${JSON.stringify({ ok: v.problems.length === 0, ...v })}\n`);
    else if (v.problems.length === 0) out.write(`audit trail: ok, ${v.rows} rows verified; head ${v.head.seq}:${v.head.hash}\n`);
    else {
      for (const p of v.problems) err.write(`audit trail: ${p.problem}: ${p.message}\n`);
      err.write(`audit trail: ${v.problems.length} problem(s) in ${v.rows} rows\n`);
    }
    return v.problems.length === 0 ? 0 : 1;
  });
}
