//! Phase 4 of a scan: every complete pair read, and the contents of its two
//! files checked against each other and against the rules of the language.

use super::name::{shown, Located};
use super::read::read_file;
use super::versions::Pair;
use crate::split::{is_cypher_schema, split, Dialect, Statement};
use crate::{Language, Problem, Rule, ScannedFile, ScannedMigration};
use std::collections::BTreeMap;

/// Every complete pair read and its contents checked; half pairs and
/// mismatched names are reported.
pub(super) fn read_and_check(
    pairs: BTreeMap<i64, Pair>,
    language: Language,
    problems: &mut Vec<Problem>,
) -> Vec<ScannedMigration> {
    let mut migrations = Vec::new();
    for (version, pair) in pairs {
        match pair {
            (Some(code), down) if code.0.code => {
                if let Some(migration) = super::code::read_code(version, code, down, problems) {
                    migrations.push(migration);
                }
            }
            (Some(up), Some(down)) => {
                if let Some(migration) = read_pair(version, up, down, language, problems) {
                    migrations.push(migration);
                }
            }
            (Some((up, path)), None) => {
                let file = shown(&path, &up);
                let expected = format!("{}_{}.down.{}", up.version_text, up.name, up.extension);
                problems.push(Problem::new(
                    Rule::MissingDown,
                    &path,
                    format!("`{file}` has no `{expected}`; every up migration needs a down migration (write `-- migrate:irreversible` in it if it cannot be reverted)"),
                ));
            }
            (None, Some((down, path))) => {
                let file = shown(&path, &down);
                let expected = format!("{}_{}.up.{}", down.version_text, down.name, down.extension);
                problems.push(Problem::new(
                    Rule::MissingUp,
                    &path,
                    format!("`{file}` has no `{expected}`; a down migration needs the up migration it reverts"),
                ));
            }
            (None, None) => {}
        }
    }
    migrations
}

/// One version's up and down file, read and checked, if both have the same
/// name and can be read.
fn read_pair(
    version: i64,
    (up, up_path): Located,
    (down, down_path): Located,
    language: Language,
    problems: &mut Vec<Problem>,
) -> Option<ScannedMigration> {
    if up.name != down.name {
        let up_file = shown(&up_path, &up);
        let down_file = shown(&down_path, &down);
        problems.push(Problem::new(
            Rule::DuplicateVersion,
            &up_path,
            format!("`{up_file}` and `{down_file}` share the version {version} but not the name; an up file and its down file must have the same version and name"),
        ));
        return None;
    }
    let up_file = read_file(&up_path, language, problems);
    let down_file = read_file(&down_path, language, problems);
    let (up_file, down_file) = (up_file?, down_file?);
    check_contents(&up_file, &down_file, language, problems);
    Some(ScannedMigration {
        version,
        version_text: up.version_text,
        name: up.name,
        up: up_file,
        down: down_file,
        code: false,
    })
}

pub(super) fn check_contents(up: &ScannedFile, down: &ScannedFile, language: Language, problems: &mut Vec<Problem>) {
    crate::batch::check(up, down, language, problems);
    crate::timeout::check([up, down], problems);
    check_directives_against_statements(up, down, language, problems);
    crate::lint::check_allows(up, problems);
    check_no_allow_in_down(down, problems);
    if language == Language::Chroma {
        crate::chroma::check(up, down, problems);
    } else if language == Language::Cypher {
        for file in [up, down] {
            check_cypher_kinds(file, problems);
        }
    } else {
        for file in [up, down] {
            crate::refusal::check_sql_file(file, problems);
        }
    }
}

/// The lint reads up files only, so an allow in a down file would permit
/// nothing: refused rather than silently ignored.
fn check_no_allow_in_down(down: &ScannedFile, problems: &mut Vec<Problem>) {
    if let Some(allow) = down.header.allows.first() {
        problems.push(Problem::new(
            Rule::UnknownDirective,
            &down.path,
            format!(
                "`{}` line {}: `migrate:allow` belongs in the up file: the lint reads up files only \
                 (a down file reverts what its up file did)",
                down.file_name, allow.line
            ),
        ));
    }
}

/// What the headers say (`irreversible`, `noop`) against whether each file
/// holds statements: an up file needs some, a down file too unless it says
/// why not, and a file that says it holds none must hold none.
fn check_directives_against_statements(
    up: &ScannedFile,
    down: &ScannedFile,
    language: Language,
    problems: &mut Vec<Problem>,
) {
    let dialect = match language {
        // Emptiness does not depend on the SQL dialect's finer points.
        Language::Sql => Dialect::Postgres,
        Language::Cypher => Dialect::Cypher,
        Language::Chroma => Dialect::Toml,
    };
    if up.header.irreversible {
        problems.push(Problem::new(
            Rule::UnknownDirective,
            &up.path,
            format!(
                "`{}`: `migrate:irreversible` belongs in the down file `{}`, not in the up file",
                up.file_name, down.file_name
            ),
        ));
    }
    if split(&up.text, dialect).is_empty() && !up.header.noop {
        problems.push(Problem::new(
            Rule::EmptyFile,
            &up.path,
            format!(
                "`{}` is empty: an up migration needs at least one statement",
                up.file_name
            ),
        ));
    }
    for file in [up, down] {
        if file.header.noop && !split(&file.text, dialect).is_empty() {
            problems.push(Problem::new(
                Rule::EmptyFile,
                &file.path,
                format!(
                    "`{}` says `migrate:noop` but holds statements; remove the statements, or the directive",
                    file.file_name
                ),
            ));
        }
    }
    check_down_statements(up, down, language, dialect, problems);
}

/// A down file holds the statements that revert its up file, or says
/// `migrate:irreversible` and holds none. The down of a no-op has nothing to
/// revert.
fn check_down_statements(
    up: &ScannedFile,
    down: &ScannedFile,
    language: Language,
    dialect: Dialect,
    problems: &mut Vec<Problem>,
) {
    let marker = language.comment();
    let down_empty = split(&down.text, dialect).is_empty();
    if down_empty && !down.header.irreversible && !down.header.noop && !up.header.noop {
        problems.push(Problem::new(
            Rule::EmptyFile,
            &down.path,
            format!("`{}` is empty: write the statements that revert `{}`, or `{marker} migrate:irreversible` if it cannot be reverted", down.file_name, up.file_name),
        ));
    }
    if !down_empty && down.header.irreversible {
        problems.push(Problem::new(
            Rule::EmptyFile,
            &down.path,
            format!(
                "`{}` says `migrate:irreversible` but holds statements; remove the statements, or the directive if they do revert the migration",
                down.file_name
            ),
        ));
    }
}

/// Neo4j runs schema commands and data writes in separate transactions, so a
/// migration is one or the other: a file mixing them could not be applied
/// atomically, and is refused with the first statement of each kind. A file
/// that says `migrate:no-transaction` gave up atomicity already (each
/// statement commits on its own, between a dirty mark and the record), so it
/// may mix them, as projects' own per-statement runners allow.
fn check_cypher_kinds(file: &ScannedFile, problems: &mut Vec<Problem>) {
    if file.header.no_transaction {
        return;
    }
    let statements = split(&file.text, Dialect::Cypher);
    let schema = statements.iter().find(|s| is_cypher_schema(s.text));
    let data = statements.iter().find(|s| !is_cypher_schema(s.text));
    if let (Some(schema), Some(data)) = (schema, data) {
        problems.push(Problem::new(
            Rule::MixedSchemaAndData,
            &file.path,
            format!(
                "`{}` mixes schema and data statements, which Neo4j cannot run in one transaction: \
                 line {} changes the schema (`{}`), line {} reads or writes data (`{}`); \
                 put constraints and indexes in one migration and data changes in another, \
                 or add `// migrate:no-transaction` at the top of the file to run each statement \
                 in its own transaction",
                file.file_name,
                schema.line,
                first_line(schema),
                data.line,
                first_line(data)
            ),
        ));
    }
}

/// The start of a statement, for a message.
fn first_line(statement: &Statement<'_>) -> String {
    let line = statement.text.lines().next().unwrap_or_default().trim();
    match line.char_indices().nth(60) {
        Some((end, _)) => format!("{} ...", &line[..end]),
        None if line.len() < statement.text.len() => format!("{line} ..."),
        None => line.to_string(),
    }
}
