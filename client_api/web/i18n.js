// The app's strings, one JSON file per locale beside the app (i18n/en.json, i18n/fr.json).
const SUPPORTED = ['en', 'fr'];
const catalogs = {};
let current = 'en';

export function pickLocale(value) {
  const base = String(value || '').toLowerCase().split(/[-_]/)[0];
  return SUPPORTED.includes(base) ? base : 'en';
}

export async function loadLocale(value) {
  const code = pickLocale(value);
  if (!catalogs[code]) {
    const response = await fetch(`/app/i18n/${code}.json`, { credentials: 'same-origin' });
    catalogs[code] = await response.json();
  }
  current = code;
  document.documentElement.lang = code;
  localStorage.setItem('tandem.locale', code);
  return code;
}

export function locale() {
  return current;
}

export function savedLocale() {
  return localStorage.getItem('tandem.locale') || navigator.language;
}

export function t(key, values = {}) {
  const text = (catalogs[current] && catalogs[current][key]) ?? (catalogs.en && catalogs.en[key]) ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (values[name] ?? `{${name}}`));
}
