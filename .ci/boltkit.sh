#!/usr/bin/env bash
# Installs Neo4j's Bolt stub server (boltkit) into .venv-bolt for the Neo4j
# contract tests (tests/neo4j_contract.rs). Safe to run again: it does nothing
# when the pinned version is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

version=1.3.2
venv=.venv-bolt

if [ -x "$venv/bin/boltstub" ] \
  && [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("boltkit"))' 2>/dev/null)" = "$version" ]; then
  echo "boltkit $version already installed in $venv"
  exit 0
fi

python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "boltkit==$version"
test -x "$venv/bin/boltstub"
echo "boltkit $version installed: $venv/bin/boltstub"
