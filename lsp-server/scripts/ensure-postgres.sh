#!/usr/bin/env bash
# Make a throwaway PostgreSQL available for the tests and print its URL on stdout (only the URL).
# Installs the Debian package when missing (root only), runs a private cluster as the postgres user
# under $PG_TEST_DIR on 127.0.0.1:$PG_TEST_PORT with trust auth, and creates the test database.
# Idempotent: a cluster that already answers is reused. Exit status non-zero when it cannot.
set -euo pipefail
PORT="${PG_TEST_PORT:-54329}"
DIR="${PG_TEST_DIR:-/tmp/lpw-test-postgres}"
DB="${PG_TEST_DB:-lpw_test}"
log() { echo "ensure-postgres: $*" >&2; }

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/initdb" ]] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

BIN="$(find_bin || true)"
if [[ -z "$BIN" ]]; then
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
    log "PostgreSQL is not installed and I cannot install it (need root and apt-get)"; exit 1
  fi
  log "installing postgresql with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 || {
    apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
  }
  BIN="$(find_bin)" || { log "postgresql installed but initdb not found"; exit 1; }
fi

# run the server as an unprivileged user: postgres refuses to run as root
RUN_AS=()
if [[ "$(id -u)" == 0 ]]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$DIR" --shell /usr/sbin/nologin postgres
  RUN_AS=(runuser -u postgres --)
fi

if ! "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
  mkdir -p "$DIR"
  [[ "$(id -u)" == 0 ]] && chown postgres: "$DIR"
  if [[ ! -f "$DIR/data/PG_VERSION" ]]; then
    "${RUN_AS[@]}" "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 >"$DIR/initdb.log" 2>&1 \
      || { log "initdb failed: $(tail -5 "$DIR/initdb.log")"; exit 1; }
  fi
  "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 30 \
    -o "-h 127.0.0.1 -p $PORT -k $DIR -c fsync=off -c max_connections=200" start >&2 \
    || { log "server did not start: $(tail -5 "$DIR/server.log")"; exit 1; }
fi

if ! "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB'" postgres | grep -q 1; then
  "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -qc "CREATE DATABASE $DB" postgres >&2
fi
echo "postgres://postgres@127.0.0.1:$PORT/$DB"
