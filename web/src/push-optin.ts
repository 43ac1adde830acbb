/**
 * Opt-in to browser notifications for the favourite stations (Web Push): registers the service
 * worker (/push-sw.js), subscribes with the server's VAPID key, and sends the subscription with
 * the favourites (kept in this browser only) and the language. Each visit of the favourites page
 * sends the list again, so the server follows what the browser keeps.
 */
import { h } from './dom.js';
import { favourites } from './favourites.js';
import { getLang, type Lang } from './i18n.js';

const SW_URL = '/push-sw.js';
const API = '/api/v1/push';

const TEXT: Record<Lang, Record<string, string>> = {
  fr: {
    title: 'Notifications',
    off: 'Recevez une notification quand une de vos stations favorites se bloque ou fonctionne de nouveau.',
    on: 'Notifications activées pour vos stations favorites.',
    enable: 'Activer les notifications',
    disable: 'Désactiver',
    denied: 'Les notifications sont bloquées pour ce site dans votre navigateur.',
    unsupported: 'Ce navigateur ne permet pas les notifications (ou la page n’est pas servie en https).',
    failed: 'Échec : {detail}',
    busy: 'Un instant…',
  },
  en: {
    title: 'Notifications',
    off: 'Get a notification when one of your favourite stations gets locked or works again.',
    on: 'Notifications are on for your favourite stations.',
    enable: 'Turn on notifications',
    disable: 'Turn off',
    denied: 'Notifications are blocked for this site in your browser.',
    unsupported: 'This browser cannot show notifications (or the page is not served over https).',
    failed: 'Failed: {detail}',
    busy: 'One moment…',
  },
};

function tr(key: string, detail = ''): string {
  return (TEXT[getLang()][key] ?? key).replace('{detail}', detail);
}

function supported(): boolean {
  return (
    window.isSecureContext &&
    'serviceWorker' in navigator &&
    'PushManager' in window &&
    'Notification' in window
  );
}

function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const b64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function existing(): Promise<PushSubscription | null> {
  const reg = await navigator.serviceWorker.getRegistration('/');
  return reg ? reg.pushManager.getSubscription() : null;
}

async function send(sub: PushSubscription): Promise<void> {
  const json = sub.toJSON();
  const res = await fetch(`${API}/subscriptions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      subscription: { endpoint: json.endpoint, expirationTime: json.expirationTime ?? null, keys: json.keys },
      stations: favourites(),
      lang: getLang(),
    }),
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { message?: string } | null;
    throw new Error(body?.message ?? `HTTP ${res.status}`);
  }
}

async function subscribe(): Promise<void> {
  if ((await Notification.requestPermission()) !== 'granted') throw new Error(tr('denied'));
  await navigator.serviceWorker.register(SW_URL, { scope: '/' });
  const reg = await navigator.serviceWorker.ready;
  const res = await fetch(`${API}/key`);
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const { publicKey } = (await res.json()) as { publicKey: string };
  const sub = await reg.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: keyBytes(publicKey),
  });
  await send(sub);
}

async function unsubscribe(): Promise<void> {
  const sub = await existing();
  if (!sub) return;
  const endpoint = sub.endpoint;
  await sub.unsubscribe();
  await fetch(`${API}/subscriptions`, {
    method: 'DELETE',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ endpoint }),
  });
}

/** Sends the current favourites again when this browser is subscribed (after a change). */
export function syncPushStations(): void {
  if (!supported()) return;
  void existing()
    .then((sub) => (sub ? send(sub) : undefined))
    .catch(() => undefined); // next visit tries again
}

/** The opt-in card of the favourites page. */
export function pushOptIn(): HTMLElement {
  const text = h('p', { class: 'muted', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'button' });
  const box = h('section', { class: 'card push-optin' }, h('h2', {}, tr('title')), text, button);

  const show = (on: boolean): void => {
    button.disabled = false;
    if (Notification.permission === 'denied') {
      text.textContent = tr('denied');
      button.hidden = true;
      return;
    }
    text.textContent = tr(on ? 'on' : 'off');
    button.textContent = tr(on ? 'disable' : 'enable');
    button.hidden = false;
    button.onclick = () => {
      button.disabled = true;
      text.textContent = tr('busy');
      void (on ? unsubscribe() : subscribe()).then(
        () => show(!on),
        (err: unknown) => {
          show(on);
          text.textContent = tr('failed', err instanceof Error ? err.message : String(err));
        },
      );
    };
  };

  if (!supported()) {
    text.textContent = tr('unsupported');
    button.hidden = true;
    return box;
  }
  button.hidden = true;
  void existing()
    .then(async (sub) => {
      if (sub) await send(sub); // keeps the server's list and language current
      show(sub !== null);
    })
    .catch(() => show(false));
  return box;
}
