"""Where a schema migration's bookkeeping time goes: Neo4j empties its
query-plan cache after every schema change, so the record that follows a
migration's statements is planned again. This times, in a transaction rolled
back, right after a CREATE INDEX (awaited) and then warm:

  old 4 queries            the guard, the migration node, the state node and
                           the history node as four statements (before the
                           one-statement bookkeeping)
  new 1 query              the one statement that replaced them
  new mark after record    the next migration's dirty mark right after that
                           record (same text, other parameters): whether it
                           finds the record's plan

    .venv/bin/python plan_cost.py [HOST:PORT]   (a throwaway server: it wipes the graph)
"""
import logging
import statistics
import sys
import time

from neo4j import GraphDatabase
logging.getLogger("neo4j").setLevel(logging.ERROR)
# The statement as runtime/src/neo4j/session.rs sends it (default labels).
BOOKS = "MATCH (l:`__EmbeddedMigrationLock` {id: 1}) SET l.guard = $owner WITH l MATCH (s:`__EmbeddedMigrationState` {id: 1}) WITH l, s, l.owner = $owner AS ours, s.applied_count = $expected.applied_count AND s.last_version = $expected.last_version AND s.chain = $expected.chain AND s.dirty = $expected.dirty AS current SET l.expires_at = CASE WHEN ours THEN datetime() + duration({milliseconds: $lease_ms}) ELSE l.expires_at END REMOVE l.guard WITH s, ours, current, CASE WHEN ours AND current THEN [1] ELSE [] END AS go OPTIONAL MATCH (m:`__EmbeddedMigration` {version: $version}) FOREACH (_ IN CASE WHEN $remove THEN go ELSE [] END | DELETE m) FOREACH (_ IN CASE WHEN $put THEN go ELSE [] END | MERGE (n:`__EmbeddedMigration` {version: $version}) SET n += $node) FOREACH (_ IN go | SET s += $after) FOREACH (_ IN CASE WHEN $history THEN go ELSE [] END | SET s.history_seq = s.history_seq + 1 CREATE (h:`__EmbeddedMigrationHistory`) SET h = $entry, h.seq = s.history_seq) RETURN ours, current"
L='`__EmbeddedMigrationLock`'; S='`__EmbeddedMigrationState`'; M='`__EmbeddedMigration`'; H='`__EmbeddedMigrationHistory`'
OLD = [
 (f"MATCH (l:{L} {{id: 1}}) SET l.guard = $owner WITH l MATCH (s:{S} {{id: 1}}) WITH l, s, l.owner = $owner AS ours SET l.expires_at = CASE WHEN ours THEN datetime() + duration({{milliseconds: $lease_ms}}) ELSE l.expires_at END REMOVE l.guard RETURN ours, s.applied_count = $applied_count AND s.last_version = $last_version AND s.chain = $chain AND s.dirty = $dirty AS current",
  dict(owner="o", lease_ms=30000, applied_count=0, last_version=0, chain="c", dirty=False)),
 (f"MERGE (m:{M} {{version: $version}}) SET m.name = $name, m.checksum = $checksum, m.applied_at = $applied_at, m.execution_ms = $execution_ms, m.dirty = $dirty, m.dirty_direction = $dirty_direction",
  dict(version=1, name="n", checksum="c", applied_at="t", execution_ms=1, dirty=False, dirty_direction=None)),
 (f"MATCH (s:{S} {{id: 1}}) SET s.applied_count = $applied_count, s.last_version = $last_version, s.chain = $chain, s.dirty = $dirty",
  dict(applied_count=0, last_version=0, chain="c", dirty=False)),
 (f"MATCH (s:{S} {{id: 1}}) SET s.history_seq = s.history_seq + 1 CREATE (:{H} {{seq: s.history_seq, version: $version, name: $name, direction: $direction, started_at: $started_at, duration_ms: $duration_ms, success: $success, error: $error, reason: $reason}})",
  dict(version=1, name="n", direction="up", started_at="t", duration_ms=1, success=True, error=None, reason=None)),
]
st = {"applied_count": 0, "last_version": 0, "chain": "c", "dirty": False}
NEW = [(BOOKS, dict(owner="o", lease_ms=30000, expected=st, version=1, put=True, remove=False,
        node={"name": "n", "checksum": "c", "applied_at": "t", "execution_ms": 1, "dirty": False, "dirty_direction": None},
        after=st, history=True, entry={"version": 1, "name": "n", "direction": "up", "started_at": "t", "duration_ms": 1, "success": True, "error": None, "reason": None}))]
MARK = [(BOOKS, dict(owner="o", lease_ms=30000, expected=st, version=2, put=True, remove=False,
        node={"dirty": True, "dirty_direction": "up"}, after=st, history=False, entry={}))]
ADDRESS = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:7687"
d = GraphDatabase.driver(f"bolt://{ADDRESS}", auth=("neo4j", "x"))
with d.session() as s:
    s.run("MATCH (n) DETACH DELETE n").consume()
    for (name,) in s.run("SHOW CONSTRAINTS YIELD name RETURN name").values(): s.run(f"DROP CONSTRAINT `{name}`").consume()
    for (name,) in s.run("SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name").values(): s.run(f"DROP INDEX `{name}`").consume()
    s.run(f"CREATE (:{L} {{id: 1, owner: 'o'}}), (:{S} {{id: 1, applied_count: 0, last_version: 0, chain: 'c', dirty: false, history_seq: 0}})").consume()
    def txn(qs):
        t = time.perf_counter()
        with s.begin_transaction() as tx:
            for q, p in qs: tx.run(q, p).consume()
            tx.rollback()
        return (time.perf_counter() - t) * 1000
    res = {k: {"cold": [], "warm": []} for k in ("old 4 queries", "new 1 query", "new mark after record")}
    for i in range(7):
        for k, qs in (("old 4 queries", OLD), ("new 1 query", NEW)):
            s.run(f"CREATE INDEX plan_probe_{i}_{len(k)} IF NOT EXISTS FOR (x:Probe) ON (x.p{i}{len(k)})").consume(); s.run("CALL db.awaitIndexes()").consume(); time.sleep(0.2)
            res[k]["cold"].append(txn(qs)); res[k]["warm"].append(txn(qs))
        s.run(f"CREATE INDEX plan_probe_m{i} IF NOT EXISTS FOR (x:Probe) ON (x.m{i})").consume(); s.run("CALL db.awaitIndexes()").consume(); time.sleep(0.2)
        txn(NEW); res["new mark after record"]["cold"].append(txn(MARK))
for k, v in res.items():
    print(k, {kk: f"{statistics.median(vv):.1f} ms" for kk, vv in v.items() if vv})
