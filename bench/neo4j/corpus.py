"""The Neo4j bench corpus, written as real projects write theirs: 11 files,
50 statements, mostly constraints and indexes, some backfills and property
renames over the seeded graph (seed.cypher), one schema file ending with the
MATCH ... SET that prepares the nodes already there.

    python3 corpus.py     writes corpus/ours (NNN_name.up|down.cypher, the
                          mixed file under migrate:no-transaction) and
                          corpus/nm (neo4j-migrations' V0NN__name.cypher)

run.py reads the statements back from corpus/ours for the driver loop."""

import os
import shutil

FILES = [
    ("person_constraints", "schema", [
        ("CREATE CONSTRAINT person_id IF NOT EXISTS FOR (p:Person) REQUIRE p.id IS UNIQUE", "DROP CONSTRAINT person_id IF EXISTS"),
        ("CREATE CONSTRAINT person_email IF NOT EXISTS FOR (p:Person) REQUIRE p.email IS UNIQUE", "DROP CONSTRAINT person_email IF EXISTS"),
        ("CREATE CONSTRAINT account_id IF NOT EXISTS FOR (a:Account) REQUIRE a.id IS UNIQUE", "DROP CONSTRAINT account_id IF EXISTS"),
        ("CREATE CONSTRAINT account_login IF NOT EXISTS FOR (a:Account) REQUIRE a.login IS UNIQUE", "DROP CONSTRAINT account_login IF EXISTS"),
        ("CREATE CONSTRAINT team_id IF NOT EXISTS FOR (t:Team) REQUIRE t.id IS UNIQUE", "DROP CONSTRAINT team_id IF EXISTS"),
        ("CREATE CONSTRAINT tag_name IF NOT EXISTS FOR (t:Tag) REQUIRE t.name IS UNIQUE", "DROP CONSTRAINT tag_name IF EXISTS"),
    ]),
    ("company_constraints", "schema", [
        ("CREATE CONSTRAINT company_id IF NOT EXISTS FOR (c:Company) REQUIRE c.id IS UNIQUE", "DROP CONSTRAINT company_id IF EXISTS"),
        ("CREATE CONSTRAINT company_domain IF NOT EXISTS FOR (c:Company) REQUIRE c.domain IS UNIQUE", "DROP CONSTRAINT company_domain IF EXISTS"),
        ("CREATE CONSTRAINT office_id IF NOT EXISTS FOR (o:Office) REQUIRE o.id IS UNIQUE", "DROP CONSTRAINT office_id IF EXISTS"),
        ("CREATE CONSTRAINT invoice_id IF NOT EXISTS FOR (i:Invoice) REQUIRE i.id IS UNIQUE", "DROP CONSTRAINT invoice_id IF EXISTS"),
        ("CREATE CONSTRAINT project_id IF NOT EXISTS FOR (p:Project) REQUIRE p.id IS UNIQUE", "DROP CONSTRAINT project_id IF EXISTS"),
    ]),
    ("movie_constraints", "schema", [
        ("CREATE CONSTRAINT movie_id IF NOT EXISTS FOR (m:Movie) REQUIRE m.id IS UNIQUE", "DROP CONSTRAINT movie_id IF EXISTS"),
        ("CREATE CONSTRAINT genre_name IF NOT EXISTS FOR (g:Genre) REQUIRE g.name IS UNIQUE", "DROP CONSTRAINT genre_name IF EXISTS"),
        ("CREATE CONSTRAINT review_id IF NOT EXISTS FOR (r:Review) REQUIRE r.id IS UNIQUE", "DROP CONSTRAINT review_id IF EXISTS"),
        ("CREATE CONSTRAINT studio_id IF NOT EXISTS FOR (s:Studio) REQUIRE s.id IS UNIQUE", "DROP CONSTRAINT studio_id IF EXISTS"),
        ("CREATE CONSTRAINT award_id IF NOT EXISTS FOR (a:Award) REQUIRE a.id IS UNIQUE", "DROP CONSTRAINT award_id IF EXISTS"),
    ]),
    ("person_indexes", "schema", [
        ("CREATE INDEX person_name IF NOT EXISTS FOR (p:Person) ON (p.name)", "DROP INDEX person_name IF EXISTS"),
        ("CREATE INDEX person_born IF NOT EXISTS FOR (p:Person) ON (p.born)", "DROP INDEX person_born IF EXISTS"),
        ("CREATE INDEX person_name_born IF NOT EXISTS FOR (p:Person) ON (p.name, p.born)", "DROP INDEX person_name_born IF EXISTS"),
        ("CREATE INDEX account_created IF NOT EXISTS FOR (a:Account) ON (a.created_at)", "DROP INDEX account_created IF EXISTS"),
        ("CREATE INDEX team_name IF NOT EXISTS FOR (t:Team) ON (t.name)", "DROP INDEX team_name IF EXISTS"),
        ("CREATE INDEX person_country IF NOT EXISTS FOR (p:Person) ON (p.country)", "DROP INDEX person_country IF EXISTS"),
    ]),
    ("company_indexes", "schema", [
        ("CREATE INDEX company_name IF NOT EXISTS FOR (c:Company) ON (c.name)", "DROP INDEX company_name IF EXISTS"),
        ("CREATE INDEX company_founded IF NOT EXISTS FOR (c:Company) ON (c.founded)", "DROP INDEX company_founded IF EXISTS"),
        ("CREATE INDEX office_city IF NOT EXISTS FOR (o:Office) ON (o.city)", "DROP INDEX office_city IF EXISTS"),
        ("CREATE INDEX invoice_due IF NOT EXISTS FOR (i:Invoice) ON (i.due)", "DROP INDEX invoice_due IF EXISTS"),
        ("CREATE INDEX project_status IF NOT EXISTS FOR (p:Project) ON (p.status)", "DROP INDEX project_status IF EXISTS"),
    ]),
    ("text_indexes", "schema", [
        ("CREATE TEXT INDEX movie_title_text IF NOT EXISTS FOR (m:Movie) ON (m.title)", "DROP INDEX movie_title_text IF EXISTS"),
        ("CREATE TEXT INDEX person_bio_text IF NOT EXISTS FOR (p:Person) ON (p.bio)", "DROP INDEX person_bio_text IF EXISTS"),
        ("CREATE TEXT INDEX review_body_text IF NOT EXISTS FOR (r:Review) ON (r.body)", "DROP INDEX review_body_text IF EXISTS"),
        ("CREATE TEXT INDEX company_name_text IF NOT EXISTS FOR (c:Company) ON (c.name)", "DROP INDEX company_name_text IF EXISTS"),
    ]),
    ("backfill_person_slug", "data", [
        ("MATCH (p:Person) WHERE p.slug IS NULL SET p.slug = toLower(replace(p.name, ' ', '-')) + '-' + toString(p.id)", "MATCH (p:Person) REMOVE p.slug"),
        ("MATCH (c:Company) WHERE c.slug IS NULL SET c.slug = toLower(replace(c.name, ' ', '-'))", "MATCH (c:Company) REMOVE c.slug"),
    ]),
    ("relationship_indexes", "schema", [
        ("CREATE INDEX works_at_since IF NOT EXISTS FOR ()-[r:WORKS_AT]-() ON (r.since)", "DROP INDEX works_at_since IF EXISTS"),
        ("CREATE INDEX acted_in_role IF NOT EXISTS FOR ()-[r:ACTED_IN]-() ON (r.role)", "DROP INDEX acted_in_role IF EXISTS"),
        ("CREATE INDEX reviewed_rating IF NOT EXISTS FOR ()-[r:REVIEWED]-() ON (r.rating)", "DROP INDEX reviewed_rating IF EXISTS"),
        ("CREATE INDEX member_of_since IF NOT EXISTS FOR ()-[r:MEMBER_OF]-() ON (r.since)", "DROP INDEX member_of_since IF EXISTS"),
    ]),
    ("rename_properties", "data", [
        ("MATCH (m:Movie) WHERE m.released IS NOT NULL SET m.release_year = m.released REMOVE m.released", "MATCH (m:Movie) WHERE m.release_year IS NOT NULL SET m.released = m.release_year REMOVE m.release_year"),
        ("MATCH ()-[r:WORKS_AT]->() WHERE r.since IS NOT NULL SET r.started = r.since", "MATCH ()-[r:WORKS_AT]->() REMOVE r.started"),
        ("MATCH (p:Person) WHERE p.country IS NULL SET p.country = 'unknown'", "MATCH (p:Person {country: 'unknown'}) REMOVE p.country"),
    ]),
    ("range_indexes", "schema", [
        ("CREATE RANGE INDEX movie_release_year IF NOT EXISTS FOR (m:Movie) ON (m.release_year)", "DROP INDEX movie_release_year IF EXISTS"),
        ("CREATE RANGE INDEX person_slug IF NOT EXISTS FOR (p:Person) ON (p.slug)", "DROP INDEX person_slug IF EXISTS"),
        ("CREATE RANGE INDEX company_slug IF NOT EXISTS FOR (c:Company) ON (c.slug)", "DROP INDEX company_slug IF EXISTS"),
        ("CREATE RANGE INDEX review_created IF NOT EXISTS FOR (r:Review) ON (r.created_at)", "DROP INDEX review_created IF EXISTS"),
        ("CREATE RANGE INDEX award_year IF NOT EXISTS FOR (a:Award) ON (a.year)", "DROP INDEX award_year IF EXISTS"),
    ]),
    ("people_handles", "mixed", [
        ("CREATE CONSTRAINT person_handle IF NOT EXISTS FOR (p:Person) REQUIRE p.handle IS UNIQUE", "DROP CONSTRAINT person_handle IF EXISTS"),
        ("CREATE INDEX person_active IF NOT EXISTS FOR (p:Person) ON (p.active)", "DROP INDEX person_active IF EXISTS"),
        ("CREATE INDEX movie_rating IF NOT EXISTS FOR (m:Movie) ON (m.rating)", "DROP INDEX movie_rating IF EXISTS"),
        ("CREATE TEXT INDEX person_handle_text IF NOT EXISTS FOR (p:Person) ON (p.handle)", "DROP INDEX person_handle_text IF EXISTS"),
        ("MATCH (p:Person) WHERE p.handle IS NULL SET p.handle = p.slug, p.active = true", "MATCH (p:Person) REMOVE p.handle, p.active"),
    ]),
]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ours = os.path.join(here, "corpus", "ours")
    nm = os.path.join(here, "corpus", "nm")
    for d in (ours, nm):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    total = 0
    for i, (name, kind, pairs) in enumerate(FILES, start=1):
        header = "// migrate:no-transaction\n" if kind == "mixed" else ""
        ups = "".join(f"{up};\n" for up, _ in pairs)
        downs = "".join(f"{down};\n" for _, down in reversed(pairs))
        with open(os.path.join(ours, f"{i:03}_{name}.up.cypher"), "w") as f:
            f.write(header + ups)
        with open(os.path.join(ours, f"{i:03}_{name}.down.cypher"), "w") as f:
            f.write(header + downs)
        with open(os.path.join(nm, f"V{i:03}__{name}.cypher"), "w") as f:
            f.write(ups)
        total += len(pairs)
    print(f"{len(FILES)} files, {total} statements")


if __name__ == "__main__":
    main()
