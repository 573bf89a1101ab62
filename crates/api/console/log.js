// The integration log: filters, pages (next_cursor) and export of the fetched rows.
import { h, select, field, when, employeeName } from './dom.js';
import * as api from './api.js';

const COLUMNS = ['at', 'action', 'status', 'service', 'workspace', 'target', 'employee', 'cause', 'attempts', 'request_id'];

export async function render(main, params) {
  const [services, integrations, employees] = await Promise.all([
    api.services(), api.integrations().catch(() => []), api.employees().catch(() => []),
  ]);
  const employeeById = new Map(employees.map((e) => [e.id, e]));
  const controls = {
    action: select({ name: 'action' }, [['create', 'Create'], ['replay', 'Replay']], 'Any'),
    status: select({ name: 'status' }, [['success', 'Success'], ['failure', 'Failure']], 'Any'),
    service: select({ name: 'service' }, services.map((s) => [s.key, s.name]), 'Any'),
    integration_id: select({ name: 'integration_id' }, integrations.map((i) => [i.id, `${i.workspace} (${i.service})`]), 'Any'),
    employee_id: select({ name: 'employee_id' }, employees.map((e) => [e.id, employeeName(e)]), 'Any'),
    from: h('input', { type: 'datetime-local', name: 'from' }),
    to: h('input', { type: 'datetime-local', name: 'to' }),
  };
  for (const [k, c] of Object.entries(controls)) if (params.get(k)) c.value = params.get(k);
  const labels = { action: 'Action', status: 'Status', service: 'Service', integration_id: 'Workspace', employee_id: 'Employee', from: 'From', to: 'To' };

  let rows = [];
  let cursor = null;
  // The first load runs while the filters are already usable; a later
  // "Apply filters" must not have the earlier, unfiltered answer added to it.
  let generation = 0;
  const tbody = h('tbody');
  const summary = h('p', { class: 'muted', 'aria-live': 'polite', id: 'log-summary' });
  const more = h('button', { type: 'button', hidden: true, onclick: () => load(false) }, 'Load more');
  const error = h('div', { class: 'problems', role: 'alert' });

  const filterForm = h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); load(true); } },
    Object.entries(controls).map(([k, c]) => field(`log-${k}`, labels[k], c)),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Apply filters')));

  main.replaceChildren(
    h('h1', { tabindex: '-1' }, 'Integration log'),
    filterForm, error,
    h('div', { class: 'toolbar' }, summary,
      h('button', { type: 'button', onclick: () => download('csv') }, 'Export CSV'),
      h('button', { type: 'button', onclick: () => download('json') }, 'Export JSON')),
    h('table', { class: 'grid', id: 'log' },
      h('thead', {}, h('tr', {}, ['Time', 'Action', 'Status', 'Service', 'Workspace', 'Target', 'Employee', 'Cause', 'Attempts'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody),
    more);
  await load(true);

  function filters() {
    const out = {};
    for (const [k, c] of Object.entries(controls)) {
      if (!c.value) continue;
      out[k] = k === 'from' || k === 'to' ? new Date(c.value).toISOString() : c.value;
    }
    return out;
  }

  async function load(fresh) {
    error.replaceChildren();
    if (fresh) { generation += 1; rows = []; cursor = null; tbody.replaceChildren(); }
    const asked = generation;
    try {
      const page = await api.get(`/v1/integration-log${api.query({ ...filters(), limit: 50, cursor })}`);
      if (asked !== generation) return;
      cursor = page.next_cursor ?? null;
      for (const entry of page.entries) {
        const e = employeeById.get(entry.employee_id);
        const row = { ...entry, employee: e ? `${e.family_name} ${e.given_name}` : (entry.employee_id ?? '') };
        rows.push(row);
        tbody.append(h('tr', {},
          h('td', { class: 'nowrap' }, when(row.at)), h('td', {}, row.action),
          h('td', {}, h('span', { class: `badge ${row.status === 'success' ? 'ok' : 'error'}` }, row.status)),
          h('td', {}, row.service), h('td', {}, row.workspace), h('td', {}, row.target),
          h('td', {}, row.employee), h('td', { class: 'cause' }, row.cause ?? ''), h('td', { class: 'num' }, row.attempts)));
      }
      summary.textContent = `${rows.length} ${rows.length === 1 ? 'entry' : 'entries'}${cursor ? ', more available' : ''}`;
      more.hidden = !cursor;
    } catch (e) {
      if (asked === generation) error.append(h('p', {}, e.message));
    }
  }

  function download(kind) {
    const picked = rows.map((r) => Object.fromEntries(COLUMNS.map((c) => [c, r[c] ?? ''])));
    const text = kind === 'json'
      ? JSON.stringify(picked, null, 2)
      : [COLUMNS.join(','), ...picked.map((r) => COLUMNS.map((c) => csv(r[c])).join(','))].join('\r\n');
    const blob = new Blob([text], { type: kind === 'json' ? 'application/json' : 'text/csv' });
    const a = h('a', { href: URL.createObjectURL(blob), download: `integration-log.${kind}` });
    document.body.append(a);
    a.click();
    a.remove();
  }
}

function csv(value) {
  const s = String(value);
  return /[",\r\n]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
