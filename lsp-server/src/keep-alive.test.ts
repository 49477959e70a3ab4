import { Agent, createServer, get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { keepConnectionsForProxy, PROXY_IDLE_SEC } from './keep-alive.ts';

describe('keepConnectionsForProxy', () => {
  it('keeps idle connections past the proxy reuse time, yet close() does not wait for them', async () => {
    // an answer that is still being made when the server is told to close
    let answer!: () => void;
    const server = createServer((_req, res) => {
      answer = () => res.end('ok');
    });
    keepConnectionsForProxy(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    // a client that keeps its connection as long as the server lets it (as nginx's upstream pool does)
    const agent = new Agent({ keepAlive: true });
    const response = new Promise<{ res: IncomingMessage; body: string }>((resolve, reject) => {
      get({ host: '127.0.0.1', port, agent }, (res) => {
        let body = '';
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ res, body }));
      }).on('error', reject);
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    answer();
    const { res, body } = await response;
    expect(body).toBe('ok');
    expect(Number(/timeout=(\d+)/.exec(String(res.headers['keep-alive']))?.[1])).toBeGreaterThan(
      PROXY_IDLE_SEC,
    );
    // without the end after the answer, close() would wait out the 65 s idle time (the test's 20 s first)
    await closed;
    agent.destroy();
  }, 20_000);
});
