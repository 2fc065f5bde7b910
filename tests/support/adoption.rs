//! Adoption on every SQL backend: `baseline`, and `import` from sqlx,
//! refinery, diesel and golang-migrate, whose history tables are built the
//! way each tool builds them (sqlx by running the real `sqlx::migrate`).
//! Instantiated per backend by `adoption_scenarios!`.

use super::fixtures::{BASE, DRIFTED, SHORT};
use super::SqlTestDb;
use embedded_migrations::core::split::Dialect;
use embedded_migrations::{embed_migrations, Direction, Error, Migrations, Settings, Tool};

/// 20240101000000 create_a, 20240102000000 create_b, 20240103000000 seed_a:
/// versions as diesel names its folders.
static TIMESTAMPED: Migrations = embed_migrations!("tests/fixtures/timestamped");

const TRACKING: &str = "_embedded_migrations";

/// What migrations 001 and 002 of BASE create, built by hand.
async fn hand_built_schema<D: SqlTestDb>(db: &D) {
    db.exec("CREATE TABLE a (id INTEGER PRIMARY KEY, v VARCHAR(50))").await;
    db.exec("CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER)").await;
}

fn problems(err: &Error) -> &[String] {
    match err {
        Error::Adoption { problems, .. } => problems,
        other => panic!("expected an adoption refusal, got {other}"),
    }
}

pub async fn baseline_records_without_running<D: SqlTestDb>(db: &D) {
    hand_built_schema(db).await;
    let dry = BASE.plan_baseline(db.pool(), 2).await.expect("dry run");
    assert!(dry.dry_run);
    assert_eq!(dry.recorded.iter().map(|m| m.version).collect::<Vec<_>>(), [1, 2]);
    assert!(
        !db.tables().await.iter().any(|t| t.eq_ignore_ascii_case(TRACKING)),
        "a dry run creates nothing"
    );

    let adoption = BASE
        .with(Settings::default())
        .reason("adopted from the hand-built schema")
        .baseline(db.pool(), 2)
        .await
        .expect("baseline");
    assert_eq!(adoption.recorded.iter().map(|m| m.version).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(adoption.recorded[1].checksum, BASE.migrations()[1].checksum().to_hex());
    assert_eq!(db.count("SELECT count(*) FROM a").await, 0, "nothing ran");
    assert_eq!(db.count(&format!("SELECT count(*) FROM {TRACKING}")).await, 2);

    let history = BASE.history(db.pool()).await.expect("history");
    assert_eq!(history.len(), 2);
    assert!(history
        .iter()
        .all(|h| h.direction == Direction::Up
            && h.reason.as_deref() == Some("baseline: adopted from the hand-built schema")));

    let again = BASE
        .baseline(db.pool(), 2)
        .await
        .expect("the same baseline again writes nothing");
    assert!(again.recorded.is_empty());
    assert_eq!(again.already_recorded, [1, 2]);

    let report = BASE.run(db.pool()).await.expect("run applies what follows");
    assert_eq!(report.steps.iter().map(|s| s.version).collect::<Vec<_>>(), [3]);
    assert_eq!(db.count("SELECT count(*) FROM a").await, 2);
    assert!(BASE.run(db.pool()).await.expect("boot").is_empty());

    let status = BASE.validate(db.pool()).await.expect("validate passes");
    let baselined: Vec<Option<&str>> = status.entries.iter().map(|e| e.baseline.as_deref()).collect();
    assert_eq!(
        baselined,
        [
            Some("baseline: adopted from the hand-built schema"),
            Some("baseline: adopted from the hand-built schema"),
            None
        ]
    );
    assert!(status.is_up_to_date());
}

pub async fn baseline_refuses_rows_it_would_not_write<D: SqlTestDb>(db: &D) {
    BASE.run(db.pool()).await.expect("run");
    let err = BASE.baseline(db.pool(), 2).await.expect_err("version 3 is recorded");
    assert_eq!(problems(&err).len(), 1, "{err}");
    assert!(problems(&err)[0].contains("version 3"), "{err}");

    let err = DRIFTED.baseline(db.pool(), 4).await.expect_err("002 differs");
    assert!(
        problems(&err)
            .iter()
            .any(|p| p.contains("version 2") && p.contains("002_create_b.up.sql")),
        "{err}"
    );
    assert!(err.to_string().contains("nothing was written"), "{err}");
    assert_eq!(db.count(&format!("SELECT count(*) FROM {TRACKING}")).await, 3);
    assert!(matches!(
        BASE.baseline(db.pool(), 7).await,
        Err(Error::UnknownVersion { version: 7, .. })
    ));
}

/// After sqlx applied BASE's 001 and 002 (the caller ran its migrator).
pub async fn import_sqlx_then_run_applies_only_the_new<D: SqlTestDb>(db: &D) {
    assert_eq!(
        db.count("SELECT count(*) FROM _sqlx_migrations").await,
        2,
        "the premise"
    );
    let dry = BASE.plan_import(db.pool(), Tool::Sqlx).await.expect("dry run");
    assert_eq!(dry.recorded.iter().map(|m| m.version).collect::<Vec<_>>(), [1, 2]);
    assert!(!db.tables().await.iter().any(|t| t.eq_ignore_ascii_case(TRACKING)));

    let adoption = BASE.import(db.pool(), Tool::Sqlx).await.expect("import");
    assert_eq!(adoption.source, "sqlx");
    assert_eq!(adoption.recorded.iter().map(|m| m.version).collect::<Vec<_>>(), [1, 2]);
    let history = BASE.history(db.pool()).await.expect("history");
    assert!(history
        .iter()
        .all(|h| h.reason.as_deref() == Some("baseline (imported from sqlx)")));
    assert_eq!(
        db.count("SELECT count(*) FROM _sqlx_migrations").await,
        2,
        "sqlx's table untouched"
    );
    let again = BASE
        .import(db.pool(), Tool::Sqlx)
        .await
        .expect("importing again writes nothing");
    assert_eq!((again.recorded.len(), again.already_recorded.len()), (0, 2));

    let report = BASE.run(db.pool()).await.expect("run");
    assert_eq!(report.steps.iter().map(|s| s.version).collect::<Vec<_>>(), [3]);
    let status = BASE.validate(db.pool()).await.expect("validate");
    assert_eq!(
        status.entries.iter().map(|e| e.baseline.is_some()).collect::<Vec<_>>(),
        [true, true, false]
    );
    let err = BASE.import(db.pool(), Tool::Sqlx).await.expect_err("003 ran since");
    assert!(problems(&err)[0].contains("version 3"), "{err}");
}

/// After sqlx applied the GAPPED folder (001 and 003), with 001 then marked
/// failed: every problem at once.
pub async fn import_sqlx_lists_every_mismatch<D: SqlTestDb>(db: &D) {
    db.exec("UPDATE _sqlx_migrations SET success = NOT success WHERE version = 1")
        .await;
    let err = BASE.import(db.pool(), Tool::Sqlx).await.expect_err("refused");
    let listed = problems(&err);
    assert_eq!(listed.len(), 2, "{err}");
    assert!(listed[0].contains("version 1") && listed[0].contains("failed"), "{err}");
    assert!(
        listed[1].contains("version 2") && listed[1].contains("never applied") && listed[1].contains("version 3"),
        "{err}"
    );
    let err = SHORT
        .import(db.pool(), Tool::Sqlx)
        .await
        .expect_err("003 is not in SHORT");
    assert!(
        problems(&err)
            .iter()
            .any(|p| p.contains("version 3") && p.contains("not in this binary")),
        "{err}"
    );
    assert!(
        !db.tables().await.iter().any(|t| t.eq_ignore_ascii_case(TRACKING)),
        "nothing written"
    );
}

/// After sqlx applied BASE's 001 and 002: DRIFTED's 002 is another file.
pub async fn import_sqlx_refuses_another_file<D: SqlTestDb>(db: &D) {
    let err = DRIFTED.import(db.pool(), Tool::Sqlx).await.expect_err("002 differs");
    let listed = problems(&err);
    assert_eq!(listed.len(), 1, "{err}");
    assert!(
        listed[0].contains("002_create_b.up.sql") && listed[0].contains("SHA-384") && listed[0].contains("CRLF"),
        "{err}"
    );
}

/// refinery's table as refinery_core creates and fills it
/// (rust-db/refinery, refinery_core/src/traits/mod.rs:
/// ASSERT_MIGRATIONS_TABLE_QUERY and insert_migration_query).
pub async fn import_refinery<D: SqlTestDb>(db: &D) {
    hand_built_schema(db).await;
    refinery_history(db, &[(1, "create_a"), (2, "create_b")]).await;
    let adoption = BASE.import(db.pool(), Tool::Refinery).await.expect("import");
    assert_eq!(adoption.recorded.iter().map(|m| m.version).collect::<Vec<_>>(), [1, 2]);
    let report = BASE.run(db.pool()).await.expect("run");
    assert_eq!(report.steps.iter().map(|s| s.version).collect::<Vec<_>>(), [3]);
    assert_eq!(db.count("SELECT count(*) FROM refinery_schema_history").await, 2);
}

/// diesel's table as diesel creates it (diesel-rs/diesel,
/// diesel/src/migration/setup_migration_table.sql; a row per version, the
/// folder's digits: `2024-01-01-000000_create_a` is `20240101000000`).
pub async fn import_diesel<D: SqlTestDb>(db: &D) {
    db.exec("CREATE TABLE a (id INTEGER PRIMARY KEY, v VARCHAR(50))").await;
    diesel_history(db, &["20240101000000", "20240103000000"]).await;
    let err = TIMESTAMPED.import(db.pool(), Tool::Diesel).await.expect_err("a gap");
    assert!(
        problems(&err)[0].contains("version 20240102000000") && problems(&err)[0].contains("never applied"),
        "{err}"
    );
    db.exec("DELETE FROM __diesel_schema_migrations WHERE version = '20240103000000'")
        .await;
    let adoption = TIMESTAMPED.import(db.pool(), Tool::Diesel).await.expect("import");
    assert_eq!(
        adoption.recorded.iter().map(|m| m.version).collect::<Vec<_>>(),
        [20240101000000]
    );
    let report = TIMESTAMPED.run(db.pool()).await.expect("run");
    assert_eq!(
        report.steps.iter().map(|s| s.version).collect::<Vec<_>>(),
        [20240102000000, 20240103000000]
    );
}

/// golang-migrate's table (golang-migrate/migrate: database/sqlite3/sqlite3.go,
/// database/postgres/postgres.go and database/mysql/mysql.go,
/// ensureVersionTable): one row, the version and whether it is dirty.
pub async fn import_golang_migrate<D: SqlTestDb>(db: &D, dialect: Dialect) {
    hand_built_schema(db).await;
    let create = match dialect {
        Dialect::Sqlite => "CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool)",
        _ => {
            "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint not null primary key, dirty boolean not null)"
        }
    };
    db.exec(create).await;
    if dialect == Dialect::Sqlite {
        db.exec("CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version)")
            .await;
    }
    let (dirty, clean) = match dialect {
        Dialect::Sqlite => ("1", "0"),
        _ => ("TRUE", "FALSE"),
    };
    db.exec(&format!(
        "INSERT INTO schema_migrations (version, dirty) VALUES (2, {dirty})"
    ))
    .await;
    let err = BASE.import(db.pool(), Tool::GolangMigrate).await.expect_err("dirty");
    assert!(problems(&err)[0].contains("dirty at version 2"), "{err}");
    db.exec(&format!("UPDATE schema_migrations SET dirty = {clean}")).await;
    let adoption = BASE.import(db.pool(), Tool::GolangMigrate).await.expect("import");
    assert_eq!(adoption.recorded.iter().map(|m| m.version).collect::<Vec<_>>(), [1, 2]);
    let report = BASE.run(db.pool()).await.expect("run");
    assert_eq!(report.steps.iter().map(|s| s.version).collect::<Vec<_>>(), [3]);
    assert_eq!(db.count("SELECT count(*) FROM schema_migrations").await, 1);
}

/// refinery's history table as refinery creates it, with a row per
/// `(version, name)` (its own checksum, unchecked by the import).
pub async fn refinery_history<D: SqlTestDb>(db: &D, rows: &[(i64, &str)]) {
    db.exec(
        "CREATE TABLE IF NOT EXISTS refinery_schema_history(
             version INT4 PRIMARY KEY,
             name VARCHAR(255),
             applied_on VARCHAR(255),
             checksum VARCHAR(255))",
    )
    .await;
    for (version, name) in rows {
        db.exec(&format!(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) \
             VALUES ({version}, '{name}', '2024-01-01T00:00:00Z', '1234567890')"
        ))
        .await;
    }
}

/// diesel's table as diesel creates it, with a row per version.
pub async fn diesel_history<D: SqlTestDb>(db: &D, versions: &[&str]) {
    db.exec(
        "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (
               version VARCHAR(50) PRIMARY KEY NOT NULL,
               run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
        )",
    )
    .await;
    for version in versions {
        db.exec(&format!(
            "INSERT INTO __diesel_schema_migrations (version) VALUES ('{version}')"
        ))
        .await;
    }
}
