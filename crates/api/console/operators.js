// Operators: requests that ended failed, rejected or dead, with a replay for one or for
// every request a filter matches.
import { h, select, field, when } from './dom.js';
import * as api from './api.js';

// Operators are found out by trying: a dry-run replay answers 403 to everyone else.
export async function isOperator() {
  try {
    await api.post('/v1/replays', { filter: { state: 'dead' }, dry_run: true });
    return true;
  } catch (e) {
    return e.status !== 403 && e.status !== 401;
  }
}

export async function render(main) {
  const [services, integrations] = await Promise.all([api.services(), api.integrations().catch(() => [])]);
  const state = select({ name: 'state' }, [['failed', 'Failed'], ['rejected', 'Rejected'], ['dead', 'Dead']]);
  const service = select({ name: 'service' }, services.filter((s) => s.provisioning).map((s) => [s.key, s.name]), 'Any');
  const integration = select({ name: 'integration_id' }, integrations.map((i) => [i.id, `${i.workspace} (${i.service})`]), 'Any');
  const tbody = h('tbody');
  const status = h('p', { class: 'status', 'aria-live': 'polite', id: 'ops-status' });
  const replayAll = h('button', { type: 'button', onclick: onReplayAll }, 'Replay all matching');
  let confirming = null;
  // Only the answer to the latest "Show" may fill the table; an earlier one can arrive last.
  let generation = 0;

  const filter = () => {
    const f = { state: state.value };
    if (service.value) f.service = service.value;
    if (integration.value) f.integration_id = integration.value;
    return f;
  };

  main.replaceChildren(
    h('h1', { tabindex: '-1' }, 'Operators'),
    h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); load(); } },
      field('ops-state', 'State', state), field('ops-service', 'Service', service), field('ops-integration', 'Workspace', integration),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Show'), replayAll)),
    status,
    h('table', { class: 'grid', id: 'ops' },
      h('thead', {}, h('tr', {}, ['Updated', 'Service', 'Workspace', 'Target', 'State', 'Cause', 'Attempts', h('span', { class: 'sr' }, 'Actions')].map((t) => h('th', { scope: 'col' }, t)))),
      tbody));
  await load();

  async function load() {
    confirming = null;
    replayAll.textContent = 'Replay all matching';
    const asked = ++generation;
    let page;
    try {
      page = await api.get(`/v1/provisioning-requests${api.query({ ...filter(), limit: 100 })}`);
    } catch (e) {
      if (asked === generation) status.textContent = e.message;
      return;
    }
    if (asked !== generation) return;
    tbody.replaceChildren(...page.items.map(row));
    if (!page.items.length) tbody.append(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, `No ${state.value} requests.`)));
  }

  function row(r) {
    const stateCell = h('td', {}, h('span', { class: 'badge error' }, r.state));
    const button = h('button', { type: 'button', 'aria-label': `Replay ${r.target || r.id}` }, 'Replay');
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await api.post(`/v1/provisioning-requests/${r.id}/replay`);
        stateCell.replaceChildren(h('span', { class: 'badge ok' }, 'replayed'));
        status.textContent = `Replayed ${r.target || r.id}; it is queued again.`;
      } catch (e) {
        button.disabled = false;
        status.textContent = e.message;
      }
    });
    return h('tr', { 'data-request': r.id },
      h('td', { class: 'nowrap' }, when(r.updated_at)), h('td', {}, r.service), h('td', {}, r.workspace),
      h('td', {}, r.target), stateCell, h('td', { class: 'cause' }, r.error?.message ?? ''),
      h('td', { class: 'num' }, r.attempts), h('td', { class: 'actions' }, button));
  }

  // The first click counts the matches (a dry run); the second replays them.
  async function onReplayAll() {
    try {
      if (!confirming) {
        const { matched } = await api.post('/v1/replays', { filter: filter(), dry_run: true });
        if (!matched) { status.textContent = 'Nothing matches this filter.'; return; }
        confirming = filter();
        replayAll.textContent = `Confirm: replay ${matched} ${matched === 1 ? 'request' : 'requests'}`;
        status.textContent = `${matched} ${state.value} ${matched === 1 ? 'request matches' : 'requests match'}. Press again to replay.`;
        return;
      }
      const { replayed } = await api.post('/v1/replays', { filter: confirming });
      status.textContent = `Replayed ${replayed} ${replayed === 1 ? 'request' : 'requests'}.`;
      await load();
    } catch (e) {
      status.textContent = e.message;
    }
  }
}
