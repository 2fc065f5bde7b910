#!/bin/bash
# Rebuild time of an app embedding 500 migrations after one file is edited:
# main's macro, this branch's without lint, and with lint = "warn", interleaved.
# Run from a scratch crate (Cargo.toml with an embedded-migrations path
# dependency, src/main.rs calling embed_migrations!, migrations/ of 500 pairs:
# the first 500 of bench/lint/corpus.py's sqlite folder): bash rebuild.sh 8
MAIN=${MAIN:?the base commit's checkout}
BRANCH=${BRANCH:?this branch's checkout}
f=migrations/$(ls migrations | grep up.sql | sed -n 250p)
set_variant() {
  case $1 in
    main) sed -i 's#path = "[^"]*"#path = "'"$MAIN"'/runtime"#' Cargo.toml; sed -i 's/embed_migrations!(.*);/embed_migrations!("migrations");/' src/main.rs;;
    branch) sed -i 's#path = "[^"]*"#path = "'"$BRANCH"'/runtime"#' Cargo.toml; sed -i 's/embed_migrations!(.*);/embed_migrations!("migrations");/' src/main.rs;;
    warn) sed -i 's#path = "[^"]*"#path = "'"$BRANCH"'/runtime"#' Cargo.toml; sed -i 's/embed_migrations!(.*);/embed_migrations!("migrations", database = sqlite, lint = "warn");/' src/main.rs;;
  esac
  cargo build -q 2>/dev/null
}
for i in $(seq 1 $1); do
  for v in main branch warn; do
    set_variant $v
    echo "-- edit $i $v $RANDOM" >> $f
    s=$(date +%s.%N); cargo build -q 2>/dev/null; e=$(date +%s.%N)
    echo "$v $(echo "$e - $s" | bc)"
  done
done
