import express, { type Request, type Response, type Router } from 'express';
import { ConduitError } from '../errors.ts';
import { accessOf, type GuardDeps, guard, outcome } from './guard.ts';
import { alertHandlers } from './handlers/alerts.ts';
import { auditHandlers } from './handlers/audit.ts';
import { engineHandlers } from './handlers/engine.ts';
import { messageHandlers } from './handlers/messages.ts';
import { metricsHandlers } from './handlers/metrics.ts';
import type { AdminDeps, Handlers } from './handlers/support.ts';
import { tokenHandlers } from './handlers/tokens.ts';
import { workbenchHandlers } from './handlers/workbench.ts';
import { ADMIN_ROUTES, routeKey } from './route-table.ts';

export type { AdminChannelView, AdminDeps, HealthView } from './handlers/support.ts';

/**
 * The admin API under /api and /health, built from the route table (route-table.ts): every
 * route passes the guard (token, rate limit, role, tenant) first. Reads of message content,
 * resends, reloads and token changes are recorded in the audit trail before they are answered;
 * one that cannot be recorded is not done (503 AUDIT_FAILED).
 */
export function adminRouter(deps: AdminDeps): Router {
  const r = express.Router();
  const handlers: Handlers = { ...engineHandlers(deps), ...messageHandlers(deps), ...tokenHandlers(deps), ...auditHandlers(deps), ...workbenchHandlers(deps), ...metricsHandlers(deps), ...alertHandlers(deps) };

  const guardDeps: GuardDeps = { authenticator: deps.authenticator, audit: deps.audit, channelTenant: deps.channelTenant, limit: deps.limit };
  const parsers = new Map<number, ReturnType<typeof express.json>>();
  const json = (bytes = 16 * 1024) => {
    const made = parsers.get(bytes) ?? express.json({ limit: bytes });
    parsers.set(bytes, made);
    return made;
  };
  for (const route of ADMIN_ROUTES) {
    const handle = handlers[routeKey(route)];
    if (!handle) throw new Error(`admin route ${routeKey(route)} has no handler`);
    const method = route.method.toLowerCase() as 'get' | 'post' | 'delete';
    r[method](route.path, guard(route, guardDeps), ...(route.method === 'POST' ? [json(route.bodyBytes)] : []), async (req: Request, res: Response) => {
      try {
        await handle(req, res, accessOf(res));
      } catch (e) {
        if (e instanceof ConduitError && e.code === 'AUDIT_FAILED') {
          deps.log.error({ err: e }, 'an admin request was refused: the audit trail cannot be written');
          res.status(503).set('Retry-After', '5').json(outcome('transient', e.message, e.code));
          return;
        }
        throw e;
      }
    });
  }
  for (const key of Object.keys(handlers)) {
    if (!ADMIN_ROUTES.some((route) => routeKey(route) === key)) throw new Error(`handler ${key} is not in the route table`);
  }
  r.use('/api', (_req, res) => {
    res.status(404).json(outcome('not-found', 'no such admin route'));
  });
  return r;
}
