// The wallet's Content-Security-Policy: no inline script, and connections only where a wallet on its
// own origin must go. 'wasm-unsafe-eval' lets LDK's WASM compile. Styles come from the build's own
// stylesheet only (the QR code sets its size through the DOM, which the policy allows).
//
// connect-src: 'self' is the wallet's own origin (config.json). Everything else the wallet reaches
// is chosen at run time, on an origin no build can know: the LSP the person picks (tRPC, backups,
// its wss:// peer socket), the chain sources in Settings (to leave an LSP that is gone), and the
// LNURL / Lightning Address / L402 sites it pays. A CSP cannot be widened at run time, so the
// narrowest rule that admits any of them is the scheme: `https:` and `wss:`, TLS only. A devnet
// build (VITE_DEVNET=1: `npm start`, the e2e journeys) adds plain http and ws to loopback only,
// where the devnet's LSP, chain and merchant listen without TLS. Servers of the built app send the
// policy as a header too, read from the build's index.html (lsp-server/src/wallet-host.ts).

/** Loopback without TLS: the devnet's servers, on this machine, on whatever port. */
const DEVNET_LOOPBACK = ['http://127.0.0.1:*', 'ws://127.0.0.1:*', 'http://localhost:*', 'ws://localhost:*'];

/** @example walletCsp({ devnet: process.env.VITE_DEVNET === '1' }) */
export function walletCsp(options: { devnet: boolean }): string {
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self'",
    ["connect-src 'self' https: wss:", ...(options.devnet ? DEVNET_LOOPBACK : [])].join(' '),
    "img-src 'self' blob:",
    "media-src 'self' blob:",
    "style-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** The policy of a release build. */
export const CSP = walletCsp({ devnet: false });
