//! How many statements of a folder's up files `sqlparser` parses, per
//! dialect: the coverage a parser-based lint would have.
use sqlparser::dialect::{Dialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;
use std::collections::BTreeMap;
use std::time::Instant;

fn main() {
    let dir = std::env::args().nth(1).expect("folder");
    let which = std::env::args().nth(2).expect("postgres|mysql|sqlite");
    let (dialect, split): (Box<dyn Dialect>, core_branch::split::Dialect) = match which.as_str() {
        "postgres" => (Box::new(PostgreSqlDialect {}), core_branch::split::Dialect::Postgres),
        "mysql" => (Box::new(MySqlDialect {}), core_branch::split::Dialect::MySql),
        _ => (Box::new(SQLiteDialect {}), core_branch::split::Dialect::Sqlite),
    };
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).filter(|p| p.to_string_lossy().ends_with(".up.sql")).collect();
    names.sort();
    let (mut total, mut ok) = (0, 0);
    let mut failed: BTreeMap<String, usize> = BTreeMap::new();
    let start = Instant::now();
    for path in &names {
        let text = std::fs::read_to_string(path).unwrap();
        for statement in core_branch::split::split(&text, split) {
            total += 1;
            match Parser::parse_sql(&*dialect, statement.text) {
                Ok(_) => ok += 1,
                Err(_) => {
                    let head: String = statement.text.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
                    *failed.entry(head.to_uppercase()).or_default() += 1;
                }
            }
        }
    }
    let elapsed = start.elapsed();
    println!("{which}: {ok}/{total} statements parsed ({:.1} %) in {:.1} ms", 100.0 * ok as f64 / total as f64, elapsed.as_secs_f64() * 1e3);
    let mut top: Vec<_> = failed.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1));
    for (head, n) in top.iter().take(8) {
        println!("  {n:4} not parsed: {head} ...");
    }
}
