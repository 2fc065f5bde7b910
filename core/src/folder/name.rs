//! The name of a versioned migration file: `<version>_<name>.<up|down>.<ext>`.

use crate::{Direction, Language, Rule};
use std::path::{Path, PathBuf};

/// A file name split into its parts: `003_add_index.up.sql`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileName {
    /// The version, a positive number.
    pub version: i64,
    /// The version as written, to keep the folder's zero padding.
    pub version_text: String,
    /// The part between the version's `_` and the direction: lowercase
    /// letters, digits and underscores.
    pub name: String,
    /// `up` or `down`.
    pub direction: Direction,
    /// SQL for `.sql`, Cypher for `.cypher` and `.cql`.
    pub language: Language,
    /// The extension as written, without its dot: `sql`, `cypher`, `cql`
    /// or `rs`.
    pub extension: String,
    /// A Rust code migration, `<version>_<name>.rs`: one file holding both
    /// directions (`direction` is `Up`), in no query language of its own
    /// (`language` says `Sql`; the folder's other files or the macro's
    /// `database` decide).
    pub code: bool,
}

/// A parsed file name and where the file is.
pub(super) type Located = (FileName, PathBuf);

/// What every refused name is told to look like.
const FORMAT: &str = "expected `<version>_<name>.up.sql` or `<version>_<name>.down.sql` (or `.cypher`/`.cql`, or `.toml` for ChromaDB), \
                      or `<version>_<name>.rs` for a Rust code migration, with a positive version and a name of lowercase letters, digits and underscores, \
                      such as `001_create_users.up.sql`";

/// Parses `<version>_<name>.<up|down>.<sql|cypher|cql>`, or a Rust code
/// migration's `<version>_<name>.rs`, or says what is wrong.
pub fn parse_file_name(file: &str) -> Result<FileName, (Rule, String)> {
    let bad = |why: String| {
        (
            Rule::BadFileName,
            format!("`{file}` is not a migration file name: {why}; {FORMAT}"),
        )
    };
    let (stem, direction, language, extension) = match file.strip_suffix(".rs") {
        Some(stem) => (stem, Direction::Up, Language::Sql, "rs"),
        None => ending(file).map_err(bad)?,
    };
    let (version_text, name) = stem_parts(stem).map_err(bad)?;
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
        return Err(bad("the version must be a positive number, not 0".to_string()));
    }
    Ok(FileName {
        version,
        version_text: version_text.to_string(),
        name: name.to_string(),
        direction,
        language,
        extension: extension.to_string(),
        code: extension == "rs",
    })
}

/// `<stem>.<up|down>.<extension>`: the stem, the direction and the language,
/// or why the ending is wrong.
fn ending(file: &str) -> Result<(&str, Direction, Language, &str), String> {
    let mut parts = file.rsplitn(3, '.');
    let (Some(extension), Some(direction), Some(stem)) = (parts.next(), parts.next(), parts.next()) else {
        // `001_a.sql` has an extension but no direction; `notes` has neither.
        return Err(if file.contains('.') {
            "it lacks `.up` or `.down` before the extension".to_string()
        } else {
            "it lacks the `.up.sql`/`.down.sql` ending".to_string()
        });
    };
    let language = match extension {
        "sql" => Language::Sql,
        "cypher" | "cql" => Language::Cypher,
        "toml" => Language::Chroma,
        _ => return Err(format!("unknown extension `.{extension}`")),
    };
    let direction = match direction {
        "up" => Direction::Up,
        "down" => Direction::Down,
        _ => return Err("it lacks `.up` or `.down` before the extension".to_string()),
    };
    Ok((stem, direction, language, extension))
}

/// `<version>_<name>`: the version's digits as written and the name, or why
/// the stem is wrong.
fn stem_parts(stem: &str) -> Result<(&str, &str), String> {
    let Some((version_text, name)) = stem.split_once('_') else {
        return Err("it has no `_` between version and name".to_string());
    };
    if version_text.is_empty() || !version_text.bytes().all(|b| b.is_ascii_digit()) {
        return Err("it does not start with a version number".to_string());
    }
    if name.is_empty() {
        return Err("the name after the version is empty".to_string());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        return Err(format!("the name `{name}` contains `{c}`"));
    }
    Ok((version_text, name))
}

/// The file's name as it is on disk, for a message (`<version>_<name>` if
/// the path has none).
pub(super) fn shown(path: &Path, parsed: &FileName) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}_{}", parsed.version_text, parsed.name))
}
