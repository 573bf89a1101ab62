// Calls to the JSON API with the pasted token; errors are problem+json documents.
const KEY = 'provisioner.token';

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.errors = problem.errors || [];
  }
}

export async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${token.get()}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = {};
  try { data = text ? JSON.parse(text) : {}; } catch { data = { detail: text }; }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body = {}) => api('POST', path, body);

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

// Loaded once per sign-in; pages share them.
let cache = {};
export function resetCache() { cache = {}; }
export function cached(path, pick) {
  cache[path] ??= get(path).then(pick);
  return cache[path];
}
export const services = () => cached('/v1/services', (b) => b.services);
export const integrations = () => cached('/v1/integrations', (b) => b.integrations);
export const employees = () => cached('/v1/employees', (b) => b.employees);
export function forget(path) { delete cache[path]; }
