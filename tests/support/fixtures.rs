//! Migration folders for the shared scenarios: portable SQL that SQLite,
//! PostgreSQL and MySQL all accept, and the same folders in Cypher for Neo4j
//! (tests/fixtures/neo4j_*), where a "table" is a uniqueness constraint and
//! the label of the same name, and a row a node with that label.

use embedded_migrations::{embed_migrations, CypherMigrations, Language, Migrations};

/// 001 create_a, 002 create_b, 003 seed_a.
pub static BASE: Migrations = embed_migrations!("tests/fixtures/base");
/// BASE with 002 edited after it was applied, plus a new 004.
pub static DRIFTED: Migrations = embed_migrations!("tests/fixtures/drifted");
/// An older binary: 001 only.
pub static SHORT: Migrations = embed_migrations!("tests/fixtures/short");
/// 001 and 003: 002 arrives later from a branch merged late.
pub static GAPPED: Migrations = embed_migrations!("tests/fixtures/gapped");
/// 002 creates table `c`, then fails on its second statement.
pub static FAILING: Migrations = embed_migrations!("tests/fixtures/failing");
/// 002's down file says `migrate:irreversible`.
pub static IRREVERSIBLE: Migrations = embed_migrations!("tests/fixtures/irreversible");

/// Each migration adds one row to `runs` (001 creates it): the number of
/// rows counts executions. COUNTED_NEXT adds 004.
static COUNTED: Migrations = embed_migrations!("tests/fixtures/counted");
static COUNTED_NEXT: Migrations = embed_migrations!("tests/fixtures/counted_next");
/// The same in Cypher: each migration creates one `runs` node.
static CYPHER_COUNTED: CypherMigrations = embed_migrations!("tests/fixtures/neo4j_counted");
static CYPHER_COUNTED_NEXT: CypherMigrations = embed_migrations!("tests/fixtures/neo4j_counted_next");

/// 001-004 each insert one row (node) into `runs`, which exists before
/// (data only: every migration is one transaction on every backend).
static INSERTS: Migrations = embed_migrations!("tests/fixtures/inserts");
static CYPHER_INSERTS: CypherMigrations = embed_migrations!("tests/fixtures/neo4j_inserts");

static CYPHER_BASE: CypherMigrations = embed_migrations!("tests/fixtures/neo4j_base");
static CYPHER_DRIFTED: CypherMigrations = embed_migrations!("tests/fixtures/neo4j_drifted");
static CYPHER_SHORT: CypherMigrations = embed_migrations!("tests/fixtures/neo4j_short");
static CYPHER_GAPPED: CypherMigrations = embed_migrations!("tests/fixtures/neo4j_gapped");
/// 002 creates constraint `c` (committed: schema statements run one by
/// one), then fails dropping a constraint that does not exist.
static CYPHER_FAILING: CypherMigrations = embed_migrations!("tests/fixtures/neo4j_failing");
static CYPHER_IRREVERSIBLE: CypherMigrations = embed_migrations!("tests/fixtures/neo4j_irreversible");

/// `${table}`, `${owner}` and `${token}` in statements and literals, an
/// escaped `$${owner}`; 002 adds a row for `${owner}`; 003 fails quoting
/// `${token}` (tests/support/placeholders.rs).
static PLACEHOLDERS: Migrations = embed_migrations!("tests/fixtures/placeholders");
static CYPHER_PLACEHOLDERS: CypherMigrations = embed_migrations!("tests/fixtures/neo4j_placeholders");

/// One language's version of the scenario folders, with the few texts the
/// scenarios check word for word.
pub struct Fixtures<L: Language> {
    pub base: &'static Migrations<L>,
    pub drifted: &'static Migrations<L>,
    pub short: &'static Migrations<L>,
    pub gapped: &'static Migrations<L>,
    pub failing: &'static Migrations<L>,
    pub irreversible: &'static Migrations<L>,
    /// 001-003, each adding one row (node) to `runs`; `counted_next` adds 004.
    pub counted: &'static Migrations<L>,
    pub counted_next: &'static Migrations<L>,
    /// 001-004, each inserting one row into an existing `runs`.
    pub inserts: &'static Migrations<L>,
    /// `${table}`, `${owner}`, `${token}`: tests/support/placeholders.rs.
    pub placeholders: &'static Migrations<L>,
    /// The file extension of this language's migration files.
    pub extension: &'static str,
    /// How 002_create_b's first statement begins.
    pub create_b: &'static str,
    /// 003_seed_a's second statement, as the splitter returns it.
    pub seed_two: &'static str,
    /// How 002_create_c_then_fail's failing statement (line 2) begins.
    pub failing_statement: &'static str,
}

impl<L: Language> Fixtures<L> {
    /// `002_create_b.up` gives `002_create_b.up.sql` or `002_create_b.up.cypher`.
    pub fn file(&self, stem: &str) -> String {
        format!("{stem}.{}", self.extension)
    }
}

pub static SQL: Fixtures<embedded_migrations::Sql> = Fixtures {
    base: &BASE,
    drifted: &DRIFTED,
    short: &SHORT,
    gapped: &GAPPED,
    failing: &FAILING,
    irreversible: &IRREVERSIBLE,
    counted: &COUNTED,
    counted_next: &COUNTED_NEXT,
    inserts: &INSERTS,
    placeholders: &PLACEHOLDERS,
    extension: "sql",
    create_b: "CREATE TABLE b",
    seed_two: "INSERT INTO a (id, v) VALUES (2, 'two; with a semicolon')",
    failing_statement: "INSERT INTO missing_table",
};

pub static CYPHER: Fixtures<embedded_migrations::Cypher> = Fixtures {
    base: &CYPHER_BASE,
    drifted: &CYPHER_DRIFTED,
    short: &CYPHER_SHORT,
    gapped: &CYPHER_GAPPED,
    failing: &CYPHER_FAILING,
    irreversible: &CYPHER_IRREVERSIBLE,
    counted: &CYPHER_COUNTED,
    counted_next: &CYPHER_COUNTED_NEXT,
    inserts: &CYPHER_INSERTS,
    placeholders: &CYPHER_PLACEHOLDERS,
    extension: "cypher",
    create_b: "CREATE CONSTRAINT b",
    seed_two: "CREATE (:a {id: 2, v: 'two; with a semicolon'})",
    failing_statement: "DROP CONSTRAINT missing_table",
};
