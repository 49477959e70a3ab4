// Updates of the wallet's own code, as the page sees them. The service worker (src/sw.ts) installs a new
// release only if it is signed with the pinned key and every file matches; the page checks the same
// signature again, and that the waiting sw.js is the signed one, before it offers the update ("Update
// available — what changed"). Nothing new runs until the person agrees. A service worker that takes
// over without that agreement is code nobody checked: the page then refuses to unlock, so the words
// never reach it, and says so.
import { create } from 'zustand';
import {
  checkServiceWorkerFiles,
  type FromServiceWorker,
  fetchSignedRelease,
  ReleaseError,
} from '../lib/release.ts';

/** The key this build trusts, and its version (both built in: scripts/release.ts). */
export const RELEASE_KEY = import.meta.env.VITE_RELEASE_PUBKEY as string | undefined;
export const VERSION = (import.meta.env.VITE_RELEASE_VERSION as string | undefined) ?? 'development';
const CHECK_EVERY_MS = 60 * 60 * 1000;

export type UpdateState =
  | { kind: 'current' }
  | { kind: 'available'; version: string; notes: string }
  | { kind: 'refused'; reason: string };

interface Updates {
  state: UpdateState;
  /** Code the person never agreed to has taken over this page's origin: unlocking is refused. */
  untrusted: boolean;
  /** Asks the host for a newer release now (Settings); the answer arrives as `state`. */
  check(): Promise<void>;
  /** The person agreed: the verified waiting version takes over, and the page reloads into it. */
  apply(): void;
}

let registration: ServiceWorkerRegistration | undefined;
let accepted = false;

/** The page's own check of a waiting version: signed with this build's key, and its sw.js (with its imports) the signed one. */
async function verifyWaiting(): Promise<void> {
  try {
    if (!RELEASE_KEY) throw new ReleaseError('RELEASE_BAD_SIGNATURE', 'This build has no release key');
    const { manifest } = await fetchSignedRelease(RELEASE_KEY);
    await checkServiceWorkerFiles(manifest);
    if (manifest.version === VERSION) return;
    show({ kind: 'available', version: manifest.version, notes: manifest.notes });
  } catch (error) {
    show({ kind: 'refused', reason: error instanceof Error ? error.message : String(error) });
  }
}

/**
 * What the page tells of updates, unless code nobody agreed to already took over: that is what the
 * person must see, and a check that ends after it (the browser may activate a waiting worker while
 * the page is still hashing its sw.js) must not put a lesser reason in its place.
 */
function show(state: UpdateState): void {
  if (!useUpdates.getState().untrusted) useUpdates.setState({ state });
}

export const useUpdates = create<Updates>(() => ({
  state: { kind: 'current' },
  untrusted: false,
  async check() {
    await registration?.update().catch(() => {});
  },
  apply() {
    if (useUpdates.getState().state.kind !== 'available' || !registration?.waiting) return;
    accepted = true;
    registration.waiting.postMessage({ type: 'activate-update' });
  },
}));

/** Registers the service worker and follows its updates (main.tsx, production builds only). */
export function followUpdates(container: ServiceWorkerContainer): void {
  let controlled = container.controller !== null;
  container.addEventListener('controllerchange', () => {
    // the first install takes over at once and needs no reload; a later takeover must be the one agreed to
    if (!controlled) controlled = true;
    else if (accepted) window.location.reload();
    else
      useUpdates.setState({
        untrusted: true,
        state: {
          kind: 'refused',
          reason: 'A version you never agreed to has taken over this wallet’s address',
        },
      });
  });
  container.addEventListener('message', (event: MessageEvent<FromServiceWorker>) => {
    if (event.data?.type === 'update-refused') show({ kind: 'refused', reason: event.data.reason });
  });
  // an ES module (vite.config.ts): it shares the page's crypto chunk; a browser without module service
  // workers (Firefox before 147) gets no offline start and no checked updates, and the console says so
  container.register('/sw.js', { scope: '/', type: 'module' }).then(
    (reg) => {
      registration = reg;
      // a version found installing or waiting behind the running one: the service worker checked it, now the page does
      const watch = (worker: ServiceWorker | null) =>
        worker?.addEventListener('statechange', () => {
          if (worker.state === 'installed' && reg.active) void verifyWaiting();
        });
      if (reg.waiting && reg.active) void verifyWaiting();
      watch(reg.installing);
      reg.addEventListener('updatefound', () => watch(reg.installing));
      setInterval(() => void reg.update().catch(() => {}), CHECK_EVERY_MS);
    },
    (error: unknown) => console.warn('service worker not registered (no offline start):', error),
  );
}
