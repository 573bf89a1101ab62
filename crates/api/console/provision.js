// "Add Account" (from a service) and "Add Service" (to an employee): choose the
// workspace, optionally the employee, fill the account fields, submit, and follow the
// request without blocking the page.
import { h, select, field, employeeName } from './dom.js';
import * as api from './api.js';
import { schemaForm, fromEmployee } from './form.js';

const TERMINAL = ['succeeded', 'failed', 'rejected', 'dead'];

export async function render(main, params) {
  const fixedService = params.get('service');
  const [services, integrations, employees] = await Promise.all([
    api.services(), api.integrations(), api.employees(),
  ]);
  const provisioning = services.filter((s) => s.provisioning);
  const heading = fixedService
    ? `Add Account — ${services.find((s) => s.key === fixedService)?.name ?? fixedService}`
    : 'Add Service to an employee';

  const employeeSelect = select({ name: 'employee_id' },
    employees.map((e) => [e.id, employeeName(e)]),
    fixedService ? '— New account (no employee) —' : '— Choose an employee —');
  if (!fixedService) employeeSelect.required = true;
  employeeSelect.value = params.get('employee') ?? '';
  const serviceSelect = select({ name: 'service', required: true },
    provisioning.map((s) => [s.key, s.name]), '— Choose a service —');
  const workspaceSelect = h('select', { name: 'integration_id', required: true });
  const workspaceNote = h('div', { class: 'note', id: 'workspace-note', role: 'status' });
  const formSlot = h('div');
  const problems = h('div', { class: 'problems', role: 'alert' });
  const outcome = h('section', { class: 'outcome', 'aria-live': 'polite', 'aria-label': 'Request status' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Add Service');
  let form = null;

  const employeeField = field('employee', fixedService ? 'Select Employee Account' : 'Employee', employeeSelect,
    fixedService ? 'Leave empty to register a new account; choose someone to add to their existing account.' : null);
  const serviceField = field('service', 'Service', serviceSelect);
  const workspaceField = field('workspace', 'Workspace', workspaceSelect);
  workspaceField.append(workspaceNote);

  const serviceKey = () => fixedService || serviceSelect.value;
  const employee = () => employees.find((e) => e.id === employeeSelect.value);

  function refreshWorkspaces() {
    const list = integrations.filter((i) => i.service === serviceKey());
    workspaceSelect.replaceChildren(h('option', { value: '' },
      list.length ? '— Choose a workspace —' : '— No workspace for this service —'));
    for (const i of list) {
      workspaceSelect.append(h('option', { value: i.id }, i.status === 'ok' ? i.workspace : `${i.workspace} (integration error)`));
    }
    if (list.length === 1) workspaceSelect.value = list[0].id;
    refreshNote();
    const service = services.find((s) => s.key === serviceKey());
    form = service ? schemaForm(service.account_schema) : null;
    formSlot.replaceChildren(form ? h('fieldset', {}, h('legend', {}, 'Account'), form.element) : '');
    if (form && employee()) form.fill(fromEmployee(employee()));
  }

  function refreshNote() {
    const i = integrations.find((x) => x.id === workspaceSelect.value);
    workspaceNote.replaceChildren();
    workspaceNote.className = 'note';
    if (i && i.status !== 'ok') {
      workspaceNote.className = 'note warn';
      workspaceNote.append(h('strong', {}, 'This integration is in error: '), i.status_reason || 'unknown cause',
        '. Accounts cannot be issued until the workspace is re-integrated (Services → Check again).');
    }
  }

  serviceSelect.addEventListener('change', refreshWorkspaces);
  workspaceSelect.addEventListener('change', refreshNote);
  employeeSelect.addEventListener('change', () => {
    if (form && employee()) form.fill(fromEmployee(employee()));
  });

  const el = h('form', { class: 'card', novalidate: true, onsubmit: onSubmit },
    fixedService ? [workspaceField, employeeField] : [employeeField, serviceField, workspaceField],
    formSlot, problems, h('div', { class: 'actions' }, submit));

  main.replaceChildren(h('h1', { tabindex: '-1' }, heading), outcome, el);
  refreshWorkspaces();

  async function onSubmit(event) {
    event.preventDefault();
    problems.replaceChildren();
    form?.clearErrors();
    const body = { integration_id: workspaceSelect.value || null };
    if (employeeSelect.value) body.employee_id = employeeSelect.value;
    body.account = form ? form.read() : {};
    if (!body.integration_id) {
      problems.append(h('p', {}, 'Choose a workspace.'));
      workspaceSelect.focus();
      return;
    }
    submit.disabled = true;
    try {
      const accepted = await api.post('/v1/provisioning-requests', body);
      const service = services.find((s) => s.key === serviceKey());
      const workspace = workspaceSelect.selectedOptions[0]?.textContent;
      follow(outcome, accepted.id, `${service?.name ?? serviceKey()} · ${workspace}`);
    } catch (error) {
      const rest = form && error.errors.length ? form.showErrors(error.errors) : error.errors;
      const messages = rest.length ? rest.map((e) => `${label(e.field)}: ${e.detail}`) : (error.errors.length ? [] : [error.message]);
      for (const m of messages) problems.append(h('p', {}, m));
    } finally {
      submit.disabled = false;
    }
  }
}

function label(field) {
  return { integration_id: 'Workspace', employee_id: 'Employee', account: 'Account' }[field] ?? field;
}

// Shows one request in the outcome region, polling it until it ends. The page stays
// usable meanwhile; a second submission gets its own card.
function follow(region, id, what) {
  const card = h('div', { class: 'result pending', 'data-request': id });
  region.prepend(card);
  const paint = (title, ...lines) => card.replaceChildren(h('h2', {}, title), h('p', { class: 'what' }, what), ...lines);
  paint('In progress…', h('p', {}, 'The request was accepted; waiting for the service to answer.'));
  let delay = 400;
  const tick = async () => {
    let request;
    try { request = await api.get(`/v1/provisioning-requests/${id}`); } catch { setTimeout(tick, 2000); return; }
    if (!TERMINAL.includes(request.state)) {
      paint('In progress…', h('p', {}, `State: ${request.state.replace('_', ' ')}${request.attempts ? ` · attempt ${request.attempts}` : ''}`));
      delay = Math.min(delay * 1.5, 3000);
      setTimeout(tick, delay);
      return;
    }
    if (request.state === 'succeeded') {
      card.className = 'result success';
      paint('Account created', h('p', {}, 'Account id at the service: ', h('code', { class: 'account-id' }, request.external_account_id ?? '—')),
        h('p', {}, h('a', { href: '#/log?action=create' }, 'See it in the integration log')));
    } else {
      card.className = 'result failure';
      paint('Account not created', h('p', { class: 'cause' }, request.error?.message ?? request.state),
        request.state === 'rejected' ? h('p', {}, h('a', { href: '#/services' }, 'Check the integration status')) : null);
    }
    api.forget('/v1/employees');
  };
  setTimeout(tick, delay);
}
