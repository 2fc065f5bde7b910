use crate::directive::parse_header;
use crate::split::{is_cypher_schema, split, Dialect, Statement};
use crate::{checksum, Direction, Folder, Language, Problem, Rule, ScannedFile, ScannedMigration, ScannedRepeatable};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A file name split into its parts: `003_add_index.up.sql`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileName {
    pub version: i64,
    /// The version as written, to keep the folder's zero padding.
    pub version_text: String,
    pub name: String,
    pub direction: Direction,
    pub language: Language,
    pub extension: String,
}

/// Parses `<version>_<name>.<up|down>.<sql|cypher|cql>`, or says what is wrong.
pub fn parse_file_name(file: &str) -> Result<FileName, (Rule, String)> {
    let format = "expected `<version>_<name>.up.sql` or `<version>_<name>.down.sql` (or `.cypher`/`.cql`) \
                  with a positive version and a name of lowercase letters, digits and underscores, \
                  such as `001_create_users.up.sql`";
    let bad = |why: &str| {
        Err((
            Rule::BadFileName,
            format!("`{file}` is not a migration file name: {why}; {format}"),
        ))
    };
    let mut parts = file.rsplitn(3, '.');
    let (Some(extension), Some(direction), Some(stem)) = (parts.next(), parts.next(), parts.next()) else {
        // `001_a.sql` has an extension but no direction; `notes` has neither.
        return if file.contains('.') {
            bad("it lacks `.up` or `.down` before the extension")
        } else {
            bad("it lacks the `.up.sql`/`.down.sql` ending")
        };
    };
    let language = match extension {
        "sql" => Language::Sql,
        "cypher" | "cql" => Language::Cypher,
        _ => return bad(&format!("unknown extension `.{extension}`")),
    };
    let direction = match direction {
        "up" => Direction::Up,
        "down" => Direction::Down,
        _ => return bad("it lacks `.up` or `.down` before the extension"),
    };
    let Some((version_text, name)) = stem.split_once('_') else {
        return bad("it has no `_` between version and name");
    };
    if version_text.is_empty() || !version_text.bytes().all(|b| b.is_ascii_digit()) {
        return bad("it does not start with a version number");
    }
    if name.is_empty() {
        return bad("the name after the version is empty");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        return bad(&format!("the name `{name}` contains `{c}`"));
    }
    let version = match version_text.parse::<i64>() {
        Ok(version) => version,
        Err(_) => {
            return Err((
                Rule::VersionTooLarge,
                format!(
                    "`{file}`: the version {version_text} does not fit in a 64-bit signed integer (at most {}); \
                     use a sequence number or a timestamp such as `20261123093000`",
                    i64::MAX
                ),
            ))
        }
    };
    if version == 0 {
        return bad("the version must be a positive number, not 0");
    }
    Ok(FileName {
        version,
        version_text: version_text.to_string(),
        name: name.to_string(),
        direction,
        language,
        extension: extension.to_string(),
    })
}

/// A parsed file name and where the file is.
type Located = (FileName, PathBuf);

/// The file name ending that marks a repeatable migration.
pub const REPEATABLE: &str = ".repeatable.";

/// The tracking-table key of the repeatable migration `name`: a negative
/// number derived from the name alone (so adding or removing another
/// repeatable moves no key), below every version a file can have.
pub fn repeatable_key(name: &str) -> i64 {
    let digest = crate::checksum(&format!("repeatable:{name}"));
    let mut high = [0u8; 8];
    high.copy_from_slice(&digest.0[..8]);
    -1 - (u64::from_be_bytes(high) >> 1) as i64
}

/// Reads a migration folder and checks every rule. Returns every problem
/// found, not only the first, in a stable order.
pub fn scan(dir: &Path) -> Result<Folder, Vec<Problem>> {
    scan_as(dir, &dir.display().to_string())
}

/// [`scan`], naming the folder `label` in messages: the macro shows the path
/// as the user wrote it, not the absolute path of one machine.
///
/// Four phases, each adding to the same list of problems: list the folder,
/// group its files by version, pair each up file with its down file, then
/// read and check every pair.
pub fn scan_as(dir: &Path, label: &str) -> Result<Folder, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut entries = list(dir, label, &mut problems)?;
    let repeatable_entries = take_repeatables(&mut entries);
    let (files, language) = group_by_version(dir, label, &entries, &mut problems);
    let pairs = pair(files, &mut problems);
    let migrations = read_and_check(pairs, language, &mut problems);
    let repeatables = read_repeatables(&repeatable_entries, language, &mut problems);
    if problems.is_empty() && migrations.is_empty() {
        problems.push(Problem::new(
            Rule::BadFolder,
            dir,
            format!("the migration folder `{label}` holds no migration; add a pair such as `001_create_users.up.sql` and `001_create_users.down.sql`"),
        ));
    }
    if problems.is_empty() {
        Ok(Folder {
            path: dir.to_path_buf(),
            language,
            migrations,
            repeatables,
        })
    } else {
        problems.sort_by(|a, b| a.path.cmp(&b.path).then(a.rule.cmp(&b.rule)));
        Err(problems)
    }
}

/// One entry of the folder: its name, path, and whether it is a folder.
type Entry = (String, PathBuf, bool);

/// Phase 1: the folder's entries, sorted by name, without dot-files. A folder
/// that cannot be listed at all is the only problem reported.
fn list(dir: &Path, label: &str, problems: &mut Vec<Problem>) -> Result<Vec<Entry>, Vec<Problem>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            let message = if dir.is_file() {
                format!("the migration folder `{label}` is a file, not a folder; name the folder that holds the migration files")
            } else if !dir.exists() {
                format!("the migration folder `{label}` does not exist")
            } else {
                format!("the migration folder `{label}` cannot be read: {err}")
            };
            return Err(vec![Problem::new(Rule::BadFolder, dir, message)]);
        }
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                problems.push(Problem::new(
                    Rule::BadFolder,
                    dir,
                    format!("the migration folder `{label}` cannot be read: {err}"),
                ));
                continue;
            }
        };
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            let lossy = entry.file_name().to_string_lossy().into_owned();
            problems.push(Problem::new(
                Rule::BadFileName,
                &path,
                format!("`{lossy}` in `{label}`: the file name is not UTF-8"),
            ));
            continue;
        };
        // Editor and VCS leftovers (.gitkeep, .DS_Store, .swp) are not migrations.
        if name.starts_with('.') {
            continue;
        }
        let is_dir = path.is_dir();
        names.push((name, path, is_dir));
    }
    names.sort();
    Ok(names)
}

/// The `<name>.repeatable.<ext>` entries, taken out of `entries`.
fn take_repeatables(entries: &mut Vec<Entry>) -> Vec<Entry> {
    let (repeatable, versioned) = entries
        .drain(..)
        .partition(|(name, _, is_dir)| !is_dir && name.contains(REPEATABLE));
    *entries = versioned;
    repeatable
}

/// Reads and checks the repeatable files: a name of lowercase letters,
/// digits and underscores, the folder's SQL (Cypher has no `CREATE OR
/// REPLACE` for what a repeatable file would hold), and the contents rules
/// of an up file run in a transaction.
fn read_repeatables(entries: &[Entry], language: Language, problems: &mut Vec<Problem>) -> Vec<ScannedRepeatable> {
    let mut repeatables: Vec<ScannedRepeatable> = Vec::new();
    for (file, path, _) in entries {
        let Some((name, extension)) = file.split_once(REPEATABLE) else {
            continue;
        };
        let valid_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid_name || extension != "sql" {
            problems.push(Problem::new(
                Rule::BadFileName,
                path,
                format!(
                    "`{file}` is not a repeatable migration file name: expected `<name>.repeatable.sql`, with a name of \
                     lowercase letters, digits and underscores and no version, such as `active_users_view.repeatable.sql`{}",
                    if matches!(extension, "cypher" | "cql") {
                        " (repeatable migrations are SQL only: Neo4j has no CREATE OR REPLACE for its schema, and its procedures are plugins)"
                    } else {
                        ""
                    }
                ),
            ));
            continue;
        }
        if language != Language::Sql {
            problems.push(Problem::new(
                Rule::MixedLanguages,
                path,
                format!("`{file}` is SQL in a folder of Cypher migrations; keep one folder per database"),
            ));
            continue;
        }
        let key = repeatable_key(name);
        if let Some(other) = repeatables.iter().find(|r| r.key == key) {
            problems.push(Problem::new(
                Rule::DuplicateVersion,
                path,
                format!(
                    "`{file}` and `{}` have the same tracking key; rename one of them",
                    other.file.file_name
                ),
            ));
            continue;
        }
        let Some(scanned) = read_file(path, language, problems) else {
            continue;
        };
        if split(&scanned.text, Dialect::Postgres).is_empty() {
            problems.push(Problem::new(
                Rule::EmptyFile,
                path,
                format!("`{file}` is empty: a repeatable migration needs at least one statement"),
            ));
        }
        if scanned.header.no_transaction || scanned.header.irreversible || scanned.header.noop {
            problems.push(Problem::new(
                Rule::UnknownDirective,
                path,
                format!(
                    "`{file}`: a repeatable migration runs in one transaction with its record and has no down file; \
                     `migrate:no-transaction`, `migrate:irreversible` and `migrate:noop` do not apply to it"
                ),
            ));
        }
        crate::refusal::check_sql_file(&scanned, problems);
        repeatables.push(ScannedRepeatable {
            key,
            name: name.to_string(),
            file: scanned,
        });
    }
    repeatables.sort_by(|a, b| a.name.cmp(&b.name));
    repeatables
}

/// Files by version and direction; more than one in a slot is a duplicate.
type ByVersion = BTreeMap<(i64, Direction), Vec<Located>>;

/// Phase 2: parse every name and group the files by version and direction;
/// also the folder's one language (SQL when it has no migration file).
fn group_by_version(dir: &Path, label: &str, entries: &[Entry], problems: &mut Vec<Problem>) -> (ByVersion, Language) {
    let mut files = ByVersion::new();
    let mut languages: BTreeMap<Language, String> = BTreeMap::new();
    for (name, path, is_dir) in entries {
        if *is_dir {
            problems.push(Problem::new(
                Rule::BadFileName,
                path,
                format!("`{name}` in `{label}` is a subfolder; a migration folder holds only migration files, so move it elsewhere"),
            ));
            continue;
        }
        match parse_file_name(name) {
            Ok(parsed) => {
                languages.entry(parsed.language).or_insert_with(|| name.clone());
                files
                    .entry((parsed.version, parsed.direction))
                    .or_default()
                    .push((parsed, path.clone()));
            }
            Err((rule, message)) => problems.push(Problem::new(rule, path, message)),
        }
    }
    if languages.len() > 1 {
        let examples: Vec<String> = languages.values().map(|f| format!("`{f}`")).collect();
        problems.push(Problem::new(
            Rule::MixedLanguages,
            dir,
            format!(
                "`{label}` mixes SQL and Cypher migrations ({}); keep one folder per database",
                examples.join(" and ")
            ),
        ));
    }
    let language = languages.keys().next().copied().unwrap_or(Language::Sql);
    (files, language)
}

/// The up and down file of one version, either possibly missing.
type Pair = (Option<Located>, Option<Located>);

/// Phase 3: one up and one down slot per version; duplicates are reported
/// and left out.
fn pair(files: ByVersion, problems: &mut Vec<Problem>) -> BTreeMap<i64, Pair> {
    let mut versions: BTreeMap<i64, Pair> = BTreeMap::new();
    for ((version, direction), mut same) in files {
        if same.len() > 1 {
            let listed: Vec<String> = same.iter().map(|(f, p)| format!("`{}`", file_name(p, f))).collect();
            // `001` and `1` look different but are one version: say why they clash.
            let padding = if same.iter().any(|(f, _)| f.version_text != same[0].0.version_text) {
                " (leading zeros do not count)"
            } else {
                ""
            };
            problems.push(Problem::new(
                Rule::DuplicateVersion,
                &same[0].1,
                format!(
                    "{} share the version {version}{padding}; each version must be unique, so renumber one of them",
                    listed.join(" and ")
                ),
            ));
            continue;
        }
        let slot = versions.entry(version).or_default();
        match direction {
            Direction::Up => slot.0 = same.pop(),
            Direction::Down => slot.1 = same.pop(),
        }
    }
    versions
}

/// Phase 4: every complete pair read and its contents checked; half pairs
/// and mismatched names are reported.
fn read_and_check(
    pairs: BTreeMap<i64, Pair>,
    language: Language,
    problems: &mut Vec<Problem>,
) -> Vec<ScannedMigration> {
    let mut migrations = Vec::new();
    for (version, pair) in pairs {
        match pair {
            (Some((up, up_path)), Some((down, down_path))) => {
                if up.name != down.name {
                    let up_file = file_name(&up_path, &up);
                    let down_file = file_name(&down_path, &down);
                    problems.push(Problem::new(
                        Rule::DuplicateVersion,
                        &up_path,
                        format!("`{up_file}` and `{down_file}` share the version {version} but not the name; an up file and its down file must have the same version and name"),
                    ));
                    continue;
                }
                let up_file = read_file(&up_path, language, problems);
                let down_file = read_file(&down_path, language, problems);
                if let (Some(up_file), Some(down_file)) = (up_file, down_file) {
                    check_contents(&up_file, &down_file, language, problems);
                    migrations.push(ScannedMigration {
                        version,
                        version_text: up.version_text.clone(),
                        name: up.name.clone(),
                        up: up_file,
                        down: down_file,
                    });
                }
            }
            (Some((up, path)), None) => {
                let file = file_name(&path, &up);
                let expected = format!("{}_{}.down.{}", up.version_text, up.name, up.extension);
                problems.push(Problem::new(
                    Rule::MissingDown,
                    &path,
                    format!("`{file}` has no `{expected}`; every up migration needs a down migration (write `-- migrate:irreversible` in it if it cannot be reverted)"),
                ));
            }
            (None, Some((down, path))) => {
                let file = file_name(&path, &down);
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

fn file_name(path: &Path, parsed: &FileName) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}_{}", parsed.version_text, parsed.name))
}

fn read_file(path: &Path, language: Language, problems: &mut Vec<Problem>) -> Option<ScannedFile> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => {
            problems.push(Problem {
                rule: Rule::BadFolder,
                path: path.to_path_buf(),
                message: format!("`{name}` cannot be read: {err}"),
            });
            return None;
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let at = err.utf8_error().valid_up_to();
            let line = 1 + err.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count();
            problems.push(Problem {
                rule: Rule::NotUtf8,
                path: path.to_path_buf(),
                message: format!("`{name}` is not UTF-8 (invalid byte at offset {at}, line {line}); save it as UTF-8"),
            });
            return None;
        }
    };
    let header = match parse_header(&text, language) {
        Ok(header) => header,
        Err((line, directive)) => {
            let known = crate::directive::DIRECTIVES.join("`, `migrate:");
            problems.push(Problem {
                rule: Rule::UnknownDirective,
                path: path.to_path_buf(),
                message: format!("`{name}` line {line}: unknown directive `migrate:{directive}`; known directives are `migrate:{known}`"),
            });
            return None;
        }
    };
    Some(ScannedFile {
        file_name: name,
        path: path.to_path_buf(),
        checksum: checksum(&text),
        text,
        header,
    })
}

fn check_contents(up: &ScannedFile, down: &ScannedFile, language: Language, problems: &mut Vec<Problem>) {
    crate::batch::check(up, down, language, problems);
    let dialect = match language {
        // Emptiness does not depend on the SQL dialect's finer points.
        Language::Sql => Dialect::Postgres,
        Language::Cypher => Dialect::Cypher,
    };
    let mut push = |rule, file: &ScannedFile, message: String| {
        problems.push(Problem {
            rule,
            path: file.path.clone(),
            message,
        })
    };
    if up.header.irreversible {
        push(
            Rule::UnknownDirective,
            up,
            format!(
                "`{}`: `migrate:irreversible` belongs in the down file `{}`, not in the up file",
                up.file_name, down.file_name
            ),
        );
    }
    let up_empty = split(&up.text, dialect).is_empty();
    let marker = if language == Language::Sql { "--" } else { "//" };
    if up_empty && !up.header.noop {
        push(
            Rule::EmptyFile,
            up,
            format!(
                "`{}` is empty: an up migration needs at least one statement",
                up.file_name
            ),
        );
    }
    for file in [up, down] {
        if file.header.noop && !split(&file.text, dialect).is_empty() {
            push(
                Rule::EmptyFile,
                file,
                format!(
                    "`{}` says `migrate:noop` but holds statements; remove the statements, or the directive",
                    file.file_name
                ),
            );
        }
    }
    let down_empty = split(&down.text, dialect).is_empty();
    // The down of a no-op has nothing to revert.
    if down_empty && !down.header.irreversible && !down.header.noop && !up.header.noop {
        push(
            Rule::EmptyFile,
            down,
            format!("`{}` is empty: write the statements that revert `{}`, or `{marker} migrate:irreversible` if it cannot be reverted", down.file_name, up.file_name),
        );
    }
    if !down_empty && down.header.irreversible {
        push(
            Rule::EmptyFile,
            down,
            format!(
                "`{}` says `migrate:irreversible` but holds statements; remove the statements, or the directive if they do revert the migration",
                down.file_name
            ),
        );
    }
    if language == Language::Cypher {
        for file in [up, down] {
            check_cypher_kinds(file, &mut push);
        }
    } else {
        for file in [up, down] {
            crate::refusal::check_sql_file(file, problems);
        }
    }
}

/// Neo4j runs schema commands and data writes in separate transactions, so a
/// migration is one or the other: a file mixing them could not be applied
/// atomically, and is refused with the first statement of each kind.
fn check_cypher_kinds(file: &ScannedFile, push: &mut impl FnMut(Rule, &ScannedFile, String)) {
    let statements = split(&file.text, Dialect::Cypher);
    let schema = statements.iter().find(|s| is_cypher_schema(s.text));
    let data = statements.iter().find(|s| !is_cypher_schema(s.text));
    if let (Some(schema), Some(data)) = (schema, data) {
        push(
            Rule::MixedSchemaAndData,
            file,
            format!(
                "`{}` mixes schema and data statements, which Neo4j cannot run in one transaction: \
                 line {} changes the schema (`{}`), line {} reads or writes data (`{}`); \
                 put constraints and indexes in one migration and data changes in another",
                file.file_name,
                schema.line,
                first_line(schema),
                data.line,
                first_line(data)
            ),
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        let parsed = parse_file_name("003_add_index.up.sql").unwrap();
        assert_eq!(
            (parsed.version, parsed.name.as_str(), parsed.direction),
            (3, "add_index", Direction::Up)
        );
        assert_eq!(
            parse_file_name("20261123093000_x.down.cql").unwrap().language,
            Language::Cypher
        );
        for bad in [
            "add.up.sql",
            "001_Add.up.sql",
            "001_a.sql",
            "001_a.up.txt",
            "0_a.up.sql",
            "x1_a.up.sql",
            "001_.up.sql",
        ] {
            assert_eq!(parse_file_name(bad).unwrap_err().0, Rule::BadFileName, "{bad}");
        }
        assert_eq!(
            parse_file_name("99999999999999999999_a.up.sql").unwrap_err().0,
            Rule::VersionTooLarge
        );
    }
}

#[cfg(test)]
mod cypher_tests {
    use super::*;

    fn folder(name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("em-core-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (file, text) in files {
            std::fs::write(dir.join(file), text).unwrap();
        }
        dir
    }

    #[test]
    fn a_cypher_file_mixing_schema_and_data_is_refused() {
        let dir = folder(
            "mixed",
            &[
                (
                    "001_people.up.cypher",
                    "// description: people\nCREATE CONSTRAINT person_id IF NOT EXISTS FOR (p:Person) REQUIRE p.id IS UNIQUE;\n\
                     MERGE (:Person {id: 1});\n",
                ),
                ("001_people.down.cypher", "DROP CONSTRAINT person_id IF EXISTS;\n"),
                ("002_seed.up.cql", "MERGE (:Person {id: 2});\nMERGE (:Person {id: 3});\n"),
                ("002_seed.down.cql", "MATCH (p:Person) WHERE p.id IN [2, 3] DETACH DELETE p;\n"),
            ],
        );
        let problems = scan(&dir).unwrap_err();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].rule, Rule::MixedSchemaAndData);
        assert_eq!(
            problems[0].message,
            "`001_people.up.cypher` mixes schema and data statements, which Neo4j cannot run in one transaction: \
             line 2 changes the schema (`CREATE CONSTRAINT person_id IF NOT EXISTS FOR (p:Person) REQ ...`), \
             line 3 reads or writes data (`MERGE (:Person {id: 1})`); \
             put constraints and indexes in one migration and data changes in another"
        );
    }

    #[test]
    fn separate_schema_and_data_migrations_pass() {
        let dir = folder(
            "separate",
            &[
                (
                    "001_people.up.cypher",
                    "CREATE CONSTRAINT person_id IF NOT EXISTS FOR (p:Person) REQUIRE p.id IS UNIQUE;\n\
                     CREATE INDEX person_name IF NOT EXISTS FOR (p:Person) ON (p.name);\n",
                ),
                (
                    "001_people.down.cypher",
                    "DROP INDEX person_name IF EXISTS;\nDROP CONSTRAINT person_id IF EXISTS;\n",
                ),
                ("002_seed.up.cypher", "MERGE (:Person {id: 2});\n"),
                ("002_seed.down.cypher", "// migrate:irreversible\n"),
            ],
        );
        let scanned = scan(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        let scanned = scanned.unwrap();
        assert_eq!(scanned.language, Language::Cypher);
        assert_eq!(scanned.migrations.len(), 2);
    }

    #[test]
    fn sql_folders_are_not_classified() {
        let dir = folder(
            "sql",
            &[
                (
                    "001_t.up.sql",
                    "CREATE TABLE t (id INT);\nCREATE INDEX t_id ON t (id);\nINSERT INTO t VALUES (1);\n",
                ),
                ("001_t.down.sql", "DROP TABLE t;\n"),
            ],
        );
        let scanned = scan(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(scanned.is_ok(), "{scanned:?}");
    }
}

#[cfg(test)]
mod repeatable_tests {
    use super::*;

    fn folder(name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("em-core-repeatable-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (file, text) in files {
            std::fs::write(dir.join(file), text).unwrap();
        }
        dir
    }

    #[test]
    fn keys_are_negative_distinct_and_stable() {
        let a = repeatable_key("active_users_view");
        assert!(a < 0);
        assert_eq!(a, repeatable_key("active_users_view"));
        assert_ne!(a, repeatable_key("active_users_view2"));
    }

    #[test]
    fn repeatable_files_are_read_in_name_order_beside_the_versioned_ones() {
        let dir = folder(
            "ok",
            &[
                ("001_a.up.sql", "CREATE TABLE a (id INTEGER);\n"),
                ("001_a.down.sql", "DROP TABLE a;\n"),
                (
                    "b_view.repeatable.sql",
                    "CREATE OR REPLACE VIEW b AS SELECT id FROM a;\n",
                ),
                (
                    "a_view.repeatable.sql",
                    "CREATE OR REPLACE VIEW c AS SELECT id FROM a;\n",
                ),
            ],
        );
        let scanned = scan(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        let scanned = scanned.unwrap();
        assert_eq!(scanned.migrations.len(), 1);
        let names: Vec<&str> = scanned.repeatables.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a_view", "b_view"]);
        assert_eq!(scanned.repeatables[0].key, repeatable_key("a_view"));
    }

    #[test]
    fn bad_repeatable_files_are_refused_with_the_rule() {
        let dir = folder(
            "bad",
            &[
                ("001_a.up.sql", "CREATE TABLE a (id INTEGER);\n"),
                ("001_a.down.sql", "DROP TABLE a;\n"),
                ("Bad.repeatable.sql", "SELECT 1;\n"),
                ("empty.repeatable.sql", "-- nothing\n"),
                (
                    "loose.repeatable.sql",
                    "-- migrate:no-transaction\nCREATE VIEW v AS SELECT 1;\n",
                ),
                ("txn.repeatable.sql", "BEGIN;\nCREATE VIEW w AS SELECT 1;\nCOMMIT;\n"),
            ],
        );
        let problems = scan(&dir).unwrap_err();
        let _ = std::fs::remove_dir_all(&dir);
        let rules: Vec<Rule> = problems.iter().map(|p| p.rule).collect();
        assert!(rules.contains(&Rule::BadFileName), "{problems:?}");
        assert!(rules.contains(&Rule::EmptyFile), "{problems:?}");
        assert!(rules.contains(&Rule::UnknownDirective), "{problems:?}");
        assert!(rules.contains(&Rule::TransactionControl), "{problems:?}");
    }

    #[test]
    fn cypher_has_no_repeatable_migrations() {
        let dir = folder(
            "cypher",
            &[
                ("001_a.up.cypher", "MERGE (:A {id: 1});\n"),
                ("001_a.down.cypher", "MATCH (a:A) DELETE a;\n"),
                ("seed.repeatable.cypher", "MERGE (:A {id: 2});\n"),
            ],
        );
        let problems = scan(&dir).unwrap_err();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains("SQL only"), "{problems:?}");
    }
}
