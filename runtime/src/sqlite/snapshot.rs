//! SQLite: every object of `sqlite_master` with its `CREATE` text (tables,
//! indexes, views, triggers), plus each table's columns from
//! `pragma_table_xinfo`, so that a diff names the column, not only its table.
//! Table constraints (`CONSTRAINT x CHECK ...`, `UNIQUE (...)`, ...) are
//! also listed on their own, named by their name or else by their text.
//! Objects SQLite makes itself (`sqlite_*`, automatic indexes) are left out:
//! the constraints they serve are in the table's text.

use super::errors::NAME;
use crate::core::split::Dialect;
use crate::snapshot::SchemaSnapshot;
use crate::sql::schema_record::sqlx_snapshot_impl;
use crate::sql::tracking::TrackingSql;
use crate::{Error, Settings};
use sqlx::sqlite::SqlitePool;
use sqlx::Row;

const OBJECTS: &str = "SELECT type, name, tbl_name, sql FROM sqlite_master \
     WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";

const COLUMNS: &str = "SELECT m.name AS tbl, p.name AS col, p.type AS type, p.\"notnull\" AS not_null, \
     p.dflt_value AS dflt, p.pk AS pk, p.hidden AS hidden \
     FROM sqlite_master m JOIN pragma_table_xinfo(m.name) p \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";

sqlx_snapshot_impl!(SqlitePool, snapshot, Dialect::Sqlite, NAME);

/// The schema of the pool's database.
async fn snapshot(pool: &SqlitePool, settings: &Settings) -> Result<SchemaSnapshot, Error> {
    settings.check()?;
    let err = |e: sqlx::Error| Error::database(NAME, "reading the schema (sqlite_master)", e);
    let tracking = TrackingSql::all_tables(settings);
    let is_tracking = |table: &str| tracking.iter().any(|t| t.eq_ignore_ascii_case(table));
    let mut snapshot = SchemaSnapshot::new();
    for row in sqlx::query(OBJECTS).fetch_all(pool).await.map_err(err)? {
        let table: String = row.try_get("tbl_name").map_err(err)?;
        if is_tracking(&table) {
            continue;
        }
        let kind: String = row.try_get("type").map_err(err)?;
        let name: String = row.try_get("name").map_err(err)?;
        let sql: String = row.try_get("sql").map_err(err)?;
        if kind == "table" {
            for constraint in table_constraints(&sql) {
                let constraint = crate::snapshot::collapse_whitespace(constraint);
                let key = constraint_name(&constraint).unwrap_or(&constraint);
                snapshot.insert("constraint", &format!("{name}.{key}"), &constraint);
            }
        }
        snapshot.insert(&kind, &name, &sql);
    }
    for row in sqlx::query(COLUMNS).fetch_all(pool).await.map_err(err)? {
        let table: String = row.try_get("tbl").map_err(err)?;
        if is_tracking(&table) {
            continue;
        }
        let column: String = row.try_get("col").map_err(err)?;
        let mut definition: String = row.try_get("type").map_err(err)?;
        if row.try_get::<i64, _>("not_null").map_err(err)? != 0 {
            definition.push_str(" NOT NULL");
        }
        if let Some(default) = row.try_get::<Option<String>, _>("dflt").map_err(err)? {
            definition.push_str(&format!(" DEFAULT {default}"));
        }
        let pk: i64 = row.try_get("pk").map_err(err)?;
        if pk > 0 {
            definition.push_str(&format!(" PRIMARY KEY({pk})"));
        }
        if row.try_get::<i64, _>("hidden").map_err(err)? != 0 {
            definition.push_str(" GENERATED");
        }
        snapshot.insert("column", &format!("{table}.{column}"), &definition);
    }
    Ok(snapshot)
}

/// The table constraints of a `CREATE TABLE` text: the parts of its column
/// list, split at top-level commas, that start with a constraint keyword.
fn table_constraints(create: &str) -> Vec<&str> {
    let Some(open) = create.find('(') else {
        return Vec::new();
    };
    let mut parts = Vec::new();
    let (mut depth, mut start, mut quote) = (0usize, open + 1, None::<char>);
    for (at, c) in create.char_indices().skip_while(|(at, _)| *at <= open) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '[') => quote = Some(']'),
            (None, '(') => depth += 1,
            (None, ')') if depth == 0 => {
                parts.push(&create[start..at]);
                break;
            }
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(&create[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    parts
        .into_iter()
        .map(str::trim)
        .filter(|part| {
            let word = part.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
            ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"].contains(&word.as_str())
        })
        .collect()
}

/// `x` of `CONSTRAINT x ...`, unquoted.
fn constraint_name(constraint: &str) -> Option<&str> {
    let mut words = constraint.split_whitespace();
    if !words.next()?.eq_ignore_ascii_case("CONSTRAINT") {
        return None;
    }
    Some(
        words
            .next()?
            .trim_matches(|c| matches!(c, '"' | '`' | '[' | ']' | '\'')),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_constraints_are_the_top_level_constraint_parts() {
        let create = "CREATE TABLE t (id INTEGER PRIMARY KEY, q REAL CHECK (q >= 0), \"a,b\" TEXT, \
                      UNIQUE (id, q), CONSTRAINT t_q CHECK (q IN (1, 2)), FOREIGN KEY (id) REFERENCES u (id))";
        assert_eq!(
            table_constraints(create),
            [
                "UNIQUE (id, q)",
                "CONSTRAINT t_q CHECK (q IN (1, 2))",
                "FOREIGN KEY (id) REFERENCES u (id)"
            ]
        );
        assert_eq!(constraint_name("CONSTRAINT \"t_q\" CHECK (q)"), Some("t_q"));
        assert_eq!(constraint_name("UNIQUE (id)"), None);
    }
}
