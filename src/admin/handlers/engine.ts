import type { z } from 'zod';
import { VERSION } from '../../version.ts';
import type { ActivityAnswer } from '../schemas.ts';
import { openApiDocument } from '../openapi.ts';
import { ROUTE_SCHEMAS } from '../route-schemas.ts';
import { ADMIN_ROUTES } from '../route-table.ts';
import { type AdminDeps, audited, type Handlers } from './support.ts';

/** Health, channels, the cluster and reloading the configuration. */
export function engineHandlers(deps: AdminDeps): Handlers {
  let document: ReturnType<typeof openApiDocument> | undefined;
  return {
    'GET /health': async (_req, res, a) => {
      const health = await deps.health();
      const code = health.status === 'unhealthy' ? 503 : 200;
      if (!a.principal) {
        res.status(code).json({ status: health.status, version: health.version, uptime_seconds: health.uptime_seconds });
        return;
      }
      if (a.principal.tenant === undefined) {
        res.status(code).json(health);
        return;
      }
      // A tenant's viewer sees the engine-wide components and its own channels' ones.
      const mine = (name: string) => {
        const m = /^(?:channel|destination):([^/]+)/.exec(name);
        return !m || a.sees(m[1]!);
      };
      const components = Object.fromEntries(Object.entries(health.components).filter(([k]) => mine(k)));
      const details = health.details ? Object.fromEntries(Object.entries(health.details).filter(([k]) => mine(k))) : undefined;
      res.status(code).json({ ...health, components, ...(details && Object.keys(details).length > 0 ? { details } : { details: undefined }) });
    },
    'GET /api/openapi.json': async (_req, res) => {
      document ??= openApiDocument(ADMIN_ROUTES, ROUTE_SCHEMAS, VERSION);
      res.json(document);
    },

    'GET /api/whoami': async (_req, res, a) => {
      const p = a.principal!;
      res.json({ name: p.name, role: p.role, ...(p.tenant ? { tenant: p.tenant } : {}) });
    },

    'GET /api/channels': async (_req, res, a) => {
      // Counts include the outcomes recorded just before (written behind by the store's writer).
      await deps.store.settled();
      const counts = new Map((await deps.store.channelCounts()).map((c) => [c.channelId, c]));
      res.json({
        channels: deps
          .channels()
          .filter((c) => a.sees(c.id))
          .map((c) => ({ ...c, messages: counts.get(c.id)?.messages ?? 0, deliveries: counts.get(c.id)?.byStatus ?? {} })),
      });
    },
    'GET /api/activity': async (_req, res, a) => {
      const all = await deps.activity();
      res.json({ channels: Object.fromEntries(Object.entries(all).filter(([id]) => a.sees(id))) } satisfies z.infer<typeof ActivityAnswer>);
    },

    'GET /api/cluster': async (_req, res) => {
      res.json(await deps.cluster());
    },
    'POST /api/reload': async (_req, res, a) => {
      const result = await deps.reload();
      await audited(deps, a, 'configuration.reload', 'configuration', { applied: result.applied, issues: result.issues.length }, result.applied ? 'success' : 'failure');
      res.status(result.applied ? 200 : 422).json(result);
    },
  };
}
