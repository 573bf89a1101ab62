// A tiny element builder: h('button', {type: 'button', onclick}, 'Text', child...).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'text') el.textContent = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// A <select> with a first empty choice when `empty` is given.
export function select(attrs, options, empty) {
  const el = h('select', attrs);
  if (empty !== undefined) el.append(h('option', { value: '' }, empty));
  for (const [value, label] of options) el.append(h('option', { value }, label));
  return el;
}

export function field(id, label, control, hint) {
  control.id = id;
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    control,
    hint && h('p', { class: 'hint', id: hintId }, hint));
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : '';
}

export function employeeName(e) {
  return `${e.family_name} ${e.given_name} <${e.email}>`;
}
