//! The schema as statements, for a squashed folder's baseline: the
//! server's own `SHOW CREATE` text of each table (in the order their
//! foreign keys need), view, routine and trigger of the connection's
//! database, without `DEFINER`s, `AUTO_INCREMENT` counters and the
//! tracking tables. (`mariadb-dump --no-data` writes the same objects, but
//! wrapped in version comments that set its session and in `DELIMITER`
//! lines the server rejects.)

use super::errors::NAME;
use crate::backend::{BoxFuture, SchemaDdl};
use crate::sql::compat::assert_sql_safe;
use crate::sql::tracking::TrackingSql;
use crate::{Error, Settings};
use sqlx::mysql::{MySqlPool, MySqlRow};
use sqlx::Row;

const TABLES: &str = "SELECT CAST(TABLE_NAME AS CHAR) AS name, CAST(TABLE_TYPE AS CHAR) AS type \
     FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY CREATE_TIME, TABLE_NAME";
const REFERENCES: &str = "SELECT CAST(TABLE_NAME AS CHAR) AS name, CAST(REFERENCED_TABLE_NAME AS CHAR) AS parent \
     FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() \
     AND UNIQUE_CONSTRAINT_SCHEMA = DATABASE()";
const ROUTINES: &str = "SELECT CAST(ROUTINE_TYPE AS CHAR) AS kind, CAST(ROUTINE_NAME AS CHAR) AS name \
     FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY CREATED, ROUTINE_NAME";
const TRIGGERS: &str = "SELECT CAST(TRIGGER_NAME AS CHAR) AS name FROM information_schema.TRIGGERS \
     WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY CREATED, TRIGGER_NAME";

fn text(row: &MySqlRow, column: usize) -> Result<String, sqlx::Error> {
    match row.try_get::<Option<String>, _>(column) {
        Ok(value) => Ok(value.unwrap_or_default()),
        Err(_) => Ok(String::from_utf8_lossy(&row.try_get::<Vec<u8>, _>(column)?).into_owned()),
    }
}

fn quoted(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

impl SchemaDdl for MySqlPool {
    fn schema_ddl<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            settings.check()?;
            let err = |e: sqlx::Error| Error::database(NAME, "reading the schema (SHOW CREATE)", e);
            let tracking = TrackingSql::all_tables(settings);
            let mut tables = Vec::new();
            let mut views = Vec::new();
            for row in sqlx::query(TABLES).fetch_all(self).await.map_err(err)? {
                let name = text(&row, 0).map_err(err)?;
                if tracking.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
                    continue;
                }
                match text(&row, 1).map_err(err)?.as_str() {
                    "VIEW" => views.push(name),
                    _ => tables.push(name),
                }
            }
            let mut parents: Vec<(String, String)> = Vec::new();
            for row in sqlx::query(REFERENCES).fetch_all(self).await.map_err(err)? {
                parents.push((text(&row, 0).map_err(err)?, text(&row, 1).map_err(err)?));
            }
            let mut statements = Vec::new();
            for table in in_order(tables, |table, other| {
                parents
                    .iter()
                    .any(|(child, parent)| child == table && parent == other && child != parent)
            }) {
                let show = format!("SHOW CREATE TABLE {}", quoted(&table));
                statements.push(without_counter(&self.show(&show, 1).await?));
            }
            let mut view_texts = Vec::new();
            for view in &views {
                let show = format!("SHOW CREATE VIEW {}", quoted(view));
                view_texts.push((view.clone(), without_definer(&self.show(&show, 1).await?)));
            }
            let ordered = in_order(views, |view, other| {
                view_texts
                    .iter()
                    .any(|(name, text)| name == view && view != other && text.contains(&quoted(other)))
            });
            for view in ordered {
                if let Some((_, text)) = view_texts.iter().find(|(name, _)| *name == view) {
                    statements.push(text.clone());
                }
            }
            for row in sqlx::query(ROUTINES).fetch_all(self).await.map_err(err)? {
                let kind = text(&row, 0).map_err(err)?;
                let name = text(&row, 1).map_err(err)?;
                let show = format!("SHOW CREATE {kind} {}", quoted(&name));
                statements.push(without_definer(&self.show(&show, 2).await?));
            }
            for row in sqlx::query(TRIGGERS).fetch_all(self).await.map_err(err)? {
                let show = format!("SHOW CREATE TRIGGER {}", quoted(&text(&row, 0).map_err(err)?));
                statements.push(without_definer(&self.show(&show, 2).await?));
            }
            Ok(statements.iter().map(|s| format!("{};\n\n", s.trim_end())).collect())
        })
    }
}

trait Show {
    /// Column `column` of the one row `statement` returns.
    async fn show(&self, statement: &str, column: usize) -> Result<String, Error>;
}

impl Show for MySqlPool {
    async fn show(&self, statement: &str, column: usize) -> Result<String, Error> {
        let row = sqlx::query(assert_sql_safe!(statement.to_string()))
            .fetch_one(self)
            .await
            .map_err(|e| Error::database(NAME, format!("reading the schema ({statement})"), e))?;
        text(&row, column).map_err(|e| Error::database(NAME, format!("reading the schema ({statement})"), e))
    }
}

/// `names` so that each comes after those it `needs` (kept in their order
/// otherwise); a cycle keeps the rest in their order.
fn in_order(mut names: Vec<String>, needs: impl Fn(&str, &str) -> bool) -> Vec<String> {
    let mut ordered = Vec::with_capacity(names.len());
    while !names.is_empty() {
        let ready = names
            .iter()
            .position(|name| !names.iter().any(|other| other != name && needs(name, other)))
            .unwrap_or(0);
        ordered.push(names.remove(ready));
    }
    ordered
}

/// `SHOW CREATE TABLE` without the table's `AUTO_INCREMENT=N` counter.
fn without_counter(create: &str) -> String {
    let mut out = String::with_capacity(create.len());
    let mut rest = create;
    while let Some(at) = rest.find(" AUTO_INCREMENT=") {
        out.push_str(&rest[..at]);
        let after = &rest[at + " AUTO_INCREMENT=".len()..];
        rest = after.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

/// A `CREATE ... DEFINER=`user`@`host` ...` without its definer (and a
/// view's `SQL SECURITY DEFINER`, the default): the baseline runs as
/// whoever migrates.
fn without_definer(create: &str) -> String {
    let Some(at) = create.find("DEFINER=") else {
        return create.to_string();
    };
    let after = &create[at + "DEFINER=".len()..];
    let end = after.find(' ').unwrap_or(after.len());
    format!("{}{}", &create[..at], after[end..].trim_start()).replace(" SQL SECURITY DEFINER", "")
}

#[cfg(test)]
mod tests {
    use super::{in_order, without_counter, without_definer};

    #[test]
    fn definers_and_counters_are_taken_out() {
        assert_eq!(
            without_definer("CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`%` SQL SECURITY DEFINER VIEW `v` AS select 1"),
            "CREATE ALGORITHM=UNDEFINED VIEW `v` AS select 1"
        );
        assert_eq!(
            without_counter(
                "CREATE TABLE `t` (\n  `id` int\n) ENGINE=InnoDB AUTO_INCREMENT=42 DEFAULT CHARSET=utf8mb4"
            ),
            "CREATE TABLE `t` (\n  `id` int\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
        );
    }

    #[test]
    fn each_comes_after_what_it_needs() {
        let names = vec!["c".to_string(), "a".to_string(), "b".to_string()];
        let needs = |x: &str, y: &str| (x, y) == ("c", "b") || (x, y) == ("b", "a");
        assert_eq!(in_order(names, needs), ["a", "b", "c"]);
    }
}
