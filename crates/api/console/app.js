// The console's shell: the token, the navigation and which page is shown (by #hash).
import { h, field } from './dom.js';
import * as api from './api.js';
import * as services from './services.js';
import * as provision from './provision.js';
import * as log from './log.js';
import * as operators from './operators.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const signOut = document.getElementById('sign-out');
const operatorsLink = document.getElementById('nav-operators');
let operator = false;

const pages = {
  '/services': services.render,
  '/add': provision.render,
  '/add-service': provision.render,
  '/log': log.render,
  '/operators': (m) => (operator ? operators.render(m) : denied(m)),
};

function denied(m) {
  m.replaceChildren(h('h1', { tabindex: '-1' }, 'Not available'), h('p', {}, 'This page needs a token with the operator scope.'));
}

async function show() {
  if (!api.token.get()) return signIn();
  const [path, qs] = (location.hash.slice(1) || '/services').split('?');
  const render = pages[path] ?? pages['/services'];
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === `#${path}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.setAttribute('aria-busy', 'true');
  try {
    await render(main, new URLSearchParams(qs));
  } catch (e) {
    if (e.status === 401) { api.token.clear(); return signIn('The token is unknown or revoked.'); }
    main.replaceChildren(h('h1', { tabindex: '-1' }, 'Something went wrong'), h('p', { role: 'alert' }, e.message));
  } finally {
    main.removeAttribute('aria-busy');
  }
  main.querySelector('h1')?.focus();
}

function signIn(message) {
  nav.hidden = true;
  signOut.hidden = true;
  const input = h('input', { type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
  const error = h('p', { class: 'error', role: 'alert' }, message ?? '');
  main.replaceChildren(h('form', { class: 'card narrow', onsubmit: async (e) => {
    e.preventDefault();
    api.token.set(input.value.trim());
    try {
      await api.get('/v1/services');
      await start();
    } catch (err) {
      api.token.clear();
      error.textContent = err.status === 401 ? 'This token is unknown or revoked.' : err.message;
      input.focus();
    }
  } },
  h('h1', {}, 'Sign in'),
  field('token', 'API token', input, 'Paste a token once; it is kept for this browser tab only.'),
  error,
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Sign in'))));
  input.focus();
}

async function start() {
  api.resetCache();
  nav.hidden = false;
  signOut.hidden = false;
  operator = await operators.isOperator();
  operatorsLink.hidden = !operator;
  await show();
}

signOut.addEventListener('click', () => {
  api.token.clear();
  api.resetCache();
  location.hash = '';
  signIn();
});
window.addEventListener('hashchange', show);
if (api.token.get()) start(); else signIn();
