// The service worker: serves the wallet only from a release it verified. On install it fetches
// release.json and release.sig, checks the signature with the release key this wallet pinned at its first
// install, downloads every file and checks its SHA-256, and caches the lot; any failure refuses the whole
// release (the install fails and the running version stays). A first install takes over at once (so the
// wallet opens offline from the first visit); an update waits until the person agrees in the page
// (lib/updates.ts sends 'activate-update'). It runs as an ES module that imports the page's shared chunks
// (vite.config.ts). What this cannot stop: a host that serves a different sw.js (or chunk it imports)
// replaces this code itself; the page (stores/updates.ts) checks a new sw.js and its imports against the
// signed release and refuses to unlock under one that fails.
import { createStore, get, set } from 'idb-keyval';
import {
  checkReleaseFile,
  type FromServiceWorker,
  fetchReleaseFile,
  fetchSignedRelease,
  sha256Hex,
} from './lib/release.ts';

declare const self: ServiceWorkerGlobalScope;

const BUILT_KEY = import.meta.env.VITE_RELEASE_PUBKEY as string;
/** Names this sw.js's release cache across restarts (a waiting worker may be stopped before it activates). */
const BUILT_VERSION = import.meta.env.VITE_RELEASE_VERSION as string;
const db = createStore('lpw-release', 'release');
const PINNED_KEY = 'pinned-key';
const ACTIVE_CACHE = 'active-cache';

async function tell(message: FromServiceWorker): Promise<void> {
  for (const client of await self.clients.matchAll({ includeUncontrolled: true }))
    client.postMessage(message);
}

/** The release this sw.js belongs to, checked file by file, in a cache named by its manifest's hash. */
async function installRelease(): Promise<void> {
  const pinned = await get<string>(PINNED_KEY, db);
  if (pinned !== undefined && pinned !== BUILT_KEY)
    throw new Error('this version is signed with another release key than the one this wallet trusts');
  const { manifest, manifestBytes } = await fetchSignedRelease(BUILT_KEY);
  const cacheName = `release-${sha256Hex(manifestBytes).slice(0, 16)}`;
  const cache = await caches.open(cacheName);
  for (const path of Object.keys(manifest.files)) {
    const { bytes, headers } = await fetchReleaseFile(path);
    checkReleaseFile(manifest, path, bytes);
    // sw.js is the browser's to fetch (and the page checks the next one against the next release)
    if (path === 'sw.js') continue;
    // the host's content type and CSP go with the checked bytes (not its encoding: these are decoded)
    const kept = new Headers();
    for (const name of ['content-type', 'content-security-policy']) {
      const value = headers.get(name);
      if (value !== null) kept.set(name, value);
    }
    await cache.put(`/${path}`, new Response(bytes as BufferSource, { headers: kept }));
  }
  await set(`installed:${BUILT_VERSION}`, cacheName, db);
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    installRelease().then(
      async () => {
        // the first version takes over at once; an update waits for the person's yes (the page asks)
        if (!self.registration.active) await self.skipWaiting();
      },
      async (error: unknown) => {
        await tell({
          type: 'update-refused',
          reason: error instanceof Error ? error.message : String(error),
        });
        throw error;
      },
    ),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const mine = await get<string>(`installed:${BUILT_VERSION}`, db);
      if (mine) {
        await set(ACTIVE_CACHE, mine, db);
        if ((await get<string>(PINNED_KEY, db)) === undefined) await set(PINNED_KEY, BUILT_KEY, db);
        for (const name of await caches.keys()) if (name !== mine) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('message', (event) => {
  if ((event.data as { type?: string })?.type === 'activate-update') void self.skipWaiting();
});

let activeCache: Promise<Cache | undefined> | undefined;
function releaseCache(): Promise<Cache | undefined> {
  activeCache ??= get<string>(ACTIVE_CACHE, db).then((name) => (name ? caches.open(name) : undefined));
  return activeCache;
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  event.respondWith(
    (async () => {
      const cache = await releaseCache();
      const path = event.request.mode === 'navigate' ? '/index.html' : url.pathname;
      // what is not a file of the release (release.json itself, for the page's update check) comes from the network
      return (await cache?.match(path)) ?? fetch(event.request);
    })(),
  );
});
