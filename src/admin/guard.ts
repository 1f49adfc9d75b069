import type { NextFunction, Request, Response } from 'express';
import { inTenant, type Principal } from '../access/principal.ts';
import { allows } from '../access/roles.ts';
import type { AuditTrail } from '../audit/trail.ts';
import type { Authenticator } from './authenticate.ts';
import { type RouteAccess, routeKey } from './route-table.ts';

/** What a guarded handler gets: who called (undefined: anonymously, where the route allows it). */
export interface RequestAccess {
  readonly principal: Principal | undefined;
  /** Whether the caller's role sees the whole answer (RouteAccess.fullRole). */
  readonly full: boolean;
  readonly route: RouteAccess;
  readonly ip: string | undefined;
  /** The caller's name for the audit trail. */
  readonly actor: string;
  /** Whether the caller may see a channel (tenant limits). */
  sees(channelId: string): boolean;
  /** Answers 403 for a channel outside the caller's tenant, and records it. */
  denyTenant(target: string, channelId: string): void;
}

export interface GuardDeps {
  readonly authenticator: Authenticator;
  readonly audit: AuditTrail;
  /** The tenant tag of a channel, if it is configured and has one. */
  channelTenant(channelId: string): string | undefined;
  /**
   * Per-caller rate limit: answers (429) and returns false when the caller is over it. Called
   * for every authenticated request, and for failed authentications by address.
   */
  limit(key: string, res: Response): boolean;
}

export function outcome(code: string, diagnostics: string, errorCode?: string) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics, ...(errorCode ? { details: { text: errorCode } } : {}) }] };
}

/**
 * The checks before any admin route: the bearer token (401, recorded as `auth.failed`), the
 * caller's rate limit (429), the route's role (403 `access.denied`), tenant limits of routes
 * that concern every tenant (403). Routes on one message check its channel themselves
 * (`RequestAccess.denyTenant`).
 */
export function guard(route: RouteAccess, deps: GuardDeps) {
  const what = routeKey(route);
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const ip = req.socket.remoteAddress;
    const header = req.get('authorization');
    let principal: Principal | undefined;
    if (header !== undefined || !route.anonymous) {
      const auth = await deps.authenticator.authenticate(header);
      if ('refused' in auth) {
        if (!deps.limit(`ip:${ip}`, res)) return;
        deps.audit.note({ action: 'auth.failed', outcome: 'failure', actor: auth.actor, target: what, ...(ip ? { ip } : {}), detail: { reason: auth.refused } });
        res.status(401).set('WWW-Authenticate', auth.challenge).json(outcome('login', auth.refused, 'AUTH_REQUIRED'));
        return;
      }
      principal = auth.principal;
      if (!deps.limit(`token:${principal.name}`, res)) return;
    }
    const actor = principal?.name ?? 'anonymous';
    const deny = (reason: string, target = what, channel?: string) => {
      deps.audit.note({ action: 'access.denied', outcome: 'denied', actor, target, ...(ip ? { ip } : {}), detail: { reason, route: what, ...(channel ? { channel } : {}) } });
      res.status(403).json(outcome('forbidden', reason, 'ACCESS_DENIED'));
    };
    if (principal && !allows(principal.role, route.role)) {
      deny(`token '${principal.name}' has role ${principal.role}; ${what} needs ${route.role} or above`);
      return;
    }
    if (principal?.tenant !== undefined && route.tenant === 'refused') {
      deny(`token '${principal.name}' is limited to tenant ${principal.tenant}; ${what} concerns every tenant`);
      return;
    }
    const p = principal;
    const sees = (channelId: string) => p === undefined || inTenant(p, deps.channelTenant(channelId));
    const access: RequestAccess = {
      principal,
      full: principal !== undefined && allows(principal.role, route.fullRole ?? route.role),
      route,
      ip,
      actor,
      sees,
      denyTenant: (target, channelId) => {
        // The answer does not name the other tenant's channel (the audit trail does).
        deny(`token '${actor}' is limited to tenant ${p?.tenant}; ${target} is not in it`, target, channelId);
      },
    };
    res.locals.access = access;
    next();
  };
}

export function accessOf(res: Response): RequestAccess {
  return res.locals.access as RequestAccess;
}
