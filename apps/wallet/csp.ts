// The wallet's Content-Security-Policy: no inline script, no third-party origin. 'wasm-unsafe-eval'
// lets LDK's WASM compile; styles allow 'unsafe-inline' because html5-qrcode sets style attributes
// on the elements it creates (styles cannot run code). connect-src 'self' covers the LSP's tRPC, its
// /peer WebSocket and the Esplora API, all served from the wallet's origin. connect-src also allows
// `https:`: a wallet must be able to leave an LSP that is gone, reading the chain from an Esplora the
// person chooses in Settings, and it asks LNURL-pay, Lightning Address and L402 sites directly
// (src/lib/web-fetch.ts; the LSP's relay only when the browser cannot): origins no build can know,
// and a CSP cannot be widened at run time. The scheme is the narrowest rule that admits any such
// server: TLS only. Plain http is allowed to loopback only (LOOPBACK), the one place besides .onion
// where LNURL accepts it (payment-request's allowsPlainHttp): the devnet's sites on this machine.
// (IPv6 [::1] has no CSP host syntax.)
// Used by the build (meta tag) and by servers of the built app (header).
/** Plain-http sites the wallet may ask directly: this machine only (the devnet's shop and API). */
export const LOOPBACK = 'http://127.0.0.1:* http://localhost:*';

export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  `connect-src 'self' https: ${LOOPBACK}`,
  "img-src 'self' blob:",
  "media-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');
