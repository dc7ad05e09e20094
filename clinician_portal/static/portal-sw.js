/* The portal's service worker: shows alert notifications pushed by Tandem (Web Push, RFC 8030)
   and opens the alert when one is clicked. It caches nothing: portal pages hold patient data. */
self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (_) { data = { body: event.data ? event.data.text() : "" }; }
  const title = data.title || "Tandem";
  event.waitUntil(self.registration.showNotification(title, {
    body: data.body || "",
    tag: data.tag || data.url || "tandem-alert",
    data: { url: data.url || "/portal/alerts" },
    requireInteraction: true,
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || "/portal/alerts";
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
    for (const client of windows) {
      if (client.url.endsWith(url) && "focus" in client) { return client.focus(); }
    }
    return self.clients.openWindow(url);
  }));
});
