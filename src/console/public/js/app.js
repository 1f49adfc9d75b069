import { allows, api, session } from './api.js';
import { h, mount } from './dom.js';
import { dashboardPage } from './pages/dashboard.js';
import { messagePage } from './pages/message.js';
import { messagesPage } from './pages/messages.js';
import { referencePage } from './pages/reference.js';
import { signInPage } from './pages/signin.js';
import { workbenchPage } from './pages/workbench.js';

const main = document.getElementById('main');
let me;
let leave = () => {};

/** `#/messages?channel=x` → { path: '/messages', params }. */
function route() {
  const hash = location.hash.slice(1) || '/';
  const [path, query = ''] = hash.split('?');
  return { path, params: new URLSearchParams(query) };
}

async function whoAmI() {
  if (!session.token) return undefined;
  try {
    return await api('/api/whoami');
  } catch {
    return undefined;
  }
}

function showUser() {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  const out = document.getElementById('signout');
  nav.hidden = !me;
  out.hidden = !me;
  who.textContent = me ? `${me.name} (${me.role}${me.tenant ? `, tenant ${me.tenant}` : ''})` : '';
  for (const a of nav.querySelectorAll('a')) {
    const needs = { messages: 'operator', workbench: 'integrator' }[a.dataset.nav];
    a.hidden = needs !== undefined && !allows(me, needs);
  }
}

async function render() {
  leave();
  leave = () => {};
  if (!me) me = await whoAmI();
  showUser();
  const { path, params } = route();
  if (!me) {
    const page = signInPage(async () => {
      me = await whoAmI();
      location.hash = '#/';
      await render();
    });
    mount(main, page.el);
    return;
  }
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.getAttribute('href') === `#${path}` || (path.startsWith('/messages') && a.dataset.nav === 'messages')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const m = /^\/messages\/([^/]+)$/.exec(path);
  let page;
  if (path === '/') page = dashboardPage(me);
  else if (path === '/messages') page = messagesPage(me, params);
  else if (m) page = messagePage(me, decodeURIComponent(m[1]));
  else if (path === '/workbench') page = workbenchPage(me, params);
  else if (path === '/api') page = referencePage();
  else page = { el: h('p', {}, 'No such page. ', h('a', { href: '#/' }, 'Back to the dashboard')) };
  mount(main, page.el);
  leave = page.leave ?? (() => {});
  main.focus({ preventScroll: true });
}

document.getElementById('signout').addEventListener('click', () => {
  session.clear();
  me = undefined;
  location.hash = '#/';
  render();
});
window.addEventListener('conduit:signed-out', () => {
  me = undefined;
  render();
});
window.addEventListener('hashchange', render);
render();
