// Which other origins the wallet may reach: what its CSP (csp.ts) admits, checked when the person
// types a URL so a refusal is a sentence now, not a blocked request later. TLS anywhere; plain
// http only to loopback, and only in a devnet build (VITE_DEVNET=1), where the devnet listens.

const LOOPBACK = new Set(['127.0.0.1', 'localhost']);
const DEVNET = import.meta.env.VITE_DEVNET === '1';

/**
 * `typed` as a URL the page may connect to, or null.
 * @example connectableUrl('https://lsp.example/')?.origin // 'https://lsp.example'
 */
export function connectableUrl(typed: string, devnet = DEVNET): URL | null {
  let url: URL;
  try {
    url = new URL(typed.trim());
  } catch {
    return null;
  }
  if (url.protocol === 'https:') return url;
  return url.protocol === 'http:' && devnet && LOOPBACK.has(url.hostname) ? url : null;
}

/** What to tell the person a URL must be, in this build. */
export const CONNECTABLE_HINT = DEVNET ? 'an https:// URL (or http:// on this machine)' : 'an https:// URL';

/** The default LSP of this copy of the wallet: `defaultLspUrl` in the config.json served beside it. */
export async function defaultLspUrl(): Promise<string | undefined> {
  try {
    const res = await fetch('/config.json', { cache: 'no-cache' });
    if (!res.ok) return undefined;
    const config = (await res.json()) as { defaultLspUrl?: unknown };
    if (typeof config.defaultLspUrl !== 'string') return undefined;
    return connectableUrl(config.defaultLspUrl)?.origin;
  } catch {
    return undefined; // none, or not JSON: the person types one on the welcome screen
  }
}
