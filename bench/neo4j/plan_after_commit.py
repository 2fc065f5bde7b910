"""When Neo4j empties its plan cache after a schema change: a query planned
warm, then a CREATE INDEX over 200,000 nodes, then the same query twice
right after the commit and twice after the index is online, each time the
server's own `result_available_after` (ms). The third round sends the query
with `CYPHER replan=skip`. A throwaway server: it creates and deletes :Zq
nodes and zq_* indexes.

    .venv/bin/python plan_after_commit.py HOST:PORT
"""
import sys, time, logging
from neo4j import GraphDatabase
logging.getLogger("neo4j").setLevel(logging.ERROR)
d = GraphDatabase.driver(f"bolt://{sys.argv[1]}", auth=("neo4j", "x"))
Q = "MATCH (a:Zq {id: $x}) OPTIONAL MATCH (a)-[:R]->(b:Zq2) WITH a, b WHERE b.v > $x RETURN count(*) AS n"
with d.session() as s:
    s.run("MATCH (n:Zq) DETACH DELETE n").consume()
    s.run("UNWIND range(1, 200000) AS i CREATE (:Zq {id: i, p: i})").consume()
    for i in range(3):
        s.run(f"DROP INDEX zq_{i} IF EXISTS").consume()
    for i, prefix in enumerate(["", "", "CYPHER replan=skip "]):
        def t():
            return s.run(prefix + Q, x=1).consume().result_available_after
        s.run(prefix + Q, x=1).consume()
        print("warm before:", t())
        s.run(f"CREATE INDEX zq_{i} FOR (n:Zq) ON (n.p{i})").consume()
        st = [r["state"] for r in s.run(f"SHOW INDEXES YIELD name, state WHERE name = 'zq_{i}' RETURN state")]
        a = t(); b = t()
        st2 = [r["state"] for r in s.run(f"SHOW INDEXES YIELD name, state WHERE name = 'zq_{i}' RETURN state")]
        s.run("CALL db.awaitIndexes(60)").consume()
        time.sleep(0.3)
        c = t(); e = t()
        print(f"{prefix or 'plain '}index {i}: state {st} -> {st2}: after commit {a} then {b}; after online {c} then {e}")
    s.run("MATCH (n:Zq) CALL (n) { DELETE n } IN TRANSACTIONS OF 50000 ROWS").consume()
    for i in range(3):
        s.run(f"DROP INDEX zq_{i} IF EXISTS").consume()
