// A form generated from a service's account_schema (JSON Schema): one labelled control
// per property, required ones marked, and the API's per-field errors shown in place.
import { h } from './dom.js';

export function schemaForm(schema, prefix = 'account') {
  const props = schema?.properties ?? {};
  const required = new Set(schema?.required ?? []);
  const controls = {};
  const errors = {};
  // Required fields first, in the schema's order; the optional ones after them.
  const names = [...required].filter((n) => n in props)
    .concat(Object.keys(props).filter((n) => !required.has(n)));
  const fields = names.map((name) => {
    const prop = props[name];
    const id = `f-${prefix}-${name}`;
    const control = controlFor(prop);
    control.id = id;
    control.name = name;
    if (required.has(name)) control.required = true;
    const hintId = `${id}-hint`;
    const errId = `${id}-error`;
    control.setAttribute('aria-describedby', `${errId} ${hintId}`);
    controls[name] = control;
    errors[name] = h('p', { class: 'error', id: errId, hidden: true });
    return h('div', { class: 'field' },
      h('label', { for: id }, prop.title || name,
        required.has(name) ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null,
        required.has(name) ? h('span', { class: 'sr' }, ' (required)') : null),
      control,
      errors[name],
      prop.description && h('p', { class: 'hint', id: hintId }, prop.description));
  });
  const element = h('div', { class: 'fields' }, fields);

  return {
    element,
    // The fields with a value, typed as the schema says.
    read() {
      const out = {};
      for (const [name, control] of Object.entries(controls)) {
        const type = props[name].type;
        if (type === 'boolean') { if (control.checked) out[name] = true; continue; }
        const raw = control.value.trim();
        if (raw === '') continue;
        out[name] = type === 'integer' || type === 'number' ? Number(raw) : raw;
      }
      return out;
    },
    fill(values, onlyEmpty = true) {
      for (const [name, value] of Object.entries(values)) {
        const control = controls[name];
        if (!control || (onlyEmpty && control.value)) continue;
        if (control.type === 'checkbox') control.checked = Boolean(value);
        else control.value = value;
      }
    },
    clearErrors() {
      for (const name of Object.keys(controls)) show(name, null);
    },
    // `errors` as problem+json lists them: [{field: 'account.user_name', detail}].
    // Returns the errors that are not about one of these fields.
    showErrors(list) {
      const rest = [];
      let first = null;
      for (const e of list) {
        const name = e.field?.startsWith(`${prefix}.`) ? e.field.slice(prefix.length + 1) : null;
        if (name && controls[name]) { show(name, e.detail); first ??= controls[name]; }
        else if (e.field === prefix && /required/.test(e.detail)) rest.push(e);
        else rest.push(e);
      }
      first?.focus();
      return rest;
    },
  };

  function show(name, message) {
    errors[name].textContent = message || '';
    errors[name].hidden = !message;
    if (message) controls[name].setAttribute('aria-invalid', 'true');
    else controls[name].removeAttribute('aria-invalid');
  }
}

function controlFor(prop) {
  if (Array.isArray(prop.enum)) {
    const s = h('select', {}, h('option', { value: '' }, '—'));
    for (const v of prop.enum) s.append(h('option', { value: v }, v));
    return s;
  }
  switch (prop.type) {
    case 'boolean': return h('input', { type: 'checkbox' });
    case 'integer': return h('input', { type: 'number', step: '1', min: prop.minimum, max: prop.maximum });
    case 'number': return h('input', { type: 'number', step: 'any', min: prop.minimum, max: prop.maximum });
    default: return h('input', {
      type: prop.format === 'email' ? 'email' : 'text',
      maxlength: prop.maxLength,
      autocomplete: 'off',
      spellcheck: 'false',
    });
  }
}

// The account fields an employee's record fills, as the API does (fill_from_employee).
export function fromEmployee(e) {
  return {
    email: e.email,
    given_name: e.given_name,
    family_name: e.family_name,
    user_name: e.email,
    display_name: `${e.given_name} ${e.family_name}`,
  };
}
