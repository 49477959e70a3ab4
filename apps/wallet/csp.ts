// The wallet's Content-Security-Policy: no inline script, no third-party origin. 'wasm-unsafe-eval'
// lets LDK's WASM compile; styles allow 'unsafe-inline' because html5-qrcode sets style attributes
// on the elements it creates (styles cannot run code). connect-src 'self' covers the LSP's tRPC, its
// /peer WebSocket and the Esplora API, all served from the wallet's origin; other sites (LNURL, L402)
// are reached through the LSP's relay (src/lib/relay-fetch.ts). connect-src also allows `https:`: a
// wallet must be able to leave an LSP that is gone, reading the chain from an Esplora the person
// chooses in Settings, whose origin no build can know, and a CSP cannot be widened at run time. The
// scheme is the narrowest rule that admits any such server: TLS only, no plain http or ws to another
// origin. Used by the build (meta tag) and by servers of the built app (header).
export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self' https:",
  "img-src 'self' blob:",
  "media-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');
