// How long Chromium takes to fetch and to compile WASM modules, side by side (LDK's whole module
// against the wallet build's pruned one): `node --import tsx src/wasm-compile-run.ts A.wasm B.wasm
// [runs] [--js-flags=…]`. Each run loads the files in turn, in a fresh page, over loopback with
// caching off (no compiled-code cache, no reuse of a module compiled before), and times the download
// alone, `WebAssembly.compile` of the bytes, and `compileStreaming` (what the wallet's worker does,
// through the bindings' init).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { chromium } from '@playwright/test';
import { LAUNCH } from '../../e2e/harness/browser.ts';
import { percentile } from './stats.ts';

const args = process.argv.slice(2);
const flags = args.filter((arg) => arg.startsWith('--'));
const files = args.filter((arg) => arg.endsWith('.wasm'));
const runs = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 7);
if (files.length === 0) throw new Error('usage: wasm-compile-run.ts A.wasm [B.wasm …] [runs] [--js-flags=…]');
const bodies = files.map((file) => readFileSync(file));

/**
 * A custom section of 16 random bytes, which compiling ignores: V8 reuses the code of a module whose
 * bytes it compiled before in the same process, and every load here must be a first one.
 */
const uniqueSection = () => Buffer.concat([Buffer.from([0, 22, 5]), Buffer.from('nonce'), randomBytes(16)]);

const server = createServer((request, response) => {
  const index = Number(new URL(request.url ?? '/', 'http://x').searchParams.get('file'));
  const body = bodies[index];
  if (request.url === '/') {
    response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>wasm</title>');
  } else if (body) {
    response
      .writeHead(200, { 'content-type': 'application/wasm', 'cache-control': 'no-store' })
      .end(Buffer.concat([body, uniqueSection()]));
  } else response.writeHead(404).end();
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const browser = await chromium.launch({ ...LAUNCH, args: [...LAUNCH.args!, ...flags] });

type Sample = { fetchMs: number; compileMs: number; streamingMs: number };
const samples: Sample[][] = files.map(() => []);
try {
  for (let run = 0; run < runs; run++) {
    for (const [index] of files.entries()) {
      const page = await browser.newPage();
      await page.goto(`${origin}/`);
      samples[index]!.push(
        await page.evaluate(async (url) => {
          const t0 = performance.now();
          const bytes = await (await fetch(url, { cache: 'no-store' })).arrayBuffer();
          const t1 = performance.now();
          await WebAssembly.compile(bytes);
          const t2 = performance.now();
          await WebAssembly.compileStreaming(fetch(`${url}&streaming`, { cache: 'no-store' }));
          const t3 = performance.now();
          return { fetchMs: t1 - t0, compileMs: t2 - t1, streamingMs: t3 - t2 };
        }, `${origin}/wasm?file=${index}`),
      );
      await page.close();
    }
  }
} finally {
  await browser.close();
  server.close();
}
const p50 = (list: Sample[], key: keyof Sample) =>
  Math.round(
    percentile(
      list.map((s) => s[key]),
      50,
    ),
  );
for (const [index, file] of files.entries()) {
  const list = samples[index]!;
  console.log(
    `${basename(file)} ${bodies[index]!.length} B, ${runs} runs${flags.length ? ` ${flags.join(' ')}` : ''}: ` +
      `fetch p50 ${p50(list, 'fetchMs')} ms, compile p50 ${p50(list, 'compileMs')} ms, ` +
      `compileStreaming p50 ${p50(list, 'streamingMs')} ms`,
  );
}
