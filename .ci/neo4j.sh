#!/usr/bin/env bash
# A real Neo4j 5.26 community server for the tests, from Maven Central:
#   bash .ci/neo4j.sh start   resolve the jars (once), compile the launcher, start
#                             the server on 127.0.0.1:$NEO4J_PORT (7687) unless
#                             one answers there already, wait until it is ready
#   bash .ci/neo4j.sh stop    stop the server this script started, delete its data
# Auth is off: any user and password are accepted.
set -euo pipefail
cd "$(dirname "$0")/neo4j"

port=${NEO4J_PORT:-7687}
work=target
mkdir -p "$work"

# Neo4j 5.26 runs on Java 17 or 21; prefer Debian's 17 over any newer JDK.
java_bin=java
for jdk in /usr/lib/jvm/java-17-openjdk-*/bin/java /usr/lib/jvm/java-21-openjdk-*/bin/java; do
  if [ -x "$jdk" ]; then java_bin=$jdk; break; fi
done
javac_bin=$(dirname "$(readlink -f "$(command -v "$java_bin")")")/javac
[ -x "$javac_bin" ] || javac_bin=javac

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

start() {
  if listening; then
    echo "something answers on 127.0.0.1:$port already; reusing it"
    return 0
  fi
  # The classpath is recomputed only when the pom changes (offline then too
  # when every jar is already in the local repository).
  if [ ! -s "$work/cp.txt" ] || [ pom.xml -nt "$work/cp.txt" ]; then
    mvn -B -q -Dstyle.color=never dependency:build-classpath -Dmdep.outputFile="$work/cp.txt"
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
    if grep -q "neo4j ready" "$work/server.log"; then
      echo "Neo4j $(version) ready on 127.0.0.1:$port (pid $(cat "$work/pid"), data in $home)"
      return 0
    fi
    if ! kill -0 "$(cat "$work/pid")" 2>/dev/null; then break; fi
    sleep 1
  done
  echo "!! Neo4j did not start within 120 s; its log:" >&2
  tail -n 50 "$work/server.log" >&2
  return 1
}

version() { sed -n 's:.*<version>\(5[^<]*\)</version>.*:\1:p' pom.xml | head -n 1; }

stop() {
  if [ -f "$work/pid" ]; then
    kill "$(cat "$work/pid")" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$(cat "$work/pid")" 2>/dev/null || break; sleep 1; done
    rm -f "$work/pid"
  fi
  if [ -f "$work/home" ]; then rm -rf "$(cat "$work/home")" "$work/home"; fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
