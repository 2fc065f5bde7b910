#!/usr/bin/env bash
# A ChromaDB test server: PyPI's `chromadb` in a venv (.venv-chroma), served by
# its own `chroma run` (a Rust frontend over a SQLite system database).
#   bash .ci/chroma.sh start   install `chromadb` (once), start the server on
#                              127.0.0.1:$CHROMA_PORT (8011) unless one answers
#                              there already, wait for /api/v2/heartbeat
#   bash .ci/chroma.sh stop    stop the server this script started
# The tests reach it through CHROMA_TEST_URL (http://127.0.0.1:8011); each test
# makes a database of its own in the default tenant.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${CHROMA_PORT:-8011}
# The release the README's backend table names; a newer one is tested by
# changing this line.
version=${CHROMA_VERSION:-1.5.9}
url="http://127.0.0.1:$port"
state=.ci/chroma
answers() { curl -fsS "$url/api/v2/heartbeat" >/dev/null 2>&1; }

start() {
  if answers; then
    echo "Chroma answers on $url already; reusing it ($(curl -fsS "$url/api/v2/version"))"
    return 0
  fi
  if [ ! -x .venv-chroma/bin/chroma ] || ! .venv-chroma/bin/pip show chromadb 2>/dev/null | grep -qx "Version: $version"; then
    python3 -m venv .venv-chroma
    .venv-chroma/bin/pip install -q "chromadb==$version"
  fi
  mkdir -p "$state"
  data=$(mktemp -d /tmp/em-chroma.XXXXXX)
  echo "$data" >"$state/data"
  setsid nohup .venv-chroma/bin/chroma run --path "$data/db" --host 127.0.0.1 --port "$port" \
    >"$data/server.log" 2>&1 </dev/null &
  echo $! >"$state/pid"
  for _ in $(seq 90); do
    if answers; then
      echo "Chroma $version on $url (API $(curl -fsS "$url/api/v2/version"))"
      return 0
    fi
    if ! kill -0 "$(cat "$state/pid")" 2>/dev/null; then break; fi
    sleep 1
  done
  echo "!! the Chroma server did not start:" >&2
  cat "$data/server.log" >&2
  return 1
}

stop() {
  if [ -f "$state/pid" ]; then kill "$(cat "$state/pid")" 2>/dev/null || true; rm -f "$state/pid"; fi
  if [ -f "$state/data" ]; then rm -rf "$(cat "$state/data")"; rm -f "$state/data"; fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
