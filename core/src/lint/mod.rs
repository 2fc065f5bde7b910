//! Dangerous changes: statements that are valid and still take production
//! down, because they lock or rewrite a large table, or because the binary
//! still running during a deploy reads what they remove or rename.
//!
//! A folder does not say which database it is for, so the lint is asked for
//! one ([`Dialect`]: `Postgres`, `MySql`, `Sqlite`, or `Cypher` for Neo4j)
//! and applies that database's rules ([`rules`]) to every up file: a down
//! file reverts its up file, and dropping what the up file created is what
//! it is for. Each rule has a stable name, a why and a do-this-instead
//! ([`LintRule`]); a [`Finding`] names the file, the line and the rule.
//!
//! What a statement does to a table created earlier in the same file is not
//! flagged: nothing reads that table yet, and it holds no rows. At run
//! time, where the applied migrations are known ([`lint_deploy`]), the same
//! holds for a table that an earlier migration of the same deploy creates. A file that
//! means to break a rule says so in its header, with the reason,
//! `-- migrate:allow <rule> <reason>` (`// migrate:allow` in Cypher); the
//! folder check refuses an unknown rule name or a missing reason
//! (`check_allows`).
//!
//! The rules read tokens, not a full parse: the statement splitter's tokens,
//! from the first word of each statement, with parentheses counted so that a
//! column's definition is not read as an action of the `ALTER TABLE`.
//!
//! - `rules`: the catalogue, with every rule's why and fix;
//! - `sql`: the SQL rules, one reading per statement;
//! - `cypher`: the Neo4j rules.

mod cypher;
mod finding;
mod report;
mod rules;
mod sql;
#[cfg(test)]
mod tests;

pub use crate::split::Dialect;
pub use finding::Finding;
pub use report::{json, text};
pub use rules::{rule, rules, LintRule, RULES};

use crate::{parse_header, Folder, Language, Migration, Problem, Rule, ScannedFile};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// The findings of a checked folder for one database, in file order: every
/// up file's statements against that database's rules, less what each
/// file's `migrate:allow` lines permit. Repeatable files (views, functions
/// replaced whole) and Rust code migrations are not read.
pub fn lint(folder: &Folder, dialect: Dialect) -> Vec<Finding> {
    let files = folder.migrations.iter().filter(|m| !m.code).map(|m| {
        (
            m.version,
            m.up.file_name.as_str(),
            m.up.path.clone(),
            m.up.text.as_str(),
        )
    });
    lint_files(files, dialect, |_| false)
}

/// [`lint`] over the migrations a binary embeds: the same files, the same
/// findings as the build's.
pub fn lint_embedded(migrations: &[Migration], dialect: Dialect) -> Vec<Finding> {
    lint_files(embedded_files(migrations), dialect, |_| false)
}

/// [`lint_embedded`] as a deploy onto a database that has applied
/// `applied` runs them (what `migrate lint` reads): the pending migrations
/// run one after the other, so a table one of them creates is, for the
/// later ones too, a table that nothing reads and that holds no rows, and
/// what they do to it is not flagged. An applied migration's findings are
/// the build's.
pub fn lint_deploy(migrations: &[Migration], dialect: Dialect, applied: &[i64]) -> Vec<Finding> {
    lint_files(embedded_files(migrations), dialect, |version| {
        !applied.contains(&version)
    })
}

/// The up files a binary embeds as (version, name, path, text); a code
/// migration embeds no text, and a repeatable file is not read.
fn embedded_files(migrations: &[Migration]) -> impl Iterator<Item = (i64, &str, PathBuf, &str)> {
    migrations
        .iter()
        .filter(|m| m.version > 0 && !m.up.text.is_empty())
        .map(|m| (m.version, m.up.file, PathBuf::from(m.up.file), m.up.text))
}

/// The findings of up files given in version order as (version, name,
/// path, text). The tables created by the files `pending` says are one
/// deploy's carry over to the next such file.
fn lint_files<'a>(
    files: impl Iterator<Item = (i64, &'a str, PathBuf, &'a str)>,
    dialect: Dialect,
    pending: impl Fn(i64) -> bool,
) -> Vec<Finding> {
    let language = match dialect {
        Dialect::Cypher => Language::Cypher,
        _ => Language::Sql,
    };
    let mut findings = Vec::new();
    // Neo4j's rule on constraints needs what earlier migrations wrote.
    let mut labels = cypher::Labels::default();
    // The tables the pending files so far created.
    let mut created_pending = BTreeSet::new();
    for (version, file, path, text) in files {
        // A folder that passed the scan has a readable header.
        let header = parse_header(text, language).unwrap_or_default();
        let found = match dialect {
            Dialect::Cypher => cypher::lint(text, &header, &mut labels),
            sql if pending(version) => sql::lint(text, sql, &mut created_pending),
            sql => sql::lint(text, sql, &mut BTreeSet::new()),
        };
        findings.extend(
            found
                .into_iter()
                .filter(|(_, rule, _)| !header.allows.iter().any(|a| a.rule == rule.name))
                .map(|(line, rule, statement)| Finding {
                    rule,
                    version,
                    file: file.to_string(),
                    path: path.clone(),
                    line,
                    statement,
                }),
        );
    }
    findings
}

/// The `migrate:allow` lines of one file checked: each names a rule of the
/// catalogue and gives a reason. Any database's rule is accepted, since a
/// folder does not say which database it is for.
pub(crate) fn check_allows(file: &ScannedFile, problems: &mut Vec<Problem>) {
    for allow in &file.header.allows {
        let marker = if file.file_name.ends_with(".sql") { "--" } else { "//" };
        let message = if rule(&allow.rule).is_none() {
            let known: Vec<&str> = RULES.iter().map(|r| r.name).collect();
            format!(
                "`{}` line {}: `migrate:allow {}` names no lint rule; the rules are `{}`",
                file.file_name,
                allow.line,
                allow.rule,
                known.join("`, `")
            )
        } else if allow.reason.is_empty() {
            format!(
                "`{}` line {}: `migrate:allow {}` gives no reason; write why the change is safe after the rule's \
                 name, e.g. `{marker} migrate:allow {} release 2.3 no longer uses what this changes`",
                file.file_name, allow.line, allow.rule, allow.rule
            )
        } else {
            continue;
        };
        problems.push(Problem::new(Rule::UnknownDirective, &file.path, message));
    }
}
