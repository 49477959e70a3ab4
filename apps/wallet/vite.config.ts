// Build: React components on Preact, the node's Web Worker (ES module, LDK's unused methods pruned),
// the PWA (manifest + Workbox precache of the app shell and LDK's 12 MB WASM, hence the raised size
// limit) and the Content-Security-Policy.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { CSP } from './csp.ts';
import { pruneLdkMethods } from './scripts/ldk-prune.ts';

/** html5-qrcode decodes with ZXing's QR reader only (see src/screens/send/zxing-qr.ts). */
function qrOnlyZxing(): Plugin {
  const shim = fileURLToPath(new URL('./src/screens/send/zxing-qr.ts', import.meta.url));
  return {
    name: 'lpw-qr-only-zxing',
    enforce: 'pre',
    resolveId: (source, importer) =>
      source === '../third_party/zxing-js.umd' && importer?.includes('html5-qrcode') ? shim : null,
  };
}

/** The CSP as a meta tag in the built index.html (the dev server needs inline scripts; the build none). */
function contentSecurityPolicy(): Plugin {
  return {
    name: 'lpw-csp',
    apply: 'build',
    transformIndexHtml: () => [
      {
        tag: 'meta',
        attrs: { 'http-equiv': 'Content-Security-Policy', content: CSP },
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
    chunkSizeWarningLimit: 2_000,
    rolldownOptions: {
      // html5-qrcode's modules only declare (TypeScript's class IIFEs): its ready-made scanner UI,
      // which the wallet doesn't use, can be left out
      treeshake: { moduleSideEffects: [{ test: /[\\/]html5-qrcode[\\/]esm[\\/]/, sideEffects: false }] },
    },
  },
  worker: {
    format: 'es',
    // every workspace source the worker may bundle: a method named in none of them cannot be called
    plugins: () => [pruneLdkMethods(['src', '../../packages', '../../lsp-server/src'])],
  },
  plugins: [
    react(),
    qrOnlyZxing(),
    contentSecurityPolicy(),
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: false,
      manifest: {
        name: 'Lightning Wallet',
        short_name: 'Wallet',
        description: 'A self-custodial Lightning wallet: your keys and channel stay on this device.',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'portrait',
        background_color: '#f6f7f9',
        theme_color: '#5b3cc4',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,png,wasm,webmanifest}'],
        // LDK's WASM is ~12 MB: precache it so the wallet opens offline
        maximumFileSizeToCacheInBytes: 16 * 1024 * 1024,
        navigateFallback: '/index.html',
        navigateFallbackDenylist: [/^\/trpc/, /^\/peer/, /^\/esplora/, /^\/admin/, /^\/health/, /^\/metrics/],
        cleanupOutdatedCaches: true,
        // the first visit is controlled at once, so the wallet opens offline from then on
        clientsClaim: true,
        skipWaiting: true,
      },
    }),
  ],
});
