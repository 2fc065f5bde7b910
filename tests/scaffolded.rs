//! What `cargo xtask new-migration --rust` (and `--rust --batch`) writes
//! compiles, for every database, and runs: the files under
//! tests/fixtures/scaffolded_* are the templates as xtask fills them in
//! (xtask's own test holds the two equal): 001 a code migration, 002 a
//! batch code migration.

use embedded_migrations::{embed_migrations, Migrations};

static SQLITE: Migrations = embed_migrations!("tests/fixtures/scaffolded_sqlite", database = sqlite);
#[cfg(feature = "postgres")]
static POSTGRES: Migrations = embed_migrations!("tests/fixtures/scaffolded_postgres", database = postgres);
#[cfg(feature = "mysql")]
static MYSQL: Migrations = embed_migrations!("tests/fixtures/scaffolded_mysql", database = mysql);
#[cfg(feature = "neo4j")]
static NEO4J: embedded_migrations::CypherMigrations =
    embed_migrations!("tests/fixtures/scaffolded_neo4j", database = neo4j);
#[cfg(feature = "chroma")]
static CHROMA: Migrations<embedded_migrations::Chroma> =
    embed_migrations!("tests/fixtures/scaffolded_chroma", database = chroma);

#[tokio::test]
async fn the_scaffolded_code_migrations_compile_apply_and_revert() {
    let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.expect("sqlite");
    let plan = SQLITE.plan(&pool).await.expect("a plan");
    assert_eq!(plan.steps.len(), 2);
    assert!(plan.steps[0].batch.is_none(), "001 is a plain code migration");
    assert_eq!(
        plan.steps[1].batch.as_ref().map(|b| b.size),
        Some(1000),
        "002 is a batch one"
    );
    let report = SQLITE.run(&pool).await.expect("applies");
    assert_eq!(report.steps.len(), 2);
    assert_eq!(SQLITE.migrations()[0].up.file, "001_scaffolded.rs");
    assert_eq!(SQLITE.migrations()[1].up.file, "002_scaffolded_batch.rs");
    SQLITE.down(&pool, 2).await.expect("reverts both");
    assert_eq!(SQLITE.status(&pool).await.expect("status").current_version(), 0);
    #[cfg(feature = "postgres")]
    assert_eq!(POSTGRES.code_migrations().len(), 2);
    #[cfg(feature = "mysql")]
    assert_eq!(MYSQL.code_migrations().len(), 2);
    #[cfg(feature = "neo4j")]
    assert_eq!(NEO4J.code_migrations().len(), 2);
    #[cfg(feature = "chroma")]
    assert_eq!(CHROMA.code_migrations().len(), 2);
}

/// The test kit migrates a fresh database with a set holding a code
/// migration like any other: the demo's, whose 008 hashes in Rust.
#[tokio::test]
async fn the_test_kit_applies_a_set_with_a_code_migration() {
    static DEMO: Migrations = embed_migrations!("migrations/sqlite", database = sqlite);
    let db = embedded_migrations::testkit::TestDatabase::sqlite()
        .await
        .expect("a fresh SQLite database")
        .migrated(&DEMO)
        .await
        .expect("migrated, 008 included");
    let status = DEMO.status(db.pool()).await.expect("status");
    assert_eq!(status.current_version(), 8);
    db.close().await.expect("closed");
}
