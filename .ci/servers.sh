#!/usr/bin/env bash
# Installs (Debian's packages, Maven Central, PyPI, npm) and starts every server the
# tests need, on a fresh machine or again on the same one: what is installed is
# reused, what runs is left running.
#   PostgreSQL  127.0.0.1:5432  user postgres, trust auth
#   MariaDB     127.0.0.1:3306  user root, empty password, database `test`
#   Neo4j 5.26  127.0.0.1:7687  Bolt, auth off (.ci/neo4j.sh start lts)
#   Neo4j 2026.08.1  127.0.0.1:7688  the newest calendar release, on Java 25
#                    (.ci/neo4j.sh start latest)
#   boltstub    .venv-bolt      for the Neo4j contract tests (.ci/boltkit.sh)
#   PgBouncer   127.0.0.1:6432  in front of that PostgreSQL, pool_mode = transaction, any database
#   TimescaleDB 127.0.0.1:5433  PGlite with TimescaleDB 2.23, one connection at a time (.ci/timescaledb.sh)
#   ChromaDB    127.0.0.1:8011  chroma run 1.5.9 from PyPI, in .venv-chroma (.ci/chroma.sh)
# Prints how long each step took.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { echo "== $1"; step_start=$SECONDS; }
took() { echo "   ($1 took $((SECONDS - step_start)) s)"; }

# How long to wait for a server to answer before giving up, in seconds.
WAIT=90

wait_for() { # description, command...
  local what=$1; shift
  for _ in $(seq "$WAIT"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  echo "!! $what did not answer within $WAIT s" >&2
  return 1
}

step "packages: postgresql, mariadb-server"
# Their clients come with them: pg_dump and mariadb-dump, which the backup
# before down and the squash tests run (tests/cli.rs, tests/squash.rs).
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || ! command -v mariadbd >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The packages' scripts try to start the servers through invoke-rc.d, which
  # this machine refuses (no init system); we start them below.
  apt-get install -y -qq postgresql mariadb-server >/dev/null
fi
took "packages"

step "PostgreSQL"
pg_version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
pg_etc=/etc/postgresql/$pg_version/main
if [ ! -d "$pg_etc" ]; then pg_createcluster "$pg_version" main; fi
pg_conf=$(mktemp)
cat >"$pg_conf" <<CONF
# embedded-migrations CI: a throwaway server, speed over durability.
listen_addresses = '127.0.0.1'
port = 5432
max_connections = 500
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
pg_hba=$(mktemp)
cat >"$pg_hba" <<CONF
local all all trust
host  all all 127.0.0.1/32 trust
host  all all ::1/128 trust
CONF
changed=0
cmp -s "$pg_conf" "$pg_etc/conf.d/embedded-migrations-ci.conf" || { install -m 644 "$pg_conf" "$pg_etc/conf.d/embedded-migrations-ci.conf"; changed=1; }
cmp -s "$pg_hba" "$pg_etc/pg_hba.conf" || { install -m 640 -o postgres -g postgres "$pg_hba" "$pg_etc/pg_hba.conf"; changed=1; }
rm -f "$pg_conf" "$pg_hba"
if pg_ctlcluster "$pg_version" main status >/dev/null 2>&1; then
  if [ "$changed" = 1 ]; then pg_ctlcluster "$pg_version" main restart; fi
else
  pg_ctlcluster "$pg_version" main start
fi
wait_for "PostgreSQL" pg_isready -q -h 127.0.0.1 -p 5432
psql -h 127.0.0.1 -U postgres -Atc 'SELECT version()'
took "PostgreSQL"

step "PgBouncer (transaction mode, in front of PostgreSQL)"
# Debian's package; its own service stays off (no init system here), this one
# runs as postgres from a config of its own. `* =` forwards every database, so a
# database a test creates is reachable through it at once.
if ! command -v pgbouncer >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
fi
bouncer_dir=/etc/pgbouncer/embedded-migrations-ci
install -d -o postgres -g postgres "$bouncer_dir"
bouncer_ini=$(mktemp)
cat >"$bouncer_ini" <<CONF
; embedded-migrations CI: transaction pooling, what breaks session advisory locks.
[databases]
* = host=127.0.0.1 port=5432
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = 6432
unix_socket_dir =
auth_type = trust
auth_file = $bouncer_dir/userlist.txt
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 20
; sqlx sends these at startup; PgBouncer refuses what it does not know.
ignore_startup_parameters = extra_float_digits,options
logfile = /var/log/postgresql/pgbouncer-ci.log
pidfile = $bouncer_dir/pgbouncer.pid
admin_users = postgres
CONF
echo '"postgres" ""' >"$bouncer_dir/userlist.txt"
bouncer_changed=0
cmp -s "$bouncer_ini" "$bouncer_dir/pgbouncer.ini" || { install -m 644 -o postgres "$bouncer_ini" "$bouncer_dir/pgbouncer.ini"; bouncer_changed=1; }
rm -f "$bouncer_ini"
if [ -s "$bouncer_dir/pgbouncer.pid" ] && kill -0 "$(cat "$bouncer_dir/pgbouncer.pid")" 2>/dev/null; then
  if [ "$bouncer_changed" = 1 ]; then kill -HUP "$(cat "$bouncer_dir/pgbouncer.pid")"; fi
else
  install -m 640 -o postgres -g adm /dev/null /var/log/postgresql/pgbouncer-ci.log 2>/dev/null || true
  su postgres -s /bin/sh -c "pgbouncer -d $bouncer_dir/pgbouncer.ini"
fi
wait_for "PgBouncer" pg_isready -q -h 127.0.0.1 -p 6432
psql -h 127.0.0.1 -p 6432 -U postgres -Atc "SELECT 'through PgBouncer ' || current_setting('server_version')" postgres
took "PgBouncer"

step "MariaDB"
cat >/etc/mysql/mariadb.conf.d/99-embedded-migrations-ci.cnf <<CONF
# embedded-migrations CI: a throwaway server, speed over durability.
[mysqld]
bind-address = 127.0.0.1
port = 3306
max_connections = 1000
innodb_flush_log_at_trx_commit = 2
sync_binlog = 0
CONF
if [ ! -d /var/lib/mysql/mysql ]; then
  mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
fi
if ! mariadb-admin -uroot --protocol=socket ping >/dev/null 2>&1; then
  install -d -o mysql -g mysql /run/mysqld
  setsid nohup mariadbd --user=mysql >/var/log/mariadbd-ci.log 2>&1 </dev/null &
fi
wait_for "MariaDB" mariadb-admin -uroot --protocol=socket ping
# root over TCP with an empty password (the package's root logs in by socket only).
mariadb -uroot --protocol=socket <<'SQL'
ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket;
CREATE USER IF NOT EXISTS root@'127.0.0.1' IDENTIFIED BY '';
GRANT ALL PRIVILEGES ON *.* TO root@'127.0.0.1' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS test;
SQL
mariadb -uroot -h127.0.0.1 --protocol=tcp -Nse 'SELECT version()'
took "MariaDB"

step "Neo4j 5.26 LTS"
bash .ci/neo4j.sh start lts
took "Neo4j 5.26 LTS"

step "Neo4j, the newest calendar release"
bash .ci/neo4j.sh start latest
took "Neo4j, the newest calendar release"

step "Bolt stub"
bash .ci/boltkit.sh
took "Bolt stub"

step "TimescaleDB (PGlite from npm)"
bash .ci/timescaledb.sh start
took "TimescaleDB"

step "ChromaDB (chromadb from PyPI)"
bash .ci/chroma.sh start
took "ChromaDB"
