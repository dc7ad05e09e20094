// The client API, as any third-party app uses it: bearer access token kept in memory only; the
// refresh token lives in an HttpOnly cookie that page scripts cannot read.
import { locale } from './i18n.js';

const BASE = '/api/v1';
let accessToken = null;
let refreshing = null;

export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === 'string' ? detail : JSON.stringify(detail));
    this.status = status;
    this.detail = detail;
  }
}

// Thrown when the request never reached the server (offline, server down).
export class NetworkError extends Error {}

export function signedIn() {
  return accessToken !== null;
}

export function forgetTokens() {
  accessToken = null;
}

// Whether this browser holds a refresh cookie (it cannot read the cookie itself): saves a useless
// refresh request, and its 401, when nobody has signed in here.
const MARKER = 'tandem.signed-in';

function keep(tokens) {
  // The body's refresh_token is deliberately dropped: the cookie holds it for this browser.
  accessToken = tokens.access_token;
  localStorage.setItem(MARKER, '1');
}

export function mayResume() {
  return localStorage.getItem(MARKER) === '1';
}

async function send(path, { method = 'GET', body, headers = {}, auth = true } = {}) {
  const init = {
    method,
    credentials: 'same-origin',
    headers: { Accept: 'application/json', 'Accept-Language': locale(), ...headers },
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (auth && accessToken) init.headers.Authorization = `Bearer ${accessToken}`;
  try {
    return await fetch(BASE + path, init);
  } catch (error) {
    throw new NetworkError(String(error));
  }
}

async function parse(response) {
  if (response.status === 204 || response.status === 202 && !response.headers.get('content-type')) return null;
  const type = response.headers.get('content-type') || '';
  const data = type.includes('json') ? await response.json() : await response.text();
  if (!response.ok) throw new ApiError(response.status, data && data.detail !== undefined ? data.detail : data);
  return data;
}

// One refresh at a time: two would present the same token twice, which reads as theft and signs out.
export function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      const response = await send('/auth/refresh', { method: 'POST', body: {}, auth: false });
      if (!response.ok) {
        accessToken = null;
        localStorage.removeItem(MARKER);
        return false;
      }
      keep(await response.json());
      return true;
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

export async function api(path, options = {}) {
  let response = await send(path, options);
  if (response.status === 401 && options.auth !== false && (await refresh())) {
    response = await send(path, options);
  }
  return parse(response);
}

export async function signIn(email, password) {
  keep(await api('/auth/token', { method: 'POST', body: { email, password }, auth: false }));
}

export async function activate(body) {
  keep(await api('/auth/activate', { method: 'POST', body, auth: false }));
}

export async function signOut() {
  try {
    await send('/auth/refresh', { method: 'DELETE', auth: false });
  } finally {
    accessToken = null;
    localStorage.removeItem(MARKER);
  }
}

export function errorText(error, t) {
  if (error instanceof NetworkError) return t('error.offline');
  if (error instanceof ApiError) {
    if (error.status === 429) return t('error.too_many');
    if (Array.isArray(error.detail)) {
      return error.detail.map((item) => item.msg || JSON.stringify(item)).join('; ');
    }
    if (error.detail && typeof error.detail === 'object' && error.detail.message) return error.detail.message;
    return String(error.detail || t('error.generic'));
  }
  return t('error.generic');
}
