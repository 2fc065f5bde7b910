"""Cold and warm planning of the bookkeeping statement and of variants of it
(query options, other shapes, pieces of it): each is run in a transaction
rolled back right after a schema change (a new index, awaited), then again
warm, in rounds alternating the variants; the medians are printed. With
SERVER=1 the time is the server's own (`result_available_after`, planning
and the first row), else the client's wall time around the transaction.

    SERVER=1 .venv/bin/python plan_variants.py HOST:PORT [variant,variant,...] [rounds]
(a throwaway server: it wipes the graph). BENCHMARKS.md reports its results.
"""
import logging, statistics, sys, time
from neo4j import GraphDatabase
logging.getLogger("neo4j").setLevel(logging.ERROR)
L='`__EmbeddedMigrationLock`'; S='`__EmbeddedMigrationState`'; M='`__EmbeddedMigration`'; H='`__EmbeddedMigrationHistory`'
BOOKS = f"MATCH (l:{L} {{id: 1}}) SET l.guard = $owner WITH l MATCH (s:{S} {{id: 1}}) WITH l, s, l.owner = $owner AS ours, s.applied_count = $expected.applied_count AND s.last_version = $expected.last_version AND s.chain = $expected.chain AND s.dirty = $expected.dirty AS current SET l.expires_at = CASE WHEN ours THEN datetime() + duration({{milliseconds: $lease_ms}}) ELSE l.expires_at END REMOVE l.guard WITH s, ours, current, CASE WHEN ours AND current THEN [1] ELSE [] END AS go OPTIONAL MATCH (m:{M} {{version: $version}}) FOREACH (_ IN CASE WHEN $remove THEN go ELSE [] END | DELETE m) FOREACH (_ IN CASE WHEN $put THEN go ELSE [] END | MERGE (n:{M} {{version: $version}}) SET n += $node) FOREACH (_ IN go | SET s += $after) FOREACH (_ IN CASE WHEN $history THEN go ELSE [] END | SET s.history_seq = s.history_seq + 1 CREATE (h:{H}) SET h = $entry, h.seq = s.history_seq) RETURN ours, current"
G = BOOKS[:BOOKS.index(' WITH s, ours, current, CASE')]
W = (f"MATCH (l:{L} {{id: 1}}) SET l.guard = $owner WITH l MATCH (s:{S} {{id: 1}}) "
     "WITH l, s, l.owner = $owner AS ours, s.applied_count = $expected.applied_count AND s.last_version = $expected.last_version "
     "AND s.chain = $expected.chain AND s.dirty = $expected.dirty AS current "
     "SET l.expires_at = CASE WHEN ours THEN datetime() + duration({milliseconds: $lease_ms}) ELSE l.expires_at END REMOVE l.guard "
     "WITH s, ours, current "
     "CALL (s, ours, current) { WITH s WHERE ours AND current AND $history SET s.history_seq = s.history_seq + 1 "
     f"CREATE (h:{H}) SET h = $entry, h.seq = s.history_seq }} "
     "CALL (s, ours, current) { WITH s WHERE ours AND current SET s += $after "
     f"WITH s OPTIONAL MATCH (m:{M} {{version: $version}}) WHERE $remove DELETE m "
     f"WITH s WHERE $put MERGE (n:{M} {{version: $version}}) SET n += $node }} "
     "RETURN ours, current")
st = {"applied_count": 0, "last_version": 0, "chain": "c", "dirty": False}
P = dict(owner="o", lease_ms=30000, expected=st, version=1, put=True, remove=False,
        node={"name": "n", "checksum": "c", "applied_at": "t", "execution_ms": 1, "dirty": False, "dirty_direction": None},
        after=st, history=True, entry={"version": 1, "name": "n", "direction": "up", "started_at": "t", "duration_ms": 1, "success": True, "error": None, "reason": None})
V = {
 "current": BOOKS,
 "slotted": "CYPHER runtime=slotted " + BOOKS,
 "legacy": "CYPHER runtime=legacy " + BOOKS,
 "interpreted": "CYPHER runtime=interpreted " + BOOKS,
 "exprInterp": "CYPHER expressionEngine=interpreted " + BOOKS,
 "dp": "CYPHER planner=dp " + BOOKS,
 "greedy": "CYPHER connectComponentsPlanner=greedy " + BOOKS,
 "noinfer": "CYPHER inferSchemaParts=off " + BOOKS,
 "W": W,
 "Wlegacy": "CYPHER runtime=legacy " + W,
 "return1": "RETURN 1",
 "flat": G + f" WITH s, ours, current, ours AND current AS go SET s += CASE WHEN go THEN $after ELSE {{}} END, s.history_seq = s.history_seq + CASE WHEN go AND $history THEN 1 ELSE 0 END WITH s, ours, current, go OPTIONAL MATCH (m:{M} {{version: $version}}) FOREACH (_ IN CASE WHEN go AND $remove THEN [1] ELSE [] END | DELETE m) FOREACH (_ IN CASE WHEN go AND $put THEN [1] ELSE [] END | MERGE (n:{M} {{version: $version}}) SET n += $node) FOREACH (_ IN CASE WHEN go AND $history THEN [1] ELSE [] END | CREATE (h:{H}) SET h = $entry, h.seq = s.history_seq) RETURN ours, current",
 "flat2": G + f" WITH s, ours, current, ours AND current AS go SET s += CASE WHEN go THEN $after ELSE {{}} END, s.history_seq = s.history_seq + CASE WHEN go AND $history THEN 1 ELSE 0 END FOREACH (_ IN CASE WHEN go AND $put THEN [1] ELSE [] END | MERGE (n:{M} {{version: $version}}) SET n += $node) FOREACH (_ IN CASE WHEN go AND $history THEN [1] ELSE [] END | CREATE (h:{H}) SET h = $entry, h.seq = s.history_seq) RETURN ours, current",
 "guard": G + " RETURN ours, current",
 "guard+state": G + " WITH s, ours, current, CASE WHEN ours AND current THEN [1] ELSE [] END AS go FOREACH (_ IN go | SET s += $after) RETURN ours, current",
 "guard+merge": G + f" WITH s, ours, current, CASE WHEN ours AND current THEN [1] ELSE [] END AS go FOREACH (_ IN CASE WHEN $put THEN go ELSE [] END | MERGE (n:{M} {{version: $version}}) SET n += $node) RETURN ours, current",
 "guard+hist": G + f" WITH s, ours, current, CASE WHEN ours AND current THEN [1] ELSE [] END AS go FOREACH (_ IN CASE WHEN $history THEN go ELSE [] END | SET s.history_seq = s.history_seq + 1 CREATE (h:{H}) SET h = $entry, h.seq = s.history_seq) RETURN ours, current",
 "guard+del": G + f" WITH s, ours, current, CASE WHEN ours AND current THEN [1] ELSE [] END AS go OPTIONAL MATCH (m:{M} {{version: $version}}) FOREACH (_ IN CASE WHEN $remove THEN go ELSE [] END | DELETE m) RETURN ours, current",
 "matchS": f"MATCH (s:{S} {{id: 1}}) RETURN s.dirty",
}
import os
SERVER = os.environ.get('SERVER') == '1'
only = sys.argv[2].split(",") if len(sys.argv) > 2 else list(V)
d = GraphDatabase.driver(f"bolt://{sys.argv[1]}", auth=("neo4j", "x"))
res = {}
with d.session() as s:
    s.run("MATCH (n) DETACH DELETE n").consume()
    for (name,) in s.run("SHOW CONSTRAINTS YIELD name RETURN name").values(): s.run(f"DROP CONSTRAINT `{name}`").consume()
    for (name,) in s.run("SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name").values(): s.run(f"DROP INDEX `{name}`").consume()
    s.run(f"CREATE CONSTRAINT lk FOR (l:{L}) REQUIRE l.id IS UNIQUE").consume()
    s.run(f"CREATE CONSTRAINT sk FOR (l:{S}) REQUIRE l.id IS UNIQUE").consume()
    s.run(f"CREATE CONSTRAINT mk FOR (l:{M}) REQUIRE l.version IS UNIQUE").consume()
    s.run(f"CREATE (:{L} {{id: 1, owner: 'o'}}), (:{S} {{id: 1, applied_count: 0, last_version: 0, chain: 'c', dirty: false, history_seq: 0}})").consume()
    def txn(q):
        t = time.perf_counter()
        with s.begin_transaction() as tx:
            try:
                summ = tx.run(q, P).consume(); avail = summ.result_available_after
            except Exception as e:
                print("ERR", q[:40], str(e)[:150]); return None
            tx.rollback()
        return avail if SERVER else (time.perf_counter() - t) * 1000
    n = 0
    for i in range(int(sys.argv[3]) if len(sys.argv) > 3 else 7):
        for k in only:
            n += 1
            s.run(f"CREATE INDEX probe_{n} FOR (x:Probe) ON (x.p{n})").consume(); s.run("CALL db.awaitIndexes()").consume(); time.sleep(0.1)
            c = txn(V[k]); w = txn(V[k])
            if c is None: continue
            res.setdefault(k, ([], []))[0].append(c); res[k][1].append(w)
for k, (c, w) in res.items():
    print(f"{k:12} cold {statistics.median(c):6.1f} ms  warm {statistics.median(w):5.1f} ms  (cold {min(c):.0f}-{max(c):.0f})")
