#!/usr/bin/env bash
# Without sqlx, on SQLite and PostgreSQL (BENCHMARKS.md, "rusqlite"):
#   bash bench/drivers.sh [--n 500] [--w1 5] [--w2 20] [--postgres URL]
# Writes the N-migration folders (ours, refinery) under generated/drivers/,
# builds bench/drivers in release (sharing bench/target) and runs it.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="$PWD/target"
n=500
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --n) n="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
out=generated/drivers
# Rewritten only when N changes, so a second run rebuilds nothing.
if [ "$(cat "$out/n" 2>/dev/null)" != "$n" ]; then
  rm -rf "$out"
  mkdir -p "$out/ours" "$out/refinery"
  for i in $(seq 1 "$n"); do
    up="CREATE TABLE t_$i (id INTEGER PRIMARY KEY, v TEXT);
INSERT INTO t_$i (id, v) VALUES (1, 'x');"
    printf '%s\n' "$up" > "$out/ours/$(printf %04d "$i")_t_$i.up.sql"
    printf 'DROP TABLE t_%s;\n' "$i" > "$out/ours/$(printf %04d "$i")_t_$i.down.sql"
    printf '%s\n' "$up" > "$out/refinery/V${i}__t_$i.sql"
  done
  echo "$n" > "$out/n"
fi
cargo build --release --quiet --manifest-path drivers/Cargo.toml
exec "$CARGO_TARGET_DIR/release/embedded-migrations-drivers-bench" "${args[@]}"
