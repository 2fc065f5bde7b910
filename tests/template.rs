//! Migration templates (embedded_migrations::template) and the test kit's
//! copies, against real servers:
//! - a copy holds the schema snapshot, status and history of a full run;
//! - a changed file gives a new template, never the stale one, and the
//!   stale one is dropped; an added migration keeps an earlier version's;
//! - a build that fails leaves nothing a later test would take; one left
//!   half-built by a killed process is dropped and built again;
//! - two processes asking for the same template at once (they are held at a
//!   barrier until both run) build it once, and both get a copy;
//! - a tenant database created from a template reads as a full run's.
//!
//! Each test names its tracking table uniquely, so its templates are its
//! own, built in this run. Server URLs: TEST_POSTGRES_URL, TEST_MYSQL_URL;
//! without one its tests skip loudly, or fail when CI=true.

#[macro_use]
#[allow(unused_macros)]
mod support;

use embedded_migrations::backend::Database;
use embedded_migrations::snapshot::SchemaSnapshot;
use embedded_migrations::template::Template;
use embedded_migrations::testkit::TestDatabase;
use embedded_migrations::{embed_migrations, Migrations, Migrator, Settings, Sql};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

static BASE: Migrations = embed_migrations!("tests/fixtures/base");
/// BASE with 002 edited (and a 004).
static DRIFTED: Migrations = embed_migrations!("tests/fixtures/drifted");
/// BASE and a 004.
static EXTENDED: Migrations = embed_migrations!("tests/fixtures/extended");
/// 002 fails.
static FAILING: Migrations = embed_migrations!("tests/fixtures/failing");

/// What the generic tests need of a backend: a fresh database, a copy of a
/// template, and the template names on its server or in its folder.
trait Kit: Database<Language = Sql> + Sized + 'static {
    async fn fresh(test: &str) -> Option<TestDatabase<Self>>;
    async fn copy(
        test: &str,
        template: &Template<'_>,
    ) -> Option<Result<TestDatabase<Self>, embedded_migrations::Error>>;
    /// Every `emtpl_`/`embld_` name there.
    async fn names() -> Vec<String>;
    /// A database (file) under `name` holding a table `half_built`, as a
    /// build killed mid-run leaves.
    async fn leave_half_built(name: &str);
    /// Drops the template `name`: each test's templates are its own (a
    /// unique tracking table), and would stay otherwise.
    async fn drop_template(name: &str);
}

fn settings(test: &str) -> Settings {
    Settings::default().table(support::unique_name(test))
}

async fn snapshot<D: Database>(db: &D, settings: &Settings) -> SchemaSnapshot {
    db.snapshots()
        .expect("a schema reader")
        .snapshot(settings)
        .await
        .expect("snapshot")
}

/// What a status and a history say, without the times a copy keeps from
/// its template.
async fn records<D: Database<Language = Sql>>(migrator: &Migrator<'_, Sql>, db: &D) -> (Vec<String>, Vec<String>) {
    let status = migrator.status(db).await.expect("status");
    let status = status
        .entries
        .iter()
        .map(|e| format!("{} {} {}", e.version, e.name, e.state.as_str()))
        .collect();
    let history = migrator.history(db).await.expect("history");
    let history = history
        .iter()
        .map(|h| format!("{} {} {:?} {}", h.version, h.name, h.direction, h.success))
        .collect();
    (status, history)
}

async fn copy_equals_full_run<K: Kit>(test: &str, migrations: &'static Migrations) {
    let settings = settings(test);
    let migrator = migrations.with(settings.clone());
    let Some(full) = K::fresh(test).await else { return };
    migrator.run(full.pool()).await.expect("the full run");
    let template = Template::of(&migrator);
    let copy = K::copy(test, &template).await.unwrap().expect("a copy");
    assert_eq!(
        snapshot(copy.pool(), &settings).await.text(),
        snapshot(full.pool(), &settings).await.text()
    );
    let (status, history) = records(&migrator, copy.pool()).await;
    assert_eq!((status.clone(), history.clone()), records(&migrator, full.pool()).await);
    assert!(
        !history.is_empty() && status.iter().all(|s| s.ends_with(" applied")),
        "{status:?}"
    );
    // The copy is up to date: a run applies nothing.
    assert!(migrator.run(copy.pool()).await.expect("run on the copy").is_empty());
    assert!(K::names().await.contains(&template.name()));
    copy.close().await.unwrap();
    full.close().await.unwrap();
    K::drop_template(&template.name()).await;
}

async fn changed_file_gives_a_new_template<K: Kit>(test: &str) {
    let settings = settings(test);
    let (base, drifted, extended) = (
        BASE.with(settings.clone()),
        DRIFTED.with(settings.clone()),
        EXTENDED.with(settings.clone()),
    );
    let (old, new) = (Template::of(&base), Template::of(&drifted).to(3));
    assert_ne!(old.name(), new.name(), "002 differs");
    assert_eq!(
        Template::of(&extended).to(3).name(),
        old.name(),
        "004 is past version 3"
    );
    let Some(first) = K::copy(test, &old).await else { return };
    let first = first.expect("a copy of the old set");
    assert!(!snapshot(first.pool(), &settings).await.text().contains("b.extra"));
    let second = K::copy(test, &new).await.unwrap().expect("a copy of the changed set");
    assert!(snapshot(second.pool(), &settings)
        .await
        .text()
        .contains("column b.extra"));
    assert_eq!(drifted.status(second.pool()).await.unwrap().current_version(), 3);
    let names = K::names().await;
    assert!(names.contains(&new.name()), "{names:?}");
    assert!(!names.contains(&old.name()), "the stale template is dropped: {names:?}");
    first.close().await.unwrap();
    second.close().await.unwrap();
    K::drop_template(&new.name()).await;
}

async fn failed_build_leaves_nothing<K: Kit>(test: &str) {
    let failing = FAILING.with(settings(test));
    let template = Template::of(&failing);
    let Some(result) = K::copy(test, &template).await else {
        return;
    };
    let err = result.err().expect("the build fails");
    let text = err.to_string();
    assert!(text.contains("002") || text.contains("create_c_then_fail"), "{text}");
    let names = K::names().await;
    assert!(
        !names.contains(&template.name()) && !names.contains(&template.building_name()),
        "{names:?}"
    );
    // Its build lock file (SQLite), which nothing else removes.
    K::drop_template(&template.name()).await;
}

async fn half_built_template_is_rebuilt<K: Kit>(test: &str) {
    let settings = settings(test);
    let base = BASE.with(settings.clone());
    let template = Template::of(&base);
    if K::fresh(test).await.is_none() {
        return;
    }
    K::leave_half_built(&template.building_name()).await;
    let copy = K::copy(test, &template).await.unwrap().expect("a copy");
    let text = snapshot(copy.pool(), &settings).await.text();
    assert!(!text.contains("half_built") && text.contains("table a"), "{text}");
    let names = K::names().await;
    assert!(!names.contains(&template.building_name()), "{names:?}");
    copy.close().await.unwrap();
    K::drop_template(&template.name()).await;
}

/// Run in a child process by `two_processes_build_once`: waits at the
/// barrier until both children are there, copies the template, and writes
/// how many migrations it applied itself (the one that built: all; the
/// other: none).
async fn child<K: Kit>(test: &str) {
    let (Ok(dir), Ok(table), Ok(id)) = (
        std::env::var("EMTEST_TEMPLATE_DIR"),
        std::env::var("EMTEST_TEMPLATE_TABLE"),
        std::env::var("EMTEST_TEMPLATE_CHILD"),
    ) else {
        return; // not a child: nothing to do
    };
    let dir = PathBuf::from(dir);
    std::fs::write(dir.join(format!("ready-{id}")), "").unwrap();
    let other = dir.join(format!("ready-{}", if id == "1" { "2" } else { "1" }));
    for _ in 0..6000 {
        if other.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(other.exists(), "the other child never started");
    let applied = AtomicUsize::new(0);
    let count = |p: &embedded_migrations::Progress| {
        if matches!(p.event, embedded_migrations::ProgressEvent::Finished(_)) {
            applied.fetch_add(1, Ordering::SeqCst);
        }
    };
    let migrator = BASE.with(Settings::default().table(table)).on_progress(&count);
    let copy = K::copy(test, &Template::of(&migrator)).await.unwrap().expect("a copy");
    let versions = migrator.status(copy.pool()).await.unwrap().current_version();
    std::fs::write(
        dir.join(format!("out-{id}")),
        format!("{} {versions}", applied.load(Ordering::SeqCst)),
    )
    .unwrap();
    copy.close().await.unwrap();
}

async fn two_processes_build_once<K: Kit>(test: &str, child_test: &str) {
    if K::fresh(test).await.is_none() {
        return;
    }
    let dir = std::env::temp_dir().join(support::unique_name(test));
    std::fs::create_dir_all(&dir).unwrap();
    let table = support::unique_name(test);
    let children: Vec<_> = ["1", "2"]
        .iter()
        .map(|id| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .args([child_test, "--exact", "--nocapture", "--test-threads=1"])
                .env("EMTEST_TEMPLATE_DIR", &dir)
                .env("EMTEST_TEMPLATE_TABLE", &table)
                .env("EMTEST_TEMPLATE_CHILD", id)
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a child failed");
    }
    // Both were at the barrier at once: their runs overlapped.
    assert!(dir.join("ready-1").exists() && dir.join("ready-2").exists());
    let mut outs: Vec<String> = ["out-1", "out-2"]
        .iter()
        .map(|f| std::fs::read_to_string(dir.join(f)).unwrap())
        .collect();
    outs.sort();
    assert_eq!(outs, ["0 3", "3 3"], "one child built (3 migrations), the other copied");
    let _ = std::fs::remove_dir_all(&dir);
    K::drop_template(&Template::of(&BASE.with(Settings::default().table(table))).name()).await;
}

macro_rules! template_tests {
    ($module:ident, $kit:ty, $examples:literal, $database:ident) => {
        mod $module {
            use super::*;

            static EXAMPLES: Migrations = embed_migrations!($examples, database = $database);

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn copy_of_the_example_set_equals_a_full_run() {
                copy_equals_full_run::<$kit>(concat!(stringify!($module), "_examples"), &EXAMPLES).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn copy_of_the_base_set_equals_a_full_run() {
                copy_equals_full_run::<$kit>(concat!(stringify!($module), "_base"), &BASE).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn changed_file_gives_a_new_template() {
                super::changed_file_gives_a_new_template::<$kit>(concat!(stringify!($module), "_changed")).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn failed_build_leaves_nothing() {
                super::failed_build_leaves_nothing::<$kit>(concat!(stringify!($module), "_failed")).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn half_built_template_is_rebuilt() {
                super::half_built_template_is_rebuilt::<$kit>(concat!(stringify!($module), "_half")).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn two_processes_build_once() {
                super::two_processes_build_once::<$kit>(
                    concat!(stringify!($module), "_two"),
                    concat!(stringify!($module), "::child"),
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn child() {
                super::child::<$kit>(concat!(stringify!($module), "_child")).await;
            }
        }
    };
}

#[cfg(feature = "sqlite")]
impl Kit for sqlx::SqlitePool {
    async fn fresh(_test: &str) -> Option<TestDatabase<Self>> {
        Some(TestDatabase::sqlite().await.expect("a SQLite test database"))
    }
    async fn copy(
        _test: &str,
        template: &Template<'_>,
    ) -> Option<Result<TestDatabase<Self>, embedded_migrations::Error>> {
        Some(TestDatabase::sqlite_from(template).await)
    }
    async fn names() -> Vec<String> {
        std::fs::read_dir(embedded_migrations::template::sqlite_template_dir())
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .filter_map(|n| n.strip_suffix(".sqlite3").map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
    async fn leave_half_built(name: &str) {
        let dir = embedded_migrations::template::sqlite_template_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.sqlite3"));
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        sqlx::query("CREATE TABLE half_built (id INTEGER)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
    async fn drop_template(name: &str) {
        let dir = embedded_migrations::template::sqlite_template_dir();
        let _ = std::fs::remove_file(dir.join(format!("{name}.sqlite3")));
        let _ = std::fs::remove_file(dir.join(format!("{name}.lock")));
    }
}

#[cfg(feature = "sqlite")]
template_tests!(sqlite, sqlx::SqlitePool, "migrations/sqlite", sqlite);

#[cfg(feature = "postgres")]
fn postgres_url(test: &str) -> Option<String> {
    let url = std::env::var("TEST_POSTGRES_URL").ok();
    if url.is_none() {
        support::missing_backend("TEST_POSTGRES_URL", test);
    }
    url
}

#[cfg(feature = "postgres")]
async fn postgres_admin() -> sqlx::PgPool {
    sqlx::PgPool::connect(&std::env::var("TEST_POSTGRES_URL").unwrap())
        .await
        .unwrap()
}

#[cfg(feature = "postgres")]
impl Kit for sqlx::PgPool {
    async fn fresh(test: &str) -> Option<TestDatabase<Self>> {
        let url = postgres_url(test)?;
        Some(TestDatabase::postgres(&url).await.expect("a PostgreSQL test database"))
    }
    async fn copy(
        test: &str,
        template: &Template<'_>,
    ) -> Option<Result<TestDatabase<Self>, embedded_migrations::Error>> {
        let url = postgres_url(test)?;
        Some(TestDatabase::postgres_from(&url, template).await)
    }
    async fn names() -> Vec<String> {
        let admin = postgres_admin().await;
        let names = sqlx::query_scalar(
            "SELECT datname FROM pg_database WHERE datname LIKE 'emtpl\\_%' OR datname LIKE 'embld\\_%'",
        )
        .fetch_all(&admin)
        .await
        .unwrap();
        admin.close().await;
        names
    }
    async fn leave_half_built(name: &str) {
        let admin = postgres_admin().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let url = std::env::var("TEST_POSTGRES_URL").unwrap();
        let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
        let pool = sqlx::PgPool::connect_with(options.database(name)).await.unwrap();
        sqlx::query("CREATE TABLE half_built (id INTEGER)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
    async fn drop_template(name: &str) {
        let admin = postgres_admin().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .execute(&admin)
        .await
        .unwrap();
        admin.close().await;
    }
}

#[cfg(feature = "postgres")]
template_tests!(postgres, sqlx::PgPool, "migrations/postgres", postgres);

#[cfg(feature = "mysql")]
fn mysql_url(test: &str) -> Option<String> {
    let url = std::env::var("TEST_MYSQL_URL").ok();
    if url.is_none() {
        support::missing_backend("TEST_MYSQL_URL", test);
    }
    url
}

#[cfg(feature = "mysql")]
async fn mysql_admin() -> sqlx::MySqlPool {
    sqlx::MySqlPool::connect(&std::env::var("TEST_MYSQL_URL").unwrap())
        .await
        .unwrap()
}

#[cfg(feature = "mysql")]
impl Kit for sqlx::MySqlPool {
    async fn fresh(test: &str) -> Option<TestDatabase<Self>> {
        let url = mysql_url(test)?;
        Some(TestDatabase::mysql(&url).await.expect("a MySQL test database"))
    }
    async fn copy(
        test: &str,
        template: &Template<'_>,
    ) -> Option<Result<TestDatabase<Self>, embedded_migrations::Error>> {
        let url = mysql_url(test)?;
        Some(TestDatabase::mysql_from(&url, template).await)
    }
    async fn names() -> Vec<String> {
        let admin = mysql_admin().await;
        let names = sqlx::query_scalar(
            "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata \
             WHERE schema_name LIKE 'emtpl\\_%' OR schema_name LIKE 'embld\\_%'",
        )
        .fetch_all(&admin)
        .await
        .unwrap();
        admin.close().await;
        names
    }
    async fn leave_half_built(name: &str) {
        let admin = mysql_admin().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE `{name}`; CREATE TABLE `{name}`.half_built (id INTEGER)"
        )))
        .execute(&admin)
        .await
        .unwrap();
        admin.close().await;
    }
    async fn drop_template(name: &str) {
        let admin = mysql_admin().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{name}`")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
    }
}

#[cfg(feature = "mysql")]
template_tests!(mysql, sqlx::MySqlPool, "migrations/mysql", mysql);

/// Beyond tables: what MySQL's copy replays by hand.
#[cfg(feature = "mysql")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_copy_replays_views_triggers_routines_and_counters() {
    static OBJECTS: Migrations = embed_migrations!("tests/fixtures/template_mysql_objects");
    let test = "mysql_objects";
    copy_equals_full_run::<sqlx::MySqlPool>(test, &OBJECTS).await;
    let Some(copy) = <sqlx::MySqlPool as Kit>::copy(test, &Template::of(&OBJECTS)).await else {
        return;
    };
    let copy = copy.expect("a copy");
    let pool = copy.pool();
    // The counter, the generated column, the trigger and the routines work.
    sqlx::query("INSERT INTO parent (name) VALUES ('three')")
        .execute(pool)
        .await
        .unwrap();
    let (id, length): (i64, i64) = sqlx::query_as("SELECT id, name_length FROM parent WHERE name = 'three'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!((id, length), (3, 5));
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(audited, 3, "two rows from the migration, one now");
    let on_view: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM a_on_view")
        .fetch_one(pool)
        .await
        .unwrap();
    let twice: i64 = sqlx::query_scalar("SELECT twice(21)").fetch_one(pool).await.unwrap();
    assert_eq!((on_view, twice), (3, 42));
    // The foreign key holds.
    assert!(sqlx::query("INSERT INTO child (parent_id) VALUES (99)")
        .execute(pool)
        .await
        .is_err());
    copy.close().await.unwrap();
}

/// A tenant added from the template reads as one migrated in full: `run`
/// applies nothing to it, and its schema, status and history are the full
/// run's.
async fn tenant_from_template_reads_as_a_full_run<D: Database<Language = Sql>>(
    tenants: embedded_migrations::Tenants<'_, Sql>,
    copied_name: &str,
    full: &D,
    copied: &D,
) {
    let report = tenants.run().await;
    let applied: Vec<(String, usize)> = report
        .tenants
        .iter()
        .map(|t| match &t.outcome {
            embedded_migrations::TenantOutcome::Applied(r) => (t.name.clone(), r.steps.len()),
            other => panic!("tenant {}: {other:?}", t.name),
        })
        .collect();
    assert_eq!(applied, [("full".to_string(), 3), (copied_name.to_string(), 0)]);
    let settings = Settings::default();
    assert_eq!(
        snapshot(copied, &settings).await.text(),
        snapshot(full, &settings).await.text()
    );
    assert_eq!(records(&BASE, copied).await, records(&BASE, full).await);
    let status = tenants.status().await;
    assert_eq!((status.total, status.up_to_date), (2, 2));
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_tenant_from_template() {
    let full = TestDatabase::sqlite().await.unwrap();
    let path = std::env::temp_dir().join(format!("{}.sqlite3", support::unique_name("sqlite_tenant")));
    let tenants = embedded_migrations::Tenants::new(&BASE).tenant("full", full.pool().clone(), Settings::default());
    let (tenants, copied) = tenants
        .create_sqlite("copied", &path)
        .await
        .expect("a tenant from the template");
    tenant_from_template_reads_as_a_full_run(tenants, "copied", full.pool(), &copied).await;
    copied.close().await;
    let _ = std::fs::remove_file(&path);
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_tenant_from_template() {
    let Some(full) = <sqlx::PgPool as Kit>::fresh("postgres_tenant").await else {
        return;
    };
    let name = support::unique_name("postgres_tenant");
    let server: sqlx::postgres::PgConnectOptions = std::env::var("TEST_POSTGRES_URL").unwrap().parse().unwrap();
    let tenants = embedded_migrations::Tenants::new(&BASE).tenant("full", full.pool().clone(), Settings::default());
    let (tenants, copied) = tenants
        .create_postgres(&name, &server)
        .await
        .expect("a tenant from the template");
    tenant_from_template_reads_as_a_full_run(tenants, &name, full.pool(), &copied).await;
    copied.close().await;
    let admin = postgres_admin().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE \"{name}\" WITH (FORCE)")))
        .execute(&admin)
        .await
        .unwrap();
}

#[cfg(feature = "mysql")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_tenant_from_template() {
    let Some(full) = <sqlx::MySqlPool as Kit>::fresh("mysql_tenant").await else {
        return;
    };
    let name = support::unique_name("mysql_tenant");
    let server: sqlx::mysql::MySqlConnectOptions = std::env::var("TEST_MYSQL_URL").unwrap().parse().unwrap();
    let tenants = embedded_migrations::Tenants::new(&BASE).tenant("full", full.pool().clone(), Settings::default());
    let (tenants, copied) = tenants
        .create_mysql(&name, &server)
        .await
        .expect("a tenant from the template");
    tenant_from_template_reads_as_a_full_run(tenants, &name, full.pool(), &copied).await;
    copied.close().await;
    let admin = mysql_admin().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE `{name}`")))
        .execute(&admin)
        .await
        .unwrap();
}
