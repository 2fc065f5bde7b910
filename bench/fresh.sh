#!/usr/bin/env bash
# Fresh migrated test databases, and the apply path against the server's own
# time (BENCHMARKS.md, "Fresh test databases"):
#   bash bench/fresh.sh [--reps 15] [--suite 100] [--backends postgres,sqlite,mysql] [--no-limit]
# Generates the 232-migration realistic sets first (the harness, R only).
# PostgreSQL on 127.0.0.1:5432 (user postgres, trust; BENCH_PG_URL names another
# server for the per-database and suite rows) whose log file is
# readable here (/var/log/postgresql/postgresql-*-main.log, or PG_LOG), for
# the server-time rows; MariaDB on 127.0.0.1:3306 (root); sqlite3 and psql
# on the PATH.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="$PWD/target"
[ -d generated/apps/app-sqlx-rm-232 ] || bash run.sh --tools ours,sqlx --real postgres,sqlite,mysql --real-n 232 \
  --no-w1w2 --no-w3 --no-md --w1 1
[ -f fresh/Cargo.lock ] || cp Cargo.lock fresh/Cargo.lock
cargo build --release --quiet --manifest-path fresh/Cargo.toml
exec "$CARGO_TARGET_DIR/release/embedded-migrations-fresh" "$@"
