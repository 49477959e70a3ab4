// L402 overhead: the same handler behind the L402 middleware (valid, reusable token) and on an
// unprotected twin route, over real HTTP on 127.0.0.1; the token paid once over the devnet (the
// router pays the merchant's invoice with real LDK). Also the whole first purchase: 402 → pay → 200.
import { serve } from '@hono/node-server';
import { startDevnet } from '@lpw/devnet';
import { startPublicNetwork } from '@lpw/devnet/network';
import { fetchWithL402, type L402Env, l402 } from '@lpw/l402';
import { Hono } from 'hono';
import { percentile } from './stats.ts';

const round = (x: number) => Math.round(x * 1000) / 1000;

export async function measureL402(requests: number, purchases: number) {
  const devnet = await startDevnet({ seed: 'bench-l402' });
  const net = await startPublicNetwork(devnet);
  const rootKeys = [{ id: 'bench', secret: crypto.getRandomValues(new Uint8Array(32)) }];
  const app = new Hono<L402Env>();
  const handler = (c: { json: (v: unknown) => Response }) => c.json({ quote: 'Stay humble, stack sats.' });
  const common = { node: net.merchant.node, rootKeys, priceSat: 10 };
  app.get('/paid/quote', l402({ ...common, maxUses: requests + 100 }), handler);
  app.get('/buy/quote', l402(common), handler);
  app.get('/free/quote', handler);
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const pay = async (bolt11: string) => (await net.router.node.payInvoice(bolt11)).preimage;
  try {
    let authorization = '';
    const first = await fetchWithL402(`${base}/paid/quote`, {
      pay,
      maxSats: 10,
      onPaid: (r) => (authorization = r.authorization),
    });
    if (first.status !== 200) throw new Error(`paid request answered ${first.status}`);
    await first.text();

    const timed = async (url: string, headers: Record<string, string> = {}) => {
      const t0 = performance.now();
      const res = await fetch(url, { headers });
      await res.text();
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
      return ms;
    };
    for (let i = 0; i < 20; i++) {
      await timed(`${base}/free/quote`);
      await timed(`${base}/paid/quote`, { authorization });
    }
    // interleaved, so drift in machine load hits both alike
    const paid: number[] = [];
    const free: number[] = [];
    for (let i = 0; i < requests; i++) {
      free.push(await timed(`${base}/free/quote`));
      paid.push(await timed(`${base}/paid/quote`, { authorization }));
    }

    // whole purchases: challenge, Lightning payment router → merchant, retry with the token
    const firstPurchase: number[] = [];
    for (let i = 0; i < purchases; i++) {
      const t0 = performance.now();
      const res = await fetchWithL402(`${base}/buy/quote`, { pay, maxSats: 10 });
      await res.text();
      if (res.status !== 200) throw new Error(`purchase answered ${res.status}`);
      firstPurchase.push(performance.now() - t0);
    }
    return {
      l402_overhead_ms_p50: round(percentile(paid, 50) - percentile(free, 50)),
      l402_paid_ms_p50: round(percentile(paid, 50)),
      l402_paid_ms_p99: round(percentile(paid, 99)),
      l402_unprotected_ms_p50: round(percentile(free, 50)),
      l402_requests: requests,
      l402_purchase_ms_p50: round(percentile(firstPurchase, 50)),
      l402_purchases: purchases,
    };
  } finally {
    await new Promise((r) => server.close(r));
    await net.stop();
    await devnet.stop();
  }
}
