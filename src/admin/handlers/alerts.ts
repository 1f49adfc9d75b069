import type { AdminDeps, Handlers } from './support.ts';

/** Active and recent alerts; a tenant's token sees those of its channels only. */
export function alertHandlers(deps: AdminDeps): Handlers {
  return {
    'GET /api/alerts': async (_req, res, a) => {
      // Engine-wide alerts (the whole backlog, the HTTPS certificate) belong to no tenant.
      const alerts = deps.alerts().filter((x) => (x.subject.channel === undefined ? a.principal?.tenant === undefined : a.sees(x.subject.channel)));
      res.json({ alerts });
    },
  };
}
