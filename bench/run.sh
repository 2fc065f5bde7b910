#!/usr/bin/env bash
# The whole benchmark in one command:  bash bench/run.sh [harness options]
# Generates the migration folders and app crates under bench/generated/, builds
# them (release, sharing bench/target), runs W1/W2 on SQLite and PostgreSQL and
# W3, prints the table and records it in BENCHMARKS.md. Options: see src/main.rs.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="$PWD/target"
cargo build --release --quiet --bin harness
exec "$CARGO_TARGET_DIR/release/harness" "$@"
