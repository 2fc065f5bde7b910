"""The Neo4j bench: the corpus (corpus.py) applied to a real server over the
same seeded graph by three runners, in one run, in alternating order:

  ours     embed_migrations! + MIGRATIONS.run (ours/, a release build)
  nm       neo4j-migrations 2.19.2, per statement (nm/NmRunner.java)
  driver   the official Python driver sending the statements one by one in
           auto-commit transactions: the floor, no bookkeeping at all

Before every run the graph is wiped (nodes, constraints, indexes) and seeded
again (seed()). Each runner is its own process and reports its apply time
(the apply call alone); the process wall time is measured here. With
--trips, one more run of each goes through a counting proxy: round trips
are the times the client sent after having heard from the server.

    python3 run.py --uri 127.0.0.1:7687 --rounds 5 --ours PATH --nm-cp CP
(bench/neo4j/run.sh builds what this needs and calls it.)"""

import argparse
import logging
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

from neo4j import GraphDatabase

HERE = os.path.dirname(os.path.abspath(__file__))
# The server's notifications (deprecations in the seed) are not results.
logging.getLogger("neo4j").setLevel(logging.ERROR)


def statements():
    """The corpus's up statements in order, as ours sends them."""
    folder = os.path.join(HERE, "corpus", "ours")
    out = []
    for name in sorted(f for f in os.listdir(folder) if f.endswith(".up.cypher")):
        with open(os.path.join(folder, name)) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("//"):
                    out.append(line.rstrip(";"))
    return out


def seed(uri):
    with GraphDatabase.driver(f"bolt://{uri}", auth=("neo4j", "unused")) as driver:
        with driver.session() as s:
            s.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
            for (name,) in s.run("SHOW CONSTRAINTS YIELD name RETURN name").values():
                s.run(f"DROP CONSTRAINT `{name}` IF EXISTS").consume()
            for (name,) in s.run("SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name").values():
                s.run(f"DROP INDEX `{name}` IF EXISTS").consume()
            s.run(
                "UNWIND range(1, 2000) AS i CREATE (:Person {id: i, name: 'Person ' + i, "
                "email: 'p' + i + '@example.org', born: 1950 + i % 60, bio: 'Bio of person ' + i, "
                "country: CASE WHEN i % 2 = 0 THEN 'NL' ELSE null END})"
            ).consume()
            s.run(
                "UNWIND range(1, 300) AS i CREATE (:Company {id: i, name: 'Company ' + i, "
                "domain: 'c' + i + '.example', founded: 1900 + i % 120})"
            ).consume()
            s.run(
                "UNWIND range(1, 500) AS i CREATE (:Movie {id: i, title: 'Movie ' + i, "
                "released: 1970 + i % 50, rating: i % 10})"
            ).consume()
            s.run("UNWIND range(1, 1000) AS i CREATE (:Account {id: i, login: 'user' + i, created_at: i})").consume()
            s.run(
                "MATCH (p:Person) WITH p, p.id % 300 + 1 AS c MATCH (k:Company {id: c}) "
                "CREATE (p)-[:WORKS_AT {since: 2000 + p.id % 20}]->(k)"
            ).consume()
            s.run(
                "MATCH (p:Person) WHERE p.id <= 1500 WITH p, p.id % 500 + 1 AS m MATCH (v:Movie {id: m}) "
                "CREATE (p)-[:ACTED_IN {role: 'Role ' + p.id}]->(v)"
            ).consume()


def loop(uri):
    """The driver runner: each statement in its own auto-commit transaction."""
    todo = statements()
    with GraphDatabase.driver(f"bolt://{uri}", auth=("neo4j", "unused")) as driver:
        driver.verify_connectivity()
        started = time.perf_counter()
        with driver.session() as s:
            for statement in todo:
                s.run(statement).consume()
        print(f"apply_ms={(time.perf_counter() - started) * 1000:.1f}")


class Proxy:
    """Forwards one port to the server, counting round trips: each time a
    client sends after the server last sent to it."""

    def __init__(self, target):
        host, port = target.split(":")
        self.target = (host, int(port))
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.trips = 0
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.listener.accept()
            server = socket.create_connection(self.target)
            state = {"heard": True}
            threading.Thread(target=self.pipe, args=(client, server, state, True), daemon=True).start()
            threading.Thread(target=self.pipe, args=(server, client, state, False), daemon=True).start()

    def pipe(self, src, dst, state, from_client):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with self.lock:
                    if from_client and state["heard"]:
                        self.trips += 1
                        state["heard"] = False
                    elif not from_client:
                        state["heard"] = True
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def command(runner, args, uri):
    if runner == "ours":
        return [args.ours, uri]
    if runner == "ours-before":
        return [args.ours_before, uri]
    if runner == "nm":
        return ["java", "-cp", args.nm_cp, "NmRunner", os.path.join(HERE, "corpus", "nm"), f"bolt://{uri}"]
    return [sys.executable, os.path.abspath(__file__), "--loop", uri]


def run_once(runner, args, uri):
    seed(args.uri)
    started = time.perf_counter()
    out = subprocess.run(command(runner, args, uri), capture_output=True, text=True)
    wall = (time.perf_counter() - started) * 1000
    if out.returncode != 0:
        sys.exit(f"{runner} failed:\n{out.stdout}\n{out.stderr}")
    apply = float(out.stdout.split("apply_ms=")[1].split()[0])
    return apply, wall


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--uri", default="127.0.0.1:7687")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--runners", default="ours,nm,driver")
    p.add_argument("--ours")
    p.add_argument("--nm-cp")
    # Another build of ours (an earlier commit's), run beside the others as
    # `ours-before`: before and after a change, in the same run.
    p.add_argument("--ours-before")
    p.add_argument("--trips", action="store_true")
    p.add_argument("--loop")
    args = p.parse_args()
    if args.loop:
        return loop(args.loop)
    runners = args.runners.split(",")
    if args.ours_before:
        runners.insert(1, "ours-before")
    results = {r: [] for r in runners}
    for round_ in range(args.rounds):
        order = runners[round_ % len(runners):] + runners[: round_ % len(runners)]
        for runner in order:
            apply, wall = run_once(runner, args, args.uri)
            results[runner].append((apply, wall))
            print(f"round {round_ + 1} {runner}: apply {apply:.0f} ms, process {wall:.0f} ms", file=sys.stderr)
    trips = {}
    if args.trips:
        proxy = Proxy(args.uri)
        for runner in runners:
            before = proxy.trips
            run_once(runner, args, f"127.0.0.1:{proxy.port}")
            trips[runner] = proxy.trips - before
    print(f"| runner | apply (median of {args.rounds}) | process wall (median) | round trips |")
    print("| --- | --- | --- | --- |")
    for runner in runners:
        applies = [a for a, _ in results[runner]]
        walls = [w for _, w in results[runner]]
        print(
            f"| {runner} | {statistics.median(applies):.0f} ms ({min(applies):.0f}-{max(applies):.0f}) "
            f"| {statistics.median(walls):.0f} ms | {trips.get(runner, '-')} |"
        )


if __name__ == "__main__":
    main()
