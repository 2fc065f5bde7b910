//! The example sets of migrations/, embedded as an application on sqlx 0.8
//! embeds its own (a Rust code migration among them, written against the
//! application's sqlx), and run on each SQL database through that sqlx's
//! pools: applied whole, the code migration's work checked, reverted to the
//! irreversible migration.

#[macro_use]
#[path = "../../../tests/support/mod.rs"]
mod support;
#[path = "../../../tests/servers/mod.rs"]
mod servers;

use embedded_migrations::{embed_migrations, Migrations};
use servers::dbs::{MyDb, PgDb, SqliteDb};
use support::TestDb;

static SQLITE: Migrations = embed_migrations!("migrations/sqlite", database = sqlite);
static POSTGRES: Migrations = embed_migrations!("migrations/postgres", database = postgres);
static MYSQL: Migrations = embed_migrations!("migrations/mysql", database = mysql);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_sets_apply_and_revert_on_every_sql_database() {
    // The pools are sqlx 0.8's own types, as the application has them.
    let db = SqliteDb::fresh("example_sqlx08").await.expect("sqlite");
    let _: &sqlx::SqlitePool = db.pool();
    servers::example_set_applies_and_reverts(&db, &SQLITE, None).await;
    if let Some(db) = PgDb::create("example_sqlx08").await {
        let _: &sqlx::PgPool = db.pool();
        servers::example_set_applies_and_reverts(
            &db,
            &POSTGRES,
            Some("SELECT net_quantity::bigint FROM user_positions"),
        )
        .await;
    }
    if let Some(db) = MyDb::create("example_sqlx08").await {
        let _: &sqlx::MySqlPool = db.pool();
        servers::example_set_applies_and_reverts(&db, &MYSQL, Some("SELECT net_quantity FROM user_positions")).await;
    }
}
