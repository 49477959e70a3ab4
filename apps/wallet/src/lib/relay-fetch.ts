// `fetch` through the LSP's relay (`relay.fetch`), for requests to other origins the browser cannot
// make itself (the site sends no CORS headers; see web-fetch.ts) and for the worker's streams: the
// relay's answer rebuilt here as a Response: status, content-type, www-authenticate and body — all
// LNURL and L402 need.
import type { RelayFetchInput, RelayFetchOutput } from '@lpw/api';
import { base64 } from '@scure/base';

export type Relay = (request: RelayFetchInput) => Promise<RelayFetchOutput>;

const PASSED_HEADERS = ['authorization', 'accept', 'content-type'] as const;
// statuses a Response may not carry a body with
const NULL_BODY = new Set([204, 205, 304]);

/** The relay's answer as a Response (its `url` is where the answer came from). */
export function responseOf(answer: RelayFetchOutput): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(answer.headers))
    if (value !== undefined) headers.set(name, value);
  const response = new Response(
    NULL_BODY.has(answer.status) ? null : (base64.decode(answer.body_base64) as BufferSource),
    {
      status: answer.status,
      headers,
    },
  );
  Object.defineProperty(response, 'url', { value: answer.url });
  return response;
}

/**
 * A `fetch` made by `relay`. Only GET and POST with a text body, and the Authorization, Accept and
 * Content-Type headers, cross the relay.
 * @example const viaRelay = relayedFetch(useWallet.getState().relay);
 */
export function relayedFetch(relay: Relay): typeof fetch {
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const method = (init?.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'POST') throw new TypeError(`${method} requests are not relayed`);
    if (init?.body != null && typeof init.body !== 'string')
      throw new TypeError('only text bodies are relayed');
    const given = new Headers(init?.headers);
    const headers: Record<string, string> = {};
    for (const name of PASSED_HEADERS) {
      const value = given.get(name);
      if (value !== null) headers[name] = value;
    }
    const signal = init?.signal;
    signal?.throwIfAborted();
    const answer = relay({
      url,
      method,
      headers,
      ...(typeof init?.body === 'string' ? { body: init.body } : {}),
    });
    // the relay call cannot be cancelled, but its late answer is not waited for
    const aborted = new Promise<never>((_, reject) =>
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true }),
    );
    return responseOf(await Promise.race([answer, aborted]));
  };
}
