//! Rust code migrations: `<version>_<name>.rs`, one file that defines an
//! `up` function and a `down` function (or says `// migrate:irreversible`).
//! The build compiles the file with the application, which checks the
//! functions' signatures; this phase checks what a folder rule can: that
//! both functions are there, and the header.

use super::name::{shown, Located};
use super::read::read_file;
use crate::batch::BatchSpec;
use crate::{Language, Problem, Rule, ScannedFile, ScannedMigration};

/// A code migration read and checked, if it can be read. Its one file is
/// both its up and its down script (the header is read with `//`, Rust's
/// line comment, which is Cypher's).
pub(super) fn read_code(
    version: i64,
    (code, path): Located,
    down: Option<Located>,
    problems: &mut Vec<Problem>,
) -> Option<ScannedMigration> {
    let file = shown(&path, &code);
    if let Some((down, down_path)) = down {
        problems.push(Problem::new(
            Rule::DuplicateVersion,
            &path,
            format!(
                "`{file}` and `{}` share the version {version}; a Rust code migration holds its own `down` function, \
                 so renumber or remove the SQL file",
                shown(&down_path, &down)
            ),
        ));
        return None;
    }
    let scanned = read_file(&path, Language::Cypher, problems)?;
    check_code(&scanned, problems);
    Some(ScannedMigration {
        version,
        version_text: code.version_text,
        name: code.name,
        down: scanned.clone(),
        up: scanned,
        code: true,
    })
}

/// The directives a code migration may have, and its two functions.
fn check_code(file: &ScannedFile, problems: &mut Vec<Problem>) {
    let name = &file.file_name;
    let header = &file.header;
    let misplaced = [
        (header.noop, "noop"),
        (header.allow_in_transaction, "allow-in-transaction"),
        // The function's queries are its own; it bounds them itself.
        (header.timeout.is_some(), "timeout"),
    ];
    for (_, directive) in misplaced.iter().filter(|(set, _)| *set) {
        problems.push(Problem::new(
            Rule::UnknownDirective,
            &file.path,
            format!(
                "`{name}`: `migrate:{directive}` does not apply to a Rust code migration; it knows \
                 `migrate:no-transaction`, `migrate:irreversible`, `migrate:batch size=N` and `migrate:total`"
            ),
        ));
    }
    check_code_batch(file, problems);
    if !defines_fn(&file.text, "up") {
        problems.push(Problem::new(
            Rule::MissingUp,
            &file.path,
            format!("`{name}` defines no `up` function; a Rust code migration is `pub async fn up(tx) -> Result<(), E>` and `pub async fn down(tx) -> Result<(), E>` (a batch one's `up` is `pub async fn up(tx, size: u64) -> Result<u64, E>`)"),
        ));
    }
    match (defines_fn(&file.text, "down"), header.irreversible) {
        (false, false) => problems.push(Problem::new(
            Rule::MissingDown,
            &file.path,
            format!("`{name}` defines no `down` function; every Rust code migration needs one (write `// migrate:irreversible` at the top of the file if it cannot be reverted)"),
        )),
        (true, true) => problems.push(Problem::new(
            Rule::EmptyFile,
            &file.path,
            format!("`{name}` says `migrate:irreversible` but defines a `down` function; remove the function, or the directive if it does revert the migration"),
        )),
        _ => {}
    }
}

/// A batch code migration (`// migrate:batch size=N`, optionally
/// `// migrate:total <count query>`): its `up` runs once per batch, each in
/// a transaction of its own with the checkpoint, and returns the rows it
/// processed; so the size is the SQL form's and `no-transaction`, which
/// would leave a batch without its checkpoint, is refused.
fn check_code_batch(file: &ScannedFile, problems: &mut Vec<Problem>) {
    let refuse = |message: String| Problem::new(Rule::Batch, &file.path, format!("`{}`: {message}", file.file_name));
    match BatchSpec::from_header(&file.header) {
        Ok(None) => {}
        Ok(Some(_)) if file.header.no_transaction => problems.push(refuse(
            "`migrate:batch` runs each batch in its own transaction with its checkpoint and cannot be combined \
             with `migrate:no-transaction`"
                .to_string(),
        )),
        Ok(Some(_)) => {}
        Err(message) => problems.push(refuse(message)),
    }
}

/// Whether the Rust source `text` has `fn <name>` outside comments, strings
/// and character literals: a lexical look, not a parse (the compiler checks
/// the rest when it builds the file).
pub(super) fn defines_fn(text: &str, name: &str) -> bool {
    let mut previous_was_fn = false;
    for word in words(text) {
        if previous_was_fn && word == name {
            return true;
        }
        previous_was_fn = word == "fn";
    }
    false
}

/// The identifiers and keywords of `text`, in order, without those inside
/// comments (block comments nest), strings (raw ones too) and characters.
fn words(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"//") {
            i += rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        } else if rest.starts_with(b"/*") {
            i += block_comment(rest);
        } else if let Some(len) = raw_string(rest) {
            i += len;
        } else if rest[0] == b'"' {
            i += quoted(rest, b'"');
        } else if rest[0] == b'\'' {
            // A character literal ends with its quote within a few bytes; a
            // lifetime (`'a`) has none, and is skipped as a word.
            i += match rest.iter().skip(1).take(11).position(|&b| b == b'\'') {
                Some(_) if rest.get(1) != Some(&b'\\') && rest.get(2) != Some(&b'\'') => 1,
                Some(_) => quoted(rest, b'\''),
                None => 1,
            };
        } else if rest[0] == b'_' || rest[0].is_ascii_alphabetic() {
            let len = rest
                .iter()
                .position(|&b| !(b == b'_' || b.is_ascii_alphanumeric()))
                .unwrap_or(rest.len());
            words.push(&text[i..i + len]);
            i += len;
        } else {
            i += 1;
        }
    }
    words
}

/// The length of the (nesting) block comment at the start of `rest`.
fn block_comment(rest: &[u8]) -> usize {
    let (mut depth, mut i) = (0usize, 0);
    while i < rest.len() {
        if rest[i..].starts_with(b"/*") {
            depth += 1;
            i += 2;
        } else if rest[i..].starts_with(b"*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    rest.len()
}

/// The length of the string or character literal at the start of `rest`,
/// escapes included.
fn quoted(rest: &[u8], quote: u8) -> usize {
    let mut i = 1;
    while i < rest.len() {
        match rest[i] {
            b'\\' => i += 2,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    rest.len()
}

/// The length of the raw string (`r"..."`, `r#"..."#`, `br#"..."#`) at the
/// start of `rest`, if one starts there.
fn raw_string(rest: &[u8]) -> Option<usize> {
    let start = if rest.starts_with(b"br") {
        2
    } else if rest.starts_with(b"r") {
        1
    } else {
        return None;
    };
    let hashes = rest[start..].iter().take_while(|&&b| b == b'#').count();
    if rest.get(start + hashes) != Some(&b'"') {
        return None;
    }
    let body = start + hashes + 1;
    let mut close = vec![b'"'];
    close.extend(std::iter::repeat_n(b'#', hashes));
    let end = rest[body..]
        .windows(close.len())
        .position(|window| window == close.as_slice())
        .map_or(rest.len(), |at| body + at + close.len());
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::defines_fn;

    #[test]
    fn finds_functions_outside_comments_and_strings() {
        let text = "// fn down\n/* fn down /* nested */ fn down */\nconst S: &str = \"fn down\";\n\
                    const R: &str = r#\"fn down\"#;\nconst C: char = '\"';\npub async fn up<'a>(x: &'a mut T) {}\n";
        assert!(defines_fn(text, "up"));
        assert!(!defines_fn(text, "down"));
        assert!(defines_fn(
            "pub async fn down(tx: &mut C) -> Result<(), E> { Ok(()) }",
            "down"
        ));
        assert!(!defines_fn("fn downgrade() {}", "down"));
    }
}
