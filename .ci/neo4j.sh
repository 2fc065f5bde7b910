#!/usr/bin/env bash
# Real Neo4j community servers for the tests, from Maven Central:
#   bash .ci/neo4j.sh start [lts|latest]   resolve the jars (once), compile the
#                             launcher, start the server on 127.0.0.1:$NEO4J_PORT
#                             unless one answers there already, wait until it is ready
#   bash .ci/neo4j.sh stop [lts|latest]    stop the server this script started, delete its data
# The servers (both can run at once, each with its jars, pid and data apart):
#   lts      Neo4j 5.26.30    on 7687, Java 17 (or 21)
#   latest   Neo4j 2026.08.1  on 7688, Java 25 (calendar releases need 21+;
#            Java 25 is supported from 2025.10): the Temurin 25 JDK
# NEO4J_PORT overrides the port. Auth is off: any user and password are accepted.
set -euo pipefail
cd "$(dirname "$0")/neo4j"

action=${1:-start}
server=${2:-lts}
case "$server" in
  lts) version=5.26.30; default_port=7687; jdks="/usr/lib/jvm/java-17-openjdk-* /usr/lib/jvm/java-21-openjdk-*" ;;
  latest) version=2026.08.1; default_port=7688; jdks="/usr/lib/jvm/temurin-25-jdk-* /usr/lib/jvm/java-25-openjdk-*" ;;
  *) echo "usage: $0 start|stop [lts|latest]" >&2; exit 2 ;;
esac
port=${NEO4J_PORT:-$default_port}
work=target/$version
mkdir -p "$work"

java_bin=
for jdk in $jdks; do
  if [ -x "$jdk/bin/java" ]; then java_bin=$jdk/bin/java; break; fi
done
if [ -z "$java_bin" ]; then
  if [ "$server" = latest ]; then
    echo "!! Neo4j $version needs Java 21 or newer: no $jdks on this machine" >&2
    exit 1
  fi
  java_bin=java
fi
javac_bin=$(dirname "$(readlink -f "$(command -v "$java_bin")")")/javac
[ -x "$javac_bin" ] || javac_bin=javac

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

start() {
  if listening; then
    echo "something answers on 127.0.0.1:$port already; reusing it"
    return 0
  fi
  # The classpath is recomputed only when the pom or this script changes
  # (offline then too when every jar is already in the local repository).
  if [ ! -s "$work/cp.txt" ] || [ pom.xml -nt "$work/cp.txt" ] || [ ../neo4j.sh -nt "$work/cp.txt" ]; then
    mvn -B -q -Dstyle.color=never -Dneo4j.version="$version" \
      dependency:build-classpath -Dmdep.outputFile="$work/cp.txt"
  fi
  if [ ! -f "$work/classes/Launcher.class" ] || [ Launcher.java -nt "$work/classes/Launcher.class" ]; then
    "$javac_bin" -cp "$(cat "$work/cp.txt")" -d "$work/classes" Launcher.java
  fi
  home=$(mktemp -d /tmp/em-neo4j.XXXXXX)
  echo "$home" >"$work/home"
  # --add-opens: what Neo4j's own launch scripts pass on Java 17 (without
  # java.nio it fails to link DirectByteBuffer).
  setsid nohup "$java_bin" -Xmx1g -XX:+UseSerialGC \
    --add-opens=java.base/java.nio=ALL-UNNAMED \
    --add-opens=java.base/java.io=ALL-UNNAMED \
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
    -cp "$work/classes:$(cat "$work/cp.txt")" Launcher "$port" "$home/data" \
    >"$work/server.log" 2>&1 </dev/null &
  echo $! >"$work/pid"
  for _ in $(seq 120); do
    if grep -qs "neo4j ready" "$work/server.log"; then
      echo "Neo4j $version ready on 127.0.0.1:$port (pid $(cat "$work/pid"), $("$java_bin" -version 2>&1 | head -n 1), data in $home)"
      return 0
    fi
    if ! kill -0 "$(cat "$work/pid")" 2>/dev/null; then break; fi
    sleep 1
  done
  echo "!! Neo4j $version did not start within 120 s; its log:" >&2
  tail -n 50 "$work/server.log" >&2
  return 1
}

stop() {
  if [ -f "$work/pid" ]; then
    kill "$(cat "$work/pid")" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$(cat "$work/pid")" 2>/dev/null || break; sleep 1; done
    rm -f "$work/pid"
  fi
  if [ -f "$work/home" ]; then rm -rf "$(cat "$work/home")" "$work/home"; fi
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop [lts|latest]" >&2; exit 2 ;;
esac
