#!/usr/bin/env bash
# The large-file workload (the splitter and the build on one huge file):  bash bench/large_file.sh [N ...]  (default: 20000 50000)
#
# One migration whose up file seeds a table with N INSERT statements (about
# 110 bytes a line, as seed files are), embedded by ours (embed_migrations!)
# and by sqlx (sqlx::migrate!, which sends the whole file as one query). For
# each tool and N, a small app under bench/generated/large/ is built in debug
# (the dependencies once, untimed), then timed:
#   build   `cargo build` after touching src/main.rs: the app crate alone,
#           macro expansion and the embedded text included;
#   split   ours only: core's splitter over the embedded text, in the app;
#   run     the tool's run call on a fresh SQLite file (debug build), after
#           which the app checks that the table holds N rows.
# Prints one line per tool and N. Nothing here is part of the test suite.
set -euo pipefail
cd "$(dirname "$0")"
BENCH="$PWD"
ROOT="$(cd .. && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$BENCH/target-large}"
NS=("$@")
[ ${#NS[@]} -eq 0 ] && NS=(20000 50000)
CARGO="${CARGO:-cargo}"

seed_file() { # n path
  awk -v n="$1" 'BEGIN {
    print "CREATE TABLE seed (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT NOT NULL);";
    for (i = 1; i <= n; i++)
      printf "INSERT INTO seed (id, name, note) VALUES (%d, '"'"'name %d'"'"', '"'"'a seed row as seed files hold them; %08d'"'"');\n", i, i, i;
  }' > "$2"
}

write_app() { # tool n dir
  local tool=$1 n=$2 dir=$3
  mkdir -p "$dir/src" "$dir/migrations"
  # The main workspace's versions, so that its builds can be shared.
  [ -f "$dir/Cargo.lock" ] || cp "$ROOT/Cargo.lock" "$dir/Cargo.lock"
  [ -f "$dir/migrations/001_seed.up.sql" ] && [ "$(grep -c '^INSERT' "$dir/migrations/001_seed.up.sql")" = "$n" ] \
    || seed_file "$n" "$dir/migrations/001_seed.up.sql"
  echo "DROP TABLE seed;" > "$dir/migrations/001_seed.down.sql"
  if [ "$tool" = ours ]; then
    cat > "$dir/Cargo.toml" <<EOF
[package]
name = "large_${tool}_$n"
version = "0.0.0"
edition = "2021"
publish = false
[workspace]
[dependencies]
embedded-migrations = { path = "$ROOT/runtime", default-features = false, features = ["sqlx-0-9", "sqlite"] }
sqlx = { version = "0.9", default-features = false, features = ["runtime-tokio", "sqlite"] }
tokio = { version = "1", features = ["rt-multi-thread", "macros"] }
EOF
    cat > "$dir/src/main.rs" <<'EOF'
use embedded_migrations::core::split::{split, Dialect};
use std::time::Instant;

static MIGRATIONS: embedded_migrations::Migrations = embedded_migrations::embed_migrations!("migrations");

#[tokio::main]
async fn main() {
    let text = MIGRATIONS.migrations()[0].up.text;
    let started = Instant::now();
    let statements = split(text, Dialect::Sqlite).len();
    let split_s = started.elapsed().as_secs_f64();
    let path = std::env::temp_dir().join(format!("large-ours-{}.db", std::process::id()));
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path).create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.expect("open SQLite");
    let started = Instant::now();
    MIGRATIONS.run(&pool).await.expect("run");
    let run_s = started.elapsed().as_secs_f64();
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM seed").fetch_one(&pool).await.expect("count");
    pool.close().await;
    let _ = std::fs::remove_file(&path);
    println!("statements={statements} rows={rows} split_s={split_s:.4} run_s={run_s:.3}");
}
EOF
  else
    cat > "$dir/Cargo.toml" <<EOF
[package]
name = "large_${tool}_$n"
version = "0.0.0"
edition = "2021"
publish = false
[workspace]
[dependencies]
sqlx = { version = "0.9", default-features = false, features = ["runtime-tokio", "sqlite", "migrate", "macros"] }
tokio = { version = "1", features = ["rt-multi-thread", "macros"] }
EOF
    cat > "$dir/src/main.rs" <<'EOF'
use std::time::Instant;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[tokio::main]
async fn main() {
    let path = std::env::temp_dir().join(format!("large-sqlx-{}.db", std::process::id()));
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path).create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.expect("open SQLite");
    let started = Instant::now();
    MIGRATOR.run(&pool).await.expect("run");
    let run_s = started.elapsed().as_secs_f64();
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM seed").fetch_one(&pool).await.expect("count");
    pool.close().await;
    let _ = std::fs::remove_file(&path);
    println!("statements=- rows={rows} split_s=- run_s={run_s:.3}");
}
EOF
  fi
}

printf '%-5s %7s %9s %10s %9s %9s\n' tool N "size" "build(s)" "split(s)" "run(s)"
for n in "${NS[@]}"; do
  for tool in ours sqlx; do
    dir="$BENCH/generated/large/${tool}_$n"
    write_app "$tool" "$n" "$dir"
    "$CARGO" build --quiet --manifest-path "$dir/Cargo.toml" # dependencies, untimed
    touch "$dir/src/main.rs"
    start=$(date +%s.%N)
    "$CARGO" build --quiet --manifest-path "$dir/Cargo.toml"
    build=$(echo "$(date +%s.%N) - $start" | bc)
    out=$("$CARGO_TARGET_DIR/debug/large_${tool}_$n")
    size=$(du -h "$dir/migrations/001_seed.up.sql" | cut -f1)
    rows=$(echo "$out" | sed -n 's/.*rows=\([0-9]*\).*/\1/p')
    [ "$rows" = "$n" ] || { echo "large_${tool}_$n: expected $n rows, got: $out" >&2; exit 1; }
    split=$(echo "$out" | sed -n 's/.*split_s=\([^ ]*\).*/\1/p')
    run=$(echo "$out" | sed -n 's/.*run_s=\([^ ]*\).*/\1/p')
    printf '%-5s %7s %9s %10.1f %9s %9s\n' "$tool" "$n" "$size" "$build" "$split" "$run"
  done
done
