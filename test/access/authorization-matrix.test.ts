/**
 * Issue 11: every route of the admin API × every role × a token limited to a tenant or not ×
 * a target in or out of that tenant, generated from the route table (src/admin/route-table.ts),
 * so a route added there is checked here without anyone remembering to. Expected: a role below
 * the route's gets 403; a tenant token gets 403 on routes that concern every tenant and on
 * another tenant's message; lists answered to a tenant token hold nothing of another tenant.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { allows, ROLES, type Role } from '../../src/access/roles.ts';
import { ADMIN_ROUTES, type RouteAccess, routeKey } from '../../src/admin/route-table.ts';
import { makeEvent } from '../support/events.ts';
import { startTestEngine, type TestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { startSandboxLis } from '../support/sandbox.ts';

interface Caller {
  readonly label: string;
  readonly role: Role;
  readonly tenant?: string;
  readonly secret: string;
}

describe('authorization matrix: every route × role × tenant', () => {
  let lis: Awaited<ReturnType<typeof startSandboxLis>>;
  let t: TestEngine;
  let north = '';
  let south = '';
  const callers: Caller[] = [];
  let made = 0;

  before(async () => {
    lis = await startSandboxLis();
    t = await startTestEngine({
      'north-lis.yaml': `${webhookToMllpChannel('north-lis', lis.mllpPort)}tenant: north\n`,
      'south-lis.yaml': `${webhookToMllpChannel('south-lis', lis.mllpPort)}tenant: south\n`,
    });
    north = ((await (await t.post('/channels/north-lis', makeEvent('res_NORTH_1', { family: 'Northcote' }))).json()) as { messageId: string }).messageId;
    south = ((await (await t.post('/channels/south-lis', makeEvent('res_SOUTH_1', { family: 'Southgate' }))).json()) as { messageId: string }).messageId;
    await t.drained();
    for (const role of ROLES) {
      for (const tenant of role === 'admin' ? [undefined] : [undefined, 'north']) {
        const name = `${role}${tenant ? `-${tenant}` : ''}`;
        const res = await t.admin('/api/tokens', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name, role, ...(tenant ? { tenant } : {}) }),
        });
        assert.equal(res.status, 201, name);
        callers.push({ label: name, role, ...(tenant ? { tenant } : {}), secret: ((await res.json()) as { token: string }).token });
      }
    }
  });
  after(async () => {
    await t.stop();
    await lis.stop();
  });

  /** The request a route gets, aimed at the north or the south message where it takes one. */
  function request(route: RouteAccess, target: 'north' | 'south'): { path: string; init: RequestInit } {
    const id = target === 'north' ? north : south;
    const path = route.path.replace(':id', route.path.startsWith('/api/tokens') ? 'tok_does_not_exist' : id);
    if (route.method === 'POST' && route.path === '/api/tokens') {
      made += 1;
      return { path, init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `matrix-${made}`, role: 'viewer' }) } };
    }
    return { path, init: { method: route.method } };
  }

  function expectedAllowed(route: RouteAccess, c: Caller, target: 'north' | 'south'): boolean {
    if (!allows(c.role, route.role)) return false;
    if (c.tenant === undefined) return true;
    if (route.tenant === 'refused') return false;
    if (route.tenant === 'message') return target === c.tenant;
    return true;
  }

  for (const route of ADMIN_ROUTES) {
    test(`${routeKey(route)} (needs ${route.role}; tenants: ${route.tenant})`, async () => {
      // Without a token: 401, or the anonymous answer.
      const anon = request(route, 'north');
      const none = await fetch(t.url + anon.path, anon.init);
      if (route.anonymous) {
        assert.ok(none.status === 200, `${routeKey(route)} anonymous: ${none.status}`);
        if (route.path === '/health') assert.ok(!('components' in ((await none.json()) as object)), 'the anonymous answer shows no components');
      } else {
        assert.equal(none.status, 401, `${routeKey(route)} without a token`);
        assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
      }
      for (const c of callers) {
        for (const target of ['north', 'south'] as const) {
          const r = request(route, target);
          const res = await fetch(t.url + r.path, { ...r.init, headers: { ...r.init.headers, authorization: `Bearer ${c.secret}` } });
          const text = await res.text();
          const what = `${routeKey(route)} as ${c.label} on ${target}: ${res.status} ${text.slice(0, 200)}`;
          if (expectedAllowed(route, c, target)) {
            assert.ok(res.status !== 401 && res.status !== 403, what);
            assert.ok(res.status < 500, what);
          } else {
            assert.equal(res.status, 403, what);
            assert.match(text, /ACCESS_DENIED/, what);
          }
          // Nothing of the south tenant ever reaches a north token.
          if (c.tenant === 'north') {
            // (A refusal may repeat the id the caller sent, nothing more.)
            if (!r.path.includes(south)) assert.ok(!text.includes(south), `${what}: holds the south message id`);
            assert.ok(!text.includes('south-lis'), `${what}: names the south channel`);
            assert.ok(!text.includes('Southgate'), `${what}: holds south patient data`);
          }
        }
      }
    });
  }

  test('a message read shows content only from the integrator role up', async () => {
    for (const c of callers.filter((x) => allows(x.role, 'operator') && x.tenant === undefined)) {
      const m = (await (await fetch(`${t.url}/api/messages/${north}`, { headers: { authorization: `Bearer ${c.secret}` } })).json()) as Record<string, unknown> & {
        deliveries: Array<Record<string, unknown> & { attempts: Array<Record<string, unknown>> }>;
      };
      const full = allows(c.role, 'integrator');
      assert.equal('rawInput' in m, full, c.label);
      assert.equal('canonical' in m, full, c.label);
      assert.equal('payload' in m.deliveries[0]!, full, c.label);
      assert.equal('response' in m.deliveries[0]!.attempts[0]!, full, c.label);
      assert.equal(m.deliveries[0]!.status, 'acknowledged', c.label);
      assert.equal(JSON.stringify(m).includes('Northcote'), full, c.label);
    }
  });

  test('refusals are in the audit trail, with who, what and from where', async () => {
    const { events } = (await (await t.admin('/api/audit?outcome=denied&limit=1000')).json()) as {
      events: Array<{ action: string; actor: string; target: string; ip?: string; detail?: { reason?: string } }>;
    };
    const tenantRefusal = events.find((e) => e.action === 'access.denied' && e.actor === 'operator-north' && e.target === `message:${south}`);
    assert.ok(tenantRefusal, 'the cross-tenant read is recorded');
    assert.match(String(tenantRefusal.detail?.reason), /limited to tenant north/);
    assert.ok(tenantRefusal.ip);
    assert.ok(events.some((e) => e.action === 'access.denied' && e.actor === 'viewer' && /needs operator/.test(String(e.detail?.reason))));
    const failed = (await (await t.admin('/api/audit?action=auth.failed&limit=1000')).json()) as { events: Array<{ actor: string }> };
    assert.ok(failed.events.length > 0, 'requests without a token are recorded');
  });
});
