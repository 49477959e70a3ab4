#!/usr/bin/env bash
# `npm test`: install everything from the npm registry, check types and style, run every package's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
pnpm() { npx --yes pnpm@10.34.9 "$@"; }
pnpm install --frozen-lockfile
pnpm -r --workspace-concurrency=1 run typecheck
pnpm exec biome check .
pnpm -r --workspace-concurrency=1 run test
