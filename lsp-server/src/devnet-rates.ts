// The devnet's exchange rate source: a tiny loopback HTTP server answering one fixed JSON document,
// so `npm start` and the tests read rates through the same fetch-and-parse path as a real source
// (RATES_URL = its url, RATES_PATH = {CURRENCY}). Tests may make it answer something else. Devnet only.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Round prices for one bitcoin, so a screen's fiat can be checked by eye: 20,000 sats = $20.00. */
export const DEVNET_RATES: Record<string, string> = {
  USD: '100000',
  EUR: '92000',
  GBP: '79000',
  JPY: '15000000',
  CHF: '88000',
};

export interface DevnetRates {
  url: string;
  /** Requests the source has answered (the LSP should ask once per reading, whatever its wallets do). */
  readonly requests: number;
  /** What the source answers from now on (status 200 and this body, or another status). */
  answer(body: string, status?: number): void;
  close(): Promise<void>;
}

export async function serveDevnetRates(host = '127.0.0.1'): Promise<DevnetRates> {
  let status = 200;
  let body = JSON.stringify(DEVNET_RATES);
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/rates`,
    get requests() {
      return requests;
    },
    answer(next, nextStatus = 200) {
      body = next;
      status = nextStatus;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
