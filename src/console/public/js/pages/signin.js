import { api, session } from '../api.js';
import { h } from '../dom.js';

/** Sign in with a token (a named token or the bootstrap admin token): it stays in this tab only. */
export function signInPage(onSignedIn) {
  const error = h('p', { class: 'error', id: 'signin-error', role: 'alert' });
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, 'aria-describedby': 'signin-help signin-error' });
  const form = h(
    'form',
    {
      class: 'card signin',
      onsubmit: async (e) => {
        e.preventDefault();
        error.textContent = '';
        session.set(input.value.trim());
        try {
          await api('/api/whoami');
          await onSignedIn();
        } catch (err) {
          session.clear();
          error.textContent = err.message;
          input.focus();
        }
      },
    },
    h('h1', {}, 'Sign in'),
    h('label', { for: 'token' }, 'Token'),
    input,
    h('p', { id: 'signin-help', class: 'help' }, 'A token from conduit token create, or the admin token printed at the first start (data/admin-token).'),
    error,
    h('button', { type: 'submit' }, 'Sign in'),
  );
  setTimeout(() => input.focus());
  return { el: form };
}
