// `fetch` for other sites (LNURL-pay, Lightning Addresses, L402 links): straight from the browser
// when the site allows it (CORS, which LUD-01 requires of LNURL services), through the LSP's relay
// only when the browser cannot make the request itself. A relayed answer is one the LSP could have
// changed, so it is marked (`routeOf`) and the screens say "via your LSP".
import { type Relay, relayedFetch } from './relay-fetch.ts';

/** How an answer reached the wallet. */
export type Route = 'direct' | 'relay';

const routes = new WeakMap<object, Route>();

/** How `response` (from `directFirstFetch`) came: 'relay' only when the LSP's relay made the request. */
export function routeOf(response: object): Route {
  return routes.get(response) ?? 'direct';
}

/**
 * Whether a failed direct request is one the relay should make instead. The browser rejects with a
 * TypeError, and no more detail, when the site sends no CORS headers, when the CSP forbids the
 * address, and on network failures (no route, DNS, refused connection): those are all "the browser
 * cannot", and the relay may still reach the site. An abort is the caller's decision, and any other
 * error is not about reaching the site: neither is relayed.
 */
function browserCannot(error: unknown, signal: AbortSignal | null | undefined): boolean {
  return error instanceof TypeError && !signal?.aborted;
}

/**
 * Whether an answer that did come is missing what CORS hides: a 401/402 whose `WWW-Authenticate`
 * (the L402 challenge) the site did not expose to scripts. Any other status, errors included, is the
 * site's answer and is returned as it is.
 */
function challengeHidden(response: Response): boolean {
  return (response.status === 401 || response.status === 402) && !response.headers.has('www-authenticate');
}

/**
 * A `fetch` that asks other sites directly and falls back to `relay` only when the browser cannot
 * (see `browserCannot`, `challengeHidden`). `ownOrigin` is fetched directly, as always.
 * @example const fetchSite = directFirstFetch(useWallet.getState().relay, location.origin);
 */
export function directFirstFetch(relay: Relay, ownOrigin: string | undefined): typeof fetch {
  const viaRelay = relayedFetch(relay);
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (ownOrigin !== undefined && new URL(url, ownOrigin).origin === ownOrigin) return fetch(input, init);
    let response: Response;
    try {
      // no cookies and no referrer: the site learns no more than the relay would tell it
      response = await fetch(url, {
        ...init,
        mode: 'cors',
        credentials: 'omit',
        referrerPolicy: 'no-referrer',
      });
    } catch (error) {
      if (!browserCannot(error, init?.signal)) throw error;
      return relayed(await viaRelay(url, init));
    }
    if (!challengeHidden(response)) return response;
    await response.body?.cancel();
    return relayed(await viaRelay(url, init));
  };
}

function relayed(response: Response): Response {
  routes.set(response, 'relay');
  return response;
}
