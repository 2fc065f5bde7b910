//! Reading one migration file: its bytes as UTF-8, its header, its checksum.

use crate::directive::DIRECTIVES;
use crate::{checksum, parse_header, Language, Problem, Rule, ScannedFile};
use std::path::Path;

/// The file at `path`, or `None` with the problem added: it cannot be read,
/// is not UTF-8, its header has an unknown directive, or it holds a
/// malformed placeholder.
pub(super) fn read_file(path: &Path, language: Language, problems: &mut Vec<Problem>) -> Option<ScannedFile> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => {
            problems.push(Problem::new(
                Rule::BadFolder,
                path,
                format!("`{name}` cannot be read: {err}"),
            ));
            return None;
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let at = err.utf8_error().valid_up_to();
            let line = 1 + err.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count();
            problems.push(Problem::new(
                Rule::NotUtf8,
                path,
                format!("`{name}` is not UTF-8 (invalid byte at offset {at}, line {line}); save it as UTF-8"),
            ));
            return None;
        }
    };
    let header = match parse_header(&text, language) {
        Ok(header) => header,
        Err((line, directive)) => {
            let known = DIRECTIVES.join("`, `migrate:");
            problems.push(Problem::new(
                Rule::UnknownDirective,
                path,
                format!("`{name}` line {line}: unknown directive `migrate:{directive}`; known directives are `migrate:{known}`"),
            ));
            return None;
        }
    };
    // A code migration's text is Rust, compiled as it is: no placeholder.
    if !name.ends_with(".rs") {
        if let Err(bad) = crate::placeholder::names(&text) {
            problems.push(Problem::new(
                Rule::Placeholder,
                path,
                format!(
                    "`{name}` line {}: `{}` is not a placeholder; {}",
                    bad.line,
                    bad.written,
                    crate::placeholder::NAME_RULE
                ),
            ));
            return None;
        }
    }
    Some(ScannedFile {
        file_name: name,
        path: path.to_path_buf(),
        checksum: checksum(&text),
        text,
        header,
    })
}
