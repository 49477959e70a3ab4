// Build: React components on Preact, the node's Web Worker (ES module, LDK's unused methods pruned,
// and its WASM cut to what the bundle calls),
// our service worker (src/sw.ts, which caches a signed release: scripts/release.ts builds and signs;
// the web app manifest is public/manifest.webmanifest) and the Content-Security-Policy.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';
import { walletCsp } from './csp.ts';
import { pruneLdkMethods } from './scripts/ldk-prune.ts';
import { pruneLdkWasm } from './scripts/ldk-wasm-prune.ts';

/**
 * The node's Web Worker as a second entry of the app's own build (not Vite's separate worker
 * bundle): what both load — payment-request parsing, noble/scure crypto — then ships once, in chunks
 * they share, instead of once in each. The dev server keeps Vite's `new URL(…, import.meta.url)`.
 */
function workerInAppBuild(): Plugin {
  const entry = fileURLToPath(new URL('./src/worker/node.worker.ts', import.meta.url));
  const workerUrl = "new URL('./node.worker.ts', import.meta.url)";
  let ref = '';
  return {
    name: 'lpw-worker-in-app-build',
    apply: 'build',
    enforce: 'pre',
    buildStart() {
      ref = this.emitFile({ type: 'chunk', id: entry, name: 'node.worker' });
    },
    transform(code, id) {
      if (!id.endsWith('/src/worker/client.ts')) return null;
      if (!code.includes(workerUrl)) this.error(`${id} no longer starts the worker as ${workerUrl}`);
      // the file URL is the asset path from the base (`/assets/…`), so it needs a base too
      return code.replace(workerUrl, `new URL(import.meta.ROLLUP_FILE_URL_${ref}, import.meta.url)`);
    },
  };
}

/**
 * The service worker as a third entry of the app's build, at `/sw.js` (its scope is the whole origin),
 * run as an ES module (`register(…, { type: 'module' })`, stores/updates.ts): the secp256k1 and SHA-256
 * it checks a release's signature with are then the chunk the page already loads, not a second copy
 * (~12 KB gzip). Its imports carry content hashes in their names, so a release whose shared code
 * changed has a different sw.js too, and the browser's byte check sees the update.
 */
function serviceWorkerInAppBuild(): Plugin {
  const entry = fileURLToPath(new URL('./src/sw.ts', import.meta.url));
  return {
    name: 'lpw-service-worker-in-app-build',
    apply: 'build',
    buildStart() {
      this.emitFile({ type: 'chunk', id: entry, fileName: 'sw.js' });
    },
  };
}

/**
 * The CSP as a meta tag in the built index.html (the dev server needs inline scripts; the build none).
 * VITE_DEVNET=1 builds for the devnet: loopback without TLS allowed (csp.ts).
 */
function contentSecurityPolicy(): Plugin {
  const content = walletCsp({ devnet: process.env.VITE_DEVNET === '1' });
  return {
    name: 'lpw-csp',
    apply: 'build',
    transformIndexHtml: () => [
      {
        tag: 'meta',
        attrs: { 'http-equiv': 'Content-Security-Policy', content },
        injectTo: 'head-prepend',
      },
    ],
  };
}

/** React's API from Preact (~50 KB gzip less); our sources and types stay React's. */
const preactAliases = [
  ['react', 'preact/compat'],
  ['react-dom', 'preact/compat'],
  ['react-dom/client', 'preact/compat/client'],
  ['react/jsx-runtime', 'preact/jsx-runtime'],
  ['react/jsx-dev-runtime', 'preact/jsx-dev-runtime'],
].map(([find, module]) => ({
  find: new RegExp(`^${find}$`),
  replacement: fileURLToPath(import.meta.resolve(module!)),
}));

export default defineConfig({
  resolve: { alias: preactAliases },
  build: {
    target: 'es2022',
    sourcemap: false,
    // terser packs this code a little smaller than the default minifier (about 3 KB gzip of ~250)
    minify: 'terser',
    terserOptions: { module: true, ecma: 2020, compress: { passes: 2 } },
    chunkSizeWarningLimit: 2_000,
    // Vite's preloading of a dynamic import's chunks uses `document`: none from the worker, which has none
    modulePreload: {
      resolveDependencies: (_file, deps, { hostId }) => (hostId.includes('node.worker') ? [] : deps),
    },
    rolldownOptions: {
      // a chunk that is no entry holds code the app and the worker share: name it so
      output: {
        chunkFileNames: (chunk) =>
          chunk.isEntry || chunk.isDynamicEntry ? 'assets/[name]-[hash].js' : 'assets/shared-[hash].js',
      },
    },
  },
  plugins: [
    // every workspace source the worker may bundle: a method named in none of them cannot be called;
    // less the gossip sync of nodes that keep a graph (createNode's alone: the worker calls
    // createWalletNode), whose RoutingMessageHandler glue would otherwise ship (~4.5 KB gzip)
    pruneLdkMethods(
      ['src', '../../packages', '../../lsp-server/src'],
      ['../../packages/node/src/gossip-handler.ts', '../../packages/node/src/gossip-utxo.ts'],
    ),
    // then only the WASM exports the bundled JS still names, and the code they reach
    pruneLdkWasm(),
    workerInAppBuild(),
    react(),
    contentSecurityPolicy(),
    serviceWorkerInAppBuild(),
  ],
});
