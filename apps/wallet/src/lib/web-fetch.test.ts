// When the wallet asks another site through the LSP's relay, against real HTTP servers on 127.0.0.1
// and the LSP's real relay service: an answer the site gave (any status) is taken as it is; only a
// request the browser cannot make, or a challenge it cannot read, goes through the relay, and the
// answer says so. (The CORS refusal itself is a browser's: e2e/tests/l402.test.ts.)
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { relayFetchInput } from '@lpw/api';
import { type Deps, loadConfig, Metrics, RelayService } from '@lpw/lsp-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Relay } from './relay-fetch.ts';
import { directFirstFetch, routeOf } from './web-fetch.ts';

let site: Server;
let base: string;
const relayed: string[] = [];
let relay: Relay;

function answer(request: IncomingMessage, response: ServerResponse) {
  const path = new URL(request.url ?? '/', base).pathname;
  if (path === '/ok') {
    response.writeHead(200, { 'content-type': 'application/json' });
    return response.end('{"tag":"payRequest"}');
  }
  if (path === '/broken') {
    response.writeHead(500, { 'content-type': 'application/json' });
    return response.end('{"status":"ERROR","reason":"down for maintenance"}');
  }
  if (path === '/challenge') {
    response.writeHead(402, { 'www-authenticate': 'L402 macaroon="AA==", invoice="lnbcrt1"' });
    return response.end();
  }
  // a 402 whose challenge this fetch cannot read (as when CORS does not expose it)
  if (path === '/hidden-challenge') {
    response.writeHead(402);
    return response.end();
  }
  if (path === '/slow') return; // never answers
  response.writeHead(404);
  response.end();
}

beforeAll(async () => {
  site = createServer(answer);
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  const config = loadConfig({ NETWORK: 'regtest', RELAY_ALLOW_LOOPBACK: 'true', LOG_LEVEL: 'silent' });
  const quiet = { debug() {}, info() {} } as unknown as Deps['log'];
  const service = new RelayService({ config, metrics: new Metrics(), log: quiet });
  relay = async (request) => {
    relayed.push(request.url);
    return service.fetch('wallet-under-test', relayFetchInput.parse(request));
  };
});
afterAll(async () => {
  site.closeAllConnections();
  await new Promise((resolve) => site.close(resolve));
});
beforeEach(() => {
  relayed.length = 0;
});

describe('directFirstFetch', () => {
  it('takes what the site answers, errors included, without the relay', async () => {
    const fetchSite = directFirstFetch(relay, undefined);
    const ok = await fetchSite(`${base}/ok`);
    expect([ok.status, await ok.text(), routeOf(ok)]).toEqual([200, '{"tag":"payRequest"}', 'direct']);
    const broken = await fetchSite(`${base}/broken`);
    expect([broken.status, routeOf(broken)]).toEqual([500, 'direct']);
    expect((await fetchSite(`${base}/nothing-here`)).status).toBe(404);
    const challenge = await fetchSite(`${base}/challenge`);
    expect([challenge.status, routeOf(challenge)]).toEqual([402, 'direct']);
    expect(challenge.headers.get('www-authenticate')).toMatch(/^L402 /);
    expect(relayed).toEqual([]);
  });

  it('asks the relay when the request cannot be made, and when a 402 hides its challenge', async () => {
    const fetchSite = directFirstFetch(relay, undefined);
    const hidden = await fetchSite(`${base}/hidden-challenge`);
    expect([hidden.status, routeOf(hidden)]).toEqual([402, 'relay']);
    // nothing listens there: the browser's TypeError, then the relay's own typed refusal
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const gone = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/x`;
    await new Promise((resolve) => closed.close(resolve));
    await expect(fetchSite(gone)).rejects.toMatchObject({ code: 'RELAY_UNREACHABLE' });
    expect(relayed).toEqual([`${base}/hidden-challenge`, gone]);
  });

  it('does not relay a request the caller cancelled', async () => {
    const fetchSite = directFirstFetch(relay, undefined);
    const controller = new AbortController();
    const pending = fetchSite(`${base}/slow`, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(relayed).toEqual([]);
  });
});
