//! Placeholders: `${name}` in a migration file, replaced at run time by the
//! value the application gives in its settings.
//!
//! The rules, one scanner for the build and the run:
//!
//! - `${name}`, with `name` a letter or `_` followed by letters, digits
//!   and `_`, is a placeholder wherever it stands: in a statement, in a
//!   string literal, in a comment, in a PostgreSQL dollar-quoted body, in
//!   the header's `migrate:total` query. A role or schema name often sits
//!   in a literal (`GRANT ... TO ${role}`, `COMMENT ON ... IS 'for
//!   ${tenant}'`), and Flyway, whose users know this syntax, replaces it
//!   everywhere too.
//! - `${}`, `${1x}`, `${a-b}`, `${ name }`: braces holding only name
//!   characters, blanks, `.`, `-` or `:` that do not make a name are a
//!   mistake, refused at build time.
//! - A `$` right before either makes it literal text: `$${name}` runs as
//!   `${name}`, `$${}` as `${}`.
//! - Anything else is text: `${` with a brace that holds other characters
//!   (a JSON object in a dollar quote, `$${"a": 1}$$`; a JavaScript
//!   template literal in a PL/v8 body, `${a + b}`), or with no `}` on its
//!   line, runs as written.

use std::collections::BTreeSet;

/// A piece of a file's text: text to keep, or a placeholder to replace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece<'t> {
    /// Text that runs as it is (an escaped `$${name}` is `${name}` here).
    Text(&'t str),
    /// `${name}`: the name.
    Placeholder(&'t str),
}

/// A `${...}` that is neither a placeholder nor text: `${}`, `${1x}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// 1-based line of the `$`.
    pub line: usize,
    /// The `${...}` as written.
    pub written: String,
}

/// The rule a placeholder's name follows, in words, for messages.
pub const NAME_RULE: &str =
    "a placeholder is `${name}`, its name a letter or `_` followed by letters, digits and `_`; \
     write `$${` for a literal `${`";

/// Whether `name` can be a placeholder's name.
pub fn is_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// What the braces at `text[at..]` (which starts with `${`) hold: the end
/// of the `}` and whether the content is a name; `None` when it is text.
fn braces(text: &str, at: usize) -> Option<(usize, bool)> {
    let rest = &text[at + 2..];
    let close = rest.find(['}', '\n'])?;
    if rest.as_bytes()[close] != b'}' {
        return None;
    }
    let content = &rest[..close];
    let end = at + 2 + close + 1;
    if is_name(content) {
        return Some((end, true));
    }
    let attempt = content
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b' ' | b'\t' | b'.' | b'-' | b':'));
    attempt.then_some((end, false))
}

/// The file's text in pieces, in order; the first malformed `${...}` is an
/// error.
pub fn pieces(text: &str) -> Result<Vec<Piece<'_>>, Malformed> {
    let bytes = text.as_bytes();
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        if text[i..].starts_with("$${") {
            if let Some((end, _)) = braces(text, i + 1) {
                // The escape: drop this `$`, keep the rest as written.
                if start < i {
                    pieces.push(Piece::Text(&text[start..i]));
                }
                pieces.push(Piece::Text(&text[i + 1..end]));
                start = end;
                i = end;
                continue;
            }
        } else if text[i..].starts_with("${") {
            match braces(text, i) {
                Some((end, true)) => {
                    if start < i {
                        pieces.push(Piece::Text(&text[start..i]));
                    }
                    pieces.push(Piece::Placeholder(&text[i + 2..end - 1]));
                    start = end;
                    i = end;
                    continue;
                }
                Some((end, false)) => {
                    return Err(Malformed {
                        line: 1 + bytes[..i].iter().filter(|&&b| b == b'\n').count(),
                        written: text[i..end].to_string(),
                    })
                }
                None => {}
            }
        }
        i += 1;
    }
    if start < bytes.len() {
        pieces.push(Piece::Text(&text[start..]));
    }
    Ok(pieces)
}

/// The names of the placeholders in `text`, sorted, each once.
pub fn names(text: &str) -> Result<Vec<&str>, Malformed> {
    let names: BTreeSet<&str> = pieces(text)?
        .into_iter()
        .filter_map(|piece| match piece {
            Piece::Placeholder(name) => Some(name),
            Piece::Text(_) => None,
        })
        .collect();
    Ok(names.into_iter().collect())
}

/// `text` with every placeholder replaced by `value(name)` and every escape
/// undone; `Err` with the names `value` has no value for, sorted, each once.
/// A text without `$` is returned as it is, unscanned.
pub fn substitute<'v>(text: &str, value: impl Fn(&str) -> Option<&'v str>) -> Result<String, Vec<String>> {
    let mut out = String::with_capacity(text.len());
    let mut missing = BTreeSet::new();
    // Build time refused malformed text; should one reach here anyway, it
    // runs as written rather than half replaced.
    let Ok(pieces) = pieces(text) else {
        return Ok(text.to_string());
    };
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Placeholder(name) => match value(name) {
                Some(value) => out.push_str(value),
                None => {
                    missing.insert(name.to_string());
                }
            },
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(missing.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: &str) -> Option<&'static str> {
        match name {
            "schema" => Some("app"),
            "role" => Some("reader"),
            _ => None,
        }
    }

    #[test]
    fn replaces_everywhere_in_the_text() {
        let text = "-- for ${schema}\nCREATE TABLE ${schema}.t (x TEXT DEFAULT '${role}');\n\
                    CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 /* ${role} */ $$ LANGUAGE sql;";
        assert_eq!(names(text).unwrap(), vec!["role", "schema"]);
        assert_eq!(
            substitute(text, with).unwrap(),
            "-- for app\nCREATE TABLE app.t (x TEXT DEFAULT 'reader');\n\
             CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 /* reader */ $$ LANGUAGE sql;"
        );
    }

    #[test]
    fn a_dollar_before_makes_it_literal() {
        assert_eq!(substitute("'$${schema}' ${schema}", with).unwrap(), "'${schema}' app");
        assert_eq!(names("'$${schema}'").unwrap(), Vec::<&str>::new());
        assert_eq!(substitute("$${}", with).unwrap(), "${}");
        assert_eq!(substitute("$$${schema}", with).unwrap(), "$${schema}");
    }

    #[test]
    fn other_braces_are_text() {
        for text in [
            "SELECT $${\"a\": 1}$$::jsonb;",
            "AS $$ return `${a + b}`; $$",
            "SELECT '${' || x;",
            "SELECT '${schema';\nSELECT '}';",
            "SELECT $1, $tag$ x $tag$;",
        ] {
            assert_eq!(names(text).unwrap(), Vec::<&str>::new(), "{text}");
            assert_eq!(substitute(text, with).unwrap(), text);
        }
    }

    #[test]
    fn refuses_what_looks_like_a_mistake() {
        for (text, written) in [
            ("SELECT 1;\nSELECT '${}';", "${}"),
            ("${1x}", "${1x}"),
            ("${a-b}", "${a-b}"),
            ("${ schema }", "${ schema }"),
            ("${app.schema}", "${app.schema}"),
        ] {
            let err = names(text).unwrap_err();
            assert_eq!(err.written, written);
        }
        assert_eq!(names("SELECT 1;\nSELECT '${}';").unwrap_err().line, 2);
    }

    #[test]
    fn lists_every_missing_name_once() {
        assert_eq!(
            substitute("${b} ${a} ${b} ${schema}", with).unwrap_err(),
            vec!["a".to_string(), "b".to_string()]
        );
    }

    #[test]
    fn names_follow_the_rule() {
        assert!(is_name("schema") && is_name("_x1") && is_name("A"));
        assert!(!is_name("") && !is_name("1x") && !is_name("a-b") && !is_name("é"));
    }
}
