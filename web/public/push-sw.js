/*
 * dockwatch push service worker: shows the state changes of the favourite stations that the
 * server sends (Web Push), and opens the station page when the notification is clicked.
 * Plain JavaScript served as is (/push-sw.js, scope /): a service worker cannot be a module
 * chunk of the app in every browser.
 */
self.addEventListener('push', (event) => {
  let message = null;
  try {
    message = event.data ? event.data.json() : null;
  } catch {
    message = null;
  }
  if (!message || typeof message.title !== 'string') return;
  event.waitUntil(
    self.registration.showNotification(message.title, {
      body: typeof message.body === 'string' ? message.body : '',
      // One notification per station: a newer state replaces the older one.
      tag: typeof message.tag === 'string' ? message.tag : undefined,
      renotify: true,
      lang: typeof message.lang === 'string' ? message.lang : undefined,
      icon: '/favicon.svg',
      data: { url: typeof message.url === 'string' ? message.url : '/favoris' },
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const raw = (event.notification.data && event.notification.data.url) || '/favoris';
  // Only pages of this site: a link elsewhere is reduced to its path here.
  const target = new URL(raw, self.location.origin);
  const href = self.location.origin + target.pathname + target.search;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      for (const w of windows) {
        if (new URL(w.url).origin === self.location.origin && 'navigate' in w) {
          return w.focus().then(() => w.navigate(href));
        }
      }
      return self.clients.openWindow(href);
    }),
  );
});
