#!/usr/bin/env bash
# A fresh database's migration time before and after squashing
# (BENCHMARKS.md, "Squashing"): 500 realistic migrations (bench/src/real.rs),
# run in full, against the same set squashed to 490 by
# Migrator::squash_baseline (the baseline, then 10 migrations); SQLite on a
# file and PostgreSQL (TEST_POSTGRES_URL, default the CI server), median of
# 5 fresh databases each, in a release build:
#   bash bench/squash.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
cargo test --release --all-features --test squash measure_a_fresh_database_before_and_after_squashing_500 \
  -- --ignored --nocapture 2>&1 | grep -E "^(SQLite|PostgreSQL)"
