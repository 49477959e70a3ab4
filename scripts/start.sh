#!/usr/bin/env bash
# `npm start`: install, then run the whole product on embedded defaults: the devnet (regtest chain
# simulator with Esplora and bitcoind RPC, its router and merchant Lightning nodes) and the LSP
# (SQLite under ./data, funded channels with the router), printing the URLs. See lsp-server/src/dev.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
pnpm() { npx --yes pnpm@10.34.9 "$@"; }
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 pnpm install --frozen-lockfile --reporter=silent # e2e uses Debian's Chromium
# the wallet app, served on its own origin (dev.ts); a devnet build: its CSP lets it reach loopback over http
VITE_DEVNET=1 pnpm --filter @lpw/wallet run build >/dev/null
export DATA_DIR="${DATA_DIR:-$PWD/data}"
cd lsp-server && exec ../node_modules/.bin/tsx src/dev.ts
