"""Where a runner's apply time goes, from the wire: one run of a runner
through a proxy that reads the Bolt messages it forwards and times each
round trip, from the client's request to the server's first answer
(server time, network included) and from that answer to the client's next
request (client time). Round trips are grouped by what the request was:

  schema     a RUN of a schema command (CREATE/DROP CONSTRAINT/INDEX)
  books      a RUN of our bookkeeping statement (the guard and tracking writes)
  data       any other RUN (the corpus's backfills, our other tracking reads)
  begin, commit, rollback, reset, discard, pull, hello, other

    .venv/bin/python profile.py --uri 127.0.0.1:7687 --runner ours --ours PATH
(bench/neo4j/run.sh --profile builds what this needs and calls it for ours,
neo4j-migrations and the driver loop; the graph is wiped and seeded first,
as in run.py.) A client that pipelines (the Python driver sends RUN and
PULL at once) gets its answers in more than one piece: the time until the
last piece counts as client time here, so compare its server and client
columns together."""

import argparse
import socket
import sys
import threading
import time

import run as bench

TAGS = {0x01: "hello", 0x02: "goodbye", 0x0F: "reset", 0x10: "run", 0x11: "begin", 0x12: "commit",
        0x13: "rollback", 0x2F: "discard", 0x3F: "pull", 0x6A: "logon"}
SCHEMA = ("CREATE CONSTRAINT", "CREATE INDEX", "CREATE TEXT INDEX", "CREATE RANGE INDEX", "CREATE POINT INDEX",
          "CREATE FULLTEXT INDEX", "CREATE LOOKUP INDEX", "CREATE VECTOR INDEX", "DROP CONSTRAINT", "DROP INDEX")


def kind(data):
    """The kind of the first Bolt message in a client's burst of bytes."""
    if len(data) < 4:
        return "other"
    marker, tag = data[2], data[3]
    if marker & 0xF0 != 0xB0:
        return "other"
    name = TAGS.get(tag, "other")
    if name != "run":
        return name
    m = data[4]
    if 0x80 <= m <= 0x8F:
        text = data[5:5 + (m & 0x0F)]
    elif m == 0xD0:
        text = data[6:6 + data[5]]
    elif m == 0xD1:
        text = data[7:7 + int.from_bytes(data[5:7], "big")]
    else:
        text = data[7:200]
    text = text.decode("utf-8", "replace").lstrip().upper()
    if text.startswith("MATCH (L:`__EMBEDDEDMIGRATIONLOCK` {ID: 1}) SET L.GUARD"):
        return "books"
    if text.startswith(SCHEMA):
        return "schema"
    return "data"


class Profiler(bench.Proxy):
    def __init__(self, target):
        self.events = []  # (kind, server_ms, client_ms)
        super().__init__(target)

    def accept(self):
        while True:
            client, _ = self.listener.accept()
            server = socket.create_connection(self.target)
            state = {"heard": True, "sent_at": None, "kind": None, "answered_at": None}
            threading.Thread(target=self.pipe, args=(client, server, state, True), daemon=True).start()
            threading.Thread(target=self.pipe, args=(server, client, state, False), daemon=True).start()

    def pipe(self, src, dst, state, from_client):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                now = time.perf_counter()
                with self.lock:
                    if from_client and state["heard"]:
                        if state["answered_at"] is not None and self.events:
                            # The client's time before this request belongs to the previous trip.
                            k, server_ms, _ = self.events[-1]
                            self.events[-1] = (k, server_ms, (now - state["answered_at"]) * 1000)
                        state.update(heard=False, sent_at=now, kind=kind(data))
                    elif not from_client and not state["heard"]:
                        state["heard"] = True
                        state["answered_at"] = now
                        self.events.append((state["kind"], (now - state["sent_at"]) * 1000, 0.0))
                dst.sendall(data)
        except OSError:
            pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--uri", default="127.0.0.1:7687")
    p.add_argument("--runner", default="ours")
    p.add_argument("--ours")
    p.add_argument("--nm-cp")
    p.add_argument("--ours-before")
    args = p.parse_args()
    profiler = Profiler(args.uri)
    apply, wall = bench.run_once(args.runner, args, f"127.0.0.1:{profiler.port}")
    time.sleep(0.2)
    groups = {}
    for k, server_ms, client_ms in profiler.events:
        g = groups.setdefault(k, [0, 0.0, 0.0])
        g[0] += 1
        g[1] += server_ms
        g[2] += client_ms
    print(f"{args.runner}: apply {apply:.0f} ms, process {wall:.0f} ms, {len(profiler.events)} round trips")
    print("| request | trips | server ms | client ms after |")
    print("| --- | --- | --- | --- |")
    for k, (n, s, c) in sorted(groups.items(), key=lambda kv: -kv[1][1]):
        print(f"| {k} | {n} | {s:.0f} | {c:.0f} |")
    total_s = sum(g[1] for g in groups.values())
    total_c = sum(g[2] for g in groups.values())
    print(f"| all | {len(profiler.events)} | {total_s:.0f} | {total_c:.0f} |")


if __name__ == "__main__":
    sys.exit(main())
