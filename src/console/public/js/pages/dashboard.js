import { allows, api } from '../api.js';
import { badge, h, mount } from '../dom.js';
import { sparkline } from '../views/sparkline.js';

const STATUSES = ['received', 'filtered', 'queued', 'sent', 'errored', 'acknowledged', 'rejected', 'dead'];
const TROUBLE = new Set(['rejected', 'dead']);

/**
 * Every channel with its source, destinations and their state, counts by status, backlog per
 * destination, dead and rejected deliveries highlighted with a link to them; /health's
 * components. Refreshed every 5 seconds.
 */
export function dashboardPage(me) {
  const el = h('section', { 'aria-labelledby': 'dash-title' }, h('h1', { id: 'dash-title' }, 'Dashboard'));
  const body = h('div', { class: 'dash' }, h('p', {}, 'Loading…'));
  el.append(body);
  let timer;
  const load = async () => {
    try {
      const [channels, health, activity, alerts] = await Promise.all([
        api('/api/channels'),
        api('/health'),
        api('/api/activity').catch(() => undefined),
        api('/api/alerts').catch(() => undefined),
      ]);
      mount(body, healthCard(health), alertsCard(alerts?.alerts ?? []), ...channels.channels.map((c) => channelCard(me, c, activity?.channels?.[c.id])));
    } catch (err) {
      mount(body, h('p', { class: 'error', role: 'alert' }, err.message));
    }
  };
  load();
  timer = setInterval(load, 5000);
  return { el, leave: () => clearInterval(timer) };
}

function healthCard(health) {
  const items = Object.entries(health.components ?? {});
  return h(
    'article',
    { class: `card health h-${health.status}`, 'aria-labelledby': 'health-title' },
    h('h2', { id: 'health-title' }, 'Health: ', badge(health.status)),
    h('ul', { class: 'components' }, items.map(([name, state]) => h('li', {}, h('span', { class: 'component' }, name), ' ', badge(state)))),
  );
}

/** The alert rules' alerts (the alerts file): firing ones first, with how their notification went. */
function alertsCard(alerts) {
  if (alerts.length === 0) return null;
  const order = { firing: 0, pending: 1, resolved: 2 };
  const sorted = [...alerts].sort((a, b) => order[a.state] - order[b.state]);
  const subject = (s) => [s.channel, s.destination].filter(Boolean).join('/') || s.certificate || 'engine';
  return h(
    'article',
    { class: 'card alerts', 'aria-labelledby': 'alerts-title' },
    h('h2', { id: 'alerts-title' }, 'Alerts'),
    h(
      'ul',
      {},
      sorted.map((a) =>
        h(
          'li',
          { class: a.state === 'firing' ? 'trouble' : undefined },
          badge(a.state),
          ` ${a.summary} `,
          h('span', { class: 'help' }, `(${a.rule}, ${subject(a.subject)}, since ${new Date(a.since).toLocaleString()}${a.notifications?.length ? `; notified: ${a.notifications.map((n) => n.state).join(', ')}` : ''})`),
        ),
      ),
    ),
  );
}

function channelCard(me, c, activity) {
  const link = (status) => `#/messages?channel=${encodeURIComponent(c.id)}&status=${status}`;
  const counts = STATUSES.filter((s) => (c.deliveries?.[s] ?? 0) > 0).map((s) => {
    const n = c.deliveries[s];
    const text = h('span', {}, badge(s), ` ${n}`);
    const item = allows(me, 'operator') ? h('a', { href: link(s), class: TROUBLE.has(s) ? 'trouble' : undefined }, text) : text;
    return h('li', { class: TROUBLE.has(s) ? 'trouble' : undefined }, item);
  });
  return h(
    'article',
    { class: 'card channel', 'aria-labelledby': `ch-${c.id}` },
    h('h2', { id: `ch-${c.id}` }, c.id, ' ', badge(c.state)),
    c.description ? h('p', { class: 'help' }, c.description) : null,
    h('p', {}, h('span', { class: 'label' }, 'Source '), c.source, c.tenant ? ` · tenant ${c.tenant}` : ''),
    activity ? h('div', { class: 'activity' }, sparkline(activity.perMinute, `${c.id}: messages received per minute, last 15 minutes`), activitySummary(activity)) : null,
    h('p', {}, h('span', { class: 'label' }, 'Messages '), String(c.messages)),
    counts.length ? h('ul', { class: 'counts', 'aria-label': `${c.id} deliveries by status` }, counts) : null,
    c.destinations.length
      ? h(
          'table',
          { class: 'destinations' },
          h('caption', {}, `${c.id}: destinations`),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Destination'), h('th', { scope: 'col' }, 'Sender'), h('th', { scope: 'col' }, 'State'), h('th', { scope: 'col' }, 'Backlog'), h('th', { scope: 'col' }, 'Last outcome'))),
          h(
            'tbody',
            {},
            c.destinations.map((d) =>
              h(
                'tr',
                {},
                h('th', { scope: 'row' }, d.id),
                h('td', {}, d.sender),
                h('td', {}, badge(d.state)),
                h('td', {}, activity ? String(activity.backlog?.[d.id] ?? 0) : ''),
                h('td', {}, d.lastOutcome ? `${d.lastOutcome}${d.lastCode ? ` (${d.lastCode})` : ''}` : ''),
              ),
            ),
          ),
        )
      : null,
  );
}

function activitySummary(a) {
  const part = (label, counts) =>
    h('span', { class: 'window' }, `${label}: `, Object.entries(counts).filter(([, n]) => n > 0).map(([s, n]) => h('span', { class: 'count' }, badge(s), ` ${n} `)));
  return h('p', { class: 'windows' }, part('last hour', a.hour), ' ', part('last day', a.day), a.since ? h('span', { class: 'help' }, ` (counted since ${new Date(a.since).toLocaleString()})`) : null);
}
