import type { AdminDeps, Handlers } from './support.ts';

/** Prometheus text for scrapers (a viewer token: `authorization` in the scrape config). */
export function metricsHandlers(deps: AdminDeps): Handlers {
  return {
    'GET /metrics': async (_req, res) => {
      const text = await deps.metrics.text();
      res.status(200).set('content-type', deps.metrics.contentType).set('cache-control', 'no-store').send(text);
    },
  };
}
