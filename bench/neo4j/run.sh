#!/usr/bin/env bash
# The Neo4j bench in one command:  bash bench/neo4j/run.sh [--uri HOST:PORT] [--rounds N] [--trips]
# Where the time goes, per kind of request:  bash bench/neo4j/run.sh --profile [--uri HOST:PORT]
# Builds the three runners (ours, release; neo4j-migrations 2.19.2; the official
# Python driver in .venv) and runs run.py: the same corpus (corpus/, written by
# corpus.py) over the same seeded graph, wiped before every run, on a real server
# (bash .ci/neo4j.sh start [lts|latest]). The server is wiped: use a throwaway one.
set -euo pipefail
cd "$(dirname "$0")"
target=${CARGO_TARGET_DIR:-$PWD/../target}

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q neo4j
fi

# neo4j-migrations' parent POM is not on Maven Central: its jar alone, and the
# driver and classgraph it needs from nm/pom.xml.
mvn -B -q -Dstyle.color=never dependency:get -Dtransitive=false \
  -Dartifact=eu.michael-simons.neo4j:neo4j-migrations:2.19.2
nm_jar=$HOME/.m2/repository/eu/michael-simons/neo4j/neo4j-migrations/2.19.2/neo4j-migrations-2.19.2.jar
(cd nm && mvn -B -q -Dstyle.color=never dependency:build-classpath -Dmdep.outputFile=target/cp.txt)
nm_cp="$nm_jar:$(cat nm/target/cp.txt)"
javac -cp "$nm_cp" -d nm/target/classes nm/NmRunner.java

# The main workspace's versions, so the runtime builds as it does there.
cp ../../Cargo.lock ours/Cargo.lock
(cd ours && CARGO_TARGET_DIR="$target" cargo build --release --quiet)

if [ "${1:-}" = --profile ]; then
  shift
  for runner in ours nm driver; do
    .venv/bin/python profile.py --runner "$runner" --ours "$target/release/neo4j-bench-ours" \
      --nm-cp "nm/target/classes:$nm_cp" "$@"
  done
  exit 0
fi

exec .venv/bin/python run.py --ours "$target/release/neo4j-bench-ours" \
  --nm-cp "nm/target/classes:$nm_cp" "$@"
