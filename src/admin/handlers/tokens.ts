import { createToken, listedToken, revokeToken } from '../../access/token-service.ts';
import { TokenRequest } from '../../access/tokens.ts';
import { ConduitError } from '../../errors.ts';
import { outcome } from '../guard.ts';
import { type AdminDeps, type Handlers, invalid } from './support.ts';

/** Named tokens (admin). */
export function tokenHandlers(deps: AdminDeps): Handlers {
  return {
    'GET /api/tokens': async (_req, res) => {
      const now = new Date();
      res.json({ tokens: (await deps.access.listTokens()).map((t) => listedToken(t, now)) });
    },
    'POST /api/tokens': async (req, res, a) => {
      const body = TokenRequest.safeParse(req.body ?? {});
      if (!body.success) return invalid(res, body.error, 'body');
      try {
        const { secret, token } = await createToken(deps.access, deps.audit, body.data, { name: a.actor, ...(a.ip ? { ip: a.ip } : {}) });
        res.status(201).json({ ...listedToken(token), token: secret });
      } catch (e) {
        if (e instanceof ConduitError && e.code === 'TOKEN_NAME_TAKEN') {
          res.status(409).json(outcome('duplicate', e.message, e.code));
          return;
        }
        throw e;
      }
    },
    'DELETE /api/tokens/:id': async (req, res, a) => {
      const id = String(req.params.id);
      const token = await revokeToken(deps.access, deps.audit, id, { name: a.actor, ...(a.ip ? { ip: a.ip } : {}) });
      if (!token) {
        res.status(404).json(outcome('not-found', `no token with id or name '${id}'`));
        return;
      }
      res.json(listedToken(token));
    },
  };
}
