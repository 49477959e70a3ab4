// The chain clients' HTTP: a GET whose connection is reset is repeated once, on a fresh connection;
// anything else fails as UNREACHABLE.
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { httpRequest } from './source.ts';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A server that drops the connection of the first `resets` requests, then answers "ok". */
async function flakyServer(resets: number): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  server = createServer((req, res) => {
    requests++;
    if (requests <= resets) req.socket.destroy();
    else res.end('ok');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/blocks/tip/hash`, requests: () => requests };
}

describe('chain HTTP', () => {
  it('repeats a GET once when its connection is reset', async () => {
    const flaky = await flakyServer(1);
    const res = await httpRequest(flaky.url, { method: 'GET' }, {});
    expect(new TextDecoder().decode(res.body)).toBe('ok');
    expect(flaky.requests()).toBe(2);
  });

  it('gives up as UNREACHABLE after the second reset, and never repeats a POST', async () => {
    const twice = await flakyServer(2);
    await expect(httpRequest(twice.url, { method: 'GET' }, {})).rejects.toMatchObject({
      code: 'UNREACHABLE',
    });
    expect(twice.requests()).toBe(2);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    const post = await flakyServer(1);
    await expect(httpRequest(post.url, { method: 'POST', body: 'tx' }, {})).rejects.toMatchObject({
      code: 'UNREACHABLE',
    });
    expect(post.requests()).toBe(1);
  });
});
