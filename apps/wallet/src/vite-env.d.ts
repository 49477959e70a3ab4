/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** '1' in a devnet build: loopback without TLS allowed (csp.ts, lib/connect-url.ts). */
  readonly VITE_DEVNET?: string;
}
