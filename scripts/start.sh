#!/usr/bin/env bash
# `npm start`: install, then run the product on embedded defaults. Today that is the devnet
# (regtest chain simulator) with its Esplora and bitcoind RPC endpoints; the LSP and the wallet
# join it when they exist.
set -euo pipefail
cd "$(dirname "$0")/.."
pnpm() { npx --yes pnpm@10.34.9 "$@"; }
pnpm install --frozen-lockfile --reporter=silent
cd packages/devnet && exec ../../node_modules/.bin/tsx src/cli.ts start
