// What this browser offers for keeping a wallet: IndexedDB at all, and persistent storage (without
// it the browser may evict the data, which for channel state means lost money). Private windows
// either lack IndexedDB or refuse persistence; both are told to the person before money arrives.
import { get, set } from 'idb-keyval';

export type StorageVerdict =
  | { kind: 'persistent' }
  /** Works, but the browser may clear it under storage pressure; the person must agree to go on. */
  | { kind: 'best-effort'; reason: string }
  /** No usable storage (private window, disabled site data): no wallet here. */
  | { kind: 'unavailable'; reason: string };

export async function checkStorage(): Promise<StorageVerdict> {
  if (typeof indexedDB === 'undefined') {
    return { kind: 'unavailable', reason: 'This browser offers no storage here (private window?).' };
  }
  try {
    await set('lpw-storage-probe', Date.now());
    await get('lpw-storage-probe');
  } catch {
    return {
      kind: 'unavailable',
      reason: 'This browser refuses to store data for this site (private window or site data blocked).',
    };
  }
  const storage = navigator.storage;
  if (!storage?.persist) {
    return { kind: 'best-effort', reason: 'This browser cannot promise to keep the wallet’s data.' };
  }
  if ((await storage.persisted()) || (await storage.persist())) return { kind: 'persistent' };
  return {
    kind: 'best-effort',
    reason:
      'The browser did not grant persistent storage, so it may delete this wallet’s data when space runs low. Install the app (Add to Home screen) to keep it safe, and write down your recovery words.',
  };
}

/** A random id for this browser profile, naming it to the LSP's backup lease. */
export async function deviceId(): Promise<string> {
  const existing = await get<string>('lpw-device-id');
  if (existing) return existing;
  const id = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('');
  await set('lpw-device-id', id);
  return id;
}
