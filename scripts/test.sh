#!/usr/bin/env bash
# `npm test`: install everything from the npm registry, check types and style, run every package's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
pnpm() { npx --yes pnpm@10.34.9 "$@"; }
# e2e/ runs on @playwright/test with Debian's Chromium (playwright.config.ts): never fetch Playwright's own
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
pnpm install --frozen-lockfile
# the browser journeys' Chromium: install it when missing
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y chromium >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }
  else
    echo "!!! chromium is not installed and we are not root: the e2e browser journeys will fail !!!" >&2
  fi
fi
pnpm -r --workspace-concurrency=1 run typecheck
pnpm exec biome check .
# lsp-server's store tests run on SQLite and PostgreSQL; start a local PostgreSQL (or say loudly why not)
if TEST_DATABASE_URL="${TEST_DATABASE_URL:-$(bash lsp-server/scripts/ensure-postgres.sh)}"; then
  export TEST_DATABASE_URL
else
  echo "!!! PostgreSQL could not be started: lsp-server store tests run on SQLite only !!!" >&2
  unset TEST_DATABASE_URL
fi
# every package runs even when one fails, so one CI run shows every failure; CI keeps only the
# output's tail, so the failed tests are listed again at the very end
log="$(mktemp)"
status=0
pnpm -r --workspace-concurrency=1 --no-bail run test 2>&1 | tee "$log" || status=$?
if [ "$status" != 0 ]; then
  echo "=== failed tests (from the whole run above) ==="
  # each failure with the four lines after it (vitest prints the error there), each line once
  sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -aE -A4 ' FAIL | × |✘|^ +[0-9]+\) \[' | grep -av '^--$' | awk '!seen[$0]++' | head -80
fi
rm -f "$log"
exit "$status"
