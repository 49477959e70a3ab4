#!/usr/bin/env bash
# npm run bench [-- --quick] [--profile] [--groups=floor,product,soak]
# Installs the workspace as locked, then runs the benchmark (bench/src/run.ts); results in
# bench/results/latest.json.
set -euo pipefail
cd "$(dirname "$0")/.."
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npx --yes pnpm@10.34.9 install --frozen-lockfile # Debian's Chromium, never Playwright's
cd bench
exec node --import tsx src/run.ts "$@"
