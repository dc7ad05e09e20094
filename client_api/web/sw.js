// The app shell, kept for offline use. API calls are never cached here: the app keeps what it must
// (waiting answers, help lines) itself. Network first, so a new version is picked up at once.
const CACHE = 'tandem-app-v1';
const SHELL = [
  '/app/', '/app/app.js', '/app/api.js', '/app/chart.js', '/app/crisis.js', '/app/dom.js', '/app/i18n.js',
  '/app/queue.js', '/app/styles.css', '/app/manifest.webmanifest', '/app/i18n/en.json', '/app/i18n/fr.json',
  '/app/icons/icon.svg', '/app/icons/icon-192.png',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || !url.pathname.startsWith('/app/')) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(event.request, copy));
        }
        return response;
      })
      .catch(() => caches.match(event.request, { ignoreSearch: true }).then((hit) => hit || caches.match('/app/'))),
  );
});

// Web Push: a short text without health data ("Time for your check-in").
self.addEventListener('push', (event) => {
  let data = { title: 'Tandem', body: '' };
  try {
    data = { ...data, ...event.data.json() };
  } catch {
    /* keep the default */
  }
  event.waitUntil(self.registration.showNotification(data.title, {
    body: data.body, icon: '/app/icons/icon-192.png', tag: data.tag || 'tandem-reminder', data: { url: data.url || '/app/' },
  }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const target = (event.notification.data && event.notification.data.url) || '/app/';
  event.waitUntil(self.clients.matchAll({ type: 'window' }).then((windows) => {
    const open = windows.find((client) => client.url.includes('/app/'));
    return open ? open.focus() : self.clients.openWindow(target);
  }));
});
