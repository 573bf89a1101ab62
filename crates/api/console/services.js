// Services and the tenant's integrations (workspaces) with their status.
import { h } from './dom.js';
import * as api from './api.js';

export async function render(main) {
  const [services, integrations] = await Promise.all([api.services(), api.integrations()]);
  const byService = (key) => integrations.filter((i) => i.service === key);

  const rows = services.map((s) => h('tr', {},
    h('th', { scope: 'row' }, s.name, h('div', { class: 'muted' }, s.key)),
    h('td', {}, s.provisioning
      ? h('span', { class: 'badge ok', title: 'Accounts can be provisioned' }, '✓ Provisioning')
      : h('span', { class: 'muted' }, 'Listed only')),
    h('td', {}, byService(s.key).map((i) => h('span', { class: `badge ${i.status}` }, i.workspace)), byService(s.key).length ? '' : h('span', { class: 'muted' }, 'none')),
    h('td', { class: 'actions' }, s.provisioning
      ? h('a', { class: 'button', href: `#/add?service=${encodeURIComponent(s.key)}`, 'aria-label': `Add Account to ${s.name}` }, 'Add Account')
      : null)));

  const status = h('p', { class: 'sr', 'aria-live': 'polite' });
  const integrationRows = integrations.map((i) => {
    const cell = h('td', {});
    const cause = h('td', { class: 'cause' });
    const paint = (x) => {
      cell.replaceChildren(h('span', { class: `badge ${x.status}` }, x.status === 'ok' ? 'OK' : 'Error'));
      cause.textContent = x.status === 'ok' ? '' : (x.status_reason ?? '');
    };
    paint(i);
    const button = h('button', { type: 'button', 'aria-label': `Check ${i.workspace} again` }, 'Check again');
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const fresh = await api.post(`/v1/integrations/${i.id}/check`);
        Object.assign(i, fresh);
        paint(i);
        status.textContent = `${i.workspace}: ${i.status === 'ok' ? 'OK' : 'error'}`;
      } catch (error) {
        cause.textContent = error.status === 403 ? 'Checking needs the integrations:admin scope.' : error.message;
      } finally {
        button.disabled = false;
      }
    });
    return h('tr', { 'data-integration': i.id },
      h('th', { scope: 'row' }, i.workspace),
      h('td', {}, services.find((s) => s.key === i.service)?.name ?? i.service),
      cell, cause, h('td', { class: 'actions' }, button));
  });

  main.replaceChildren(
    h('h1', { tabindex: '-1' }, 'Services'),
    h('table', { class: 'grid' },
      h('caption', {}, 'Every service; ✓ marks those that can provision accounts.'),
      h('thead', {}, h('tr', {}, ['Service', 'Provisioning', 'Workspaces', h('span', { class: 'sr' }, 'Actions')].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows)),
    h('h2', {}, 'Integration status'),
    integrations.length
      ? h('table', { class: 'grid', id: 'integrations' },
        h('thead', {}, h('tr', {}, ['Workspace', 'Service', 'Status', 'Cause', h('span', { class: 'sr' }, 'Actions')].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, integrationRows))
      : h('p', { class: 'muted' }, 'No integrations yet.'),
    status);
}
