//! The values of `${name}` placeholders ([`crate::core::placeholder`]):
//! given in [`Settings`](crate::Settings), checked against the names the build found in
//! every file before anything runs, substituted into the text a change
//! runs, and recorded in its history row (a secret one as [`SECRET`]).

use crate::core::placeholder;
use crate::error::MissingPlaceholder;
use crate::{Error, Migration, Script};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// What a history row records for a secret placeholder's value.
pub const SECRET: &str = "***";

/// One placeholder's value.
#[derive(Clone, PartialEq, Eq)]
struct Value {
    text: String,
    secret: bool,
}

/// The placeholder values of a [`Settings`]. Its `Debug` shows a secret
/// value as [`SECRET`], so that settings can be logged.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Placeholders(BTreeMap<String, Value>);

impl fmt::Debug for Placeholders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(name, value)| (name, value.shown())))
            .finish()
    }
}

impl Value {
    /// The value as history records and `Debug` shows it.
    fn shown(&self) -> &str {
        if self.secret {
            SECRET
        } else {
            &self.text
        }
    }
}

impl Placeholders {
    /// `name` gets `value`, recorded as [`SECRET`] when `secret`.
    pub(crate) fn insert(&mut self, name: String, value: String, secret: bool) {
        self.0.insert(name, Value { text: value, secret });
    }

    /// `name` gets `value`; secret if it was already.
    #[cfg(feature = "cli")]
    pub(crate) fn set_keeping_secret(&mut self, name: &str, value: &str) {
        let secret = self.0.get(name).is_some_and(|old| old.secret);
        self.insert(name.to_string(), value.to_string(), secret);
    }

    /// The value given for `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|value| value.text.as_str())
    }

    /// Whether a value is given for `name`.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// `text` with every secret value replaced by [`SECRET`]: a failed
    /// statement's text, and the database's message that may quote it,
    /// before an error shows them or a history row stores them.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for value in self.0.values().filter(|value| value.secret && !value.text.is_empty()) {
            if out.contains(&value.text) {
                out = out.replace(&value.text, SECRET);
            }
        }
        out
    }

    /// Whether some value is secret.
    pub(crate) fn has_secrets(&self) -> bool {
        self.0.values().any(|value| value.secret)
    }

    /// `err` with the secret values redacted from the statement and the
    /// message of a failed migration.
    pub(crate) fn redact_error(&self, err: Error) -> Error {
        if !self.has_secrets() {
            return err;
        }
        match err {
            Error::MigrationFailed {
                version,
                name,
                file,
                direction,
                statement,
                line,
                message,
                rolled_back,
                committed,
                batches,
                number,
                source,
            } => Error::MigrationFailed {
                version,
                name,
                file,
                direction,
                statement: self.redact(&statement).into(),
                line,
                message: self.redact(&message),
                rolled_back,
                committed,
                batches,
                number,
                // The driver's error may quote the statement: it is
                // dropped rather than shown with the secret in it.
                source: source.filter(|source| self.redact(&source.to_string()) == source.to_string()),
            },
            Error::Incomplete { applied, error } => Error::Incomplete {
                applied,
                error: Box::new(self.redact_error(*error)),
            },
            Error::TimedOut { timeout, error } => Error::TimedOut {
                timeout,
                error: Box::new(self.redact_error(*error)),
            },
            other => other,
        }
    }

    /// The names given, in order.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

/// Every name the scripts of `migrations` use that `settings` give no value
/// for, with the files using it: the error a run returns before it
/// changes anything.
pub(crate) fn check<'m>(
    settings: &Placeholders,
    migrations: impl IntoIterator<Item = &'m Migration>,
) -> Result<(), Error> {
    let mut missing: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
    for migration in migrations {
        for script in [&migration.up, &migration.down] {
            for name in script.placeholders {
                if !settings.has(name) {
                    missing.entry(name.to_string()).or_default().push(script.file);
                }
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::MissingPlaceholders {
        missing: missing
            .into_iter()
            .map(|(name, files)| MissingPlaceholder { name, files })
            .collect(),
    })
}

/// The text `script` runs with `settings`: its own when it uses no
/// placeholder, else with each replaced and each `$${` escape undone. A
/// name without a value (which [`check`] refused before) stays as written.
pub(crate) fn text(script: &Script, settings: &Placeholders) -> Cow<'static, str> {
    if script.placeholders.is_empty() && !script.text.contains("$${") {
        return Cow::Borrowed(script.text);
    }
    match placeholder::substitute(script.text, |name| settings.get(name)) {
        Ok(text) => Cow::Owned(text),
        Err(_) => Cow::Borrowed(script.text),
    }
}

/// What the history row of a run of `script` records: each name it uses
/// with its value (a secret one as [`SECRET`]), as a JSON object; `None`
/// when it uses none.
pub(crate) fn recorded(script: &Script, settings: &Placeholders) -> Option<String> {
    if script.placeholders.is_empty() {
        return None;
    }
    let mut out = String::from("{");
    for (i, name) in script.placeholders.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let shown = settings.0.get(*name).map_or("", Value::shown);
        push_json_string(&mut out, name);
        out.push_str(": ");
        push_json_string(&mut out, shown);
    }
    out.push('}');
    Some(out)
}

fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Checksum;

    fn script(text: &'static str, placeholders: &'static [&'static str]) -> Script {
        Script {
            file: "001_a.up.sql",
            text,
            checksum: Checksum::ZERO,
            no_transaction: false,
            placeholders,
        }
    }

    /// `role` given as `role`, `password` as a secret `hunter2`.
    fn values(role: &str) -> Placeholders {
        let mut values = Placeholders::default();
        values.insert("role".to_string(), role.to_string(), false);
        values.insert("password".to_string(), "hunter2".to_string(), true);
        values
    }

    #[test]
    fn substitutes_and_records_a_secret_as_stars() {
        let values = values("reader \"r\"");
        let s = script(
            "CREATE ROLE ${role} PASSWORD '${password}'; -- $${role}",
            &["password", "role"],
        );
        assert_eq!(
            text(&s, &values),
            "CREATE ROLE reader \"r\" PASSWORD 'hunter2'; -- ${role}"
        );
        assert_eq!(
            recorded(&s, &values).unwrap(),
            r#"{"password": "***", "role": "reader \"r\""}"#
        );
        assert!(!format!("{values:?}").contains("hunter2"));
        assert_eq!(recorded(&script("SELECT 1;", &[]), &values), None);
    }

    #[test]
    fn secrets_are_redacted_from_failures() {
        let values = values("reader");
        assert_eq!(
            values.redact("ALTER ROLE reader PASSWORD 'hunter2'"),
            "ALTER ROLE reader PASSWORD '***'"
        );
        let mut plain = Placeholders::default();
        plain.insert("a".to_string(), "b".to_string(), false);
        assert!(values.has_secrets() && !plain.has_secrets());
    }

    #[test]
    fn a_text_without_placeholders_is_not_copied() {
        let s = script("SELECT '$';", &[]);
        assert!(matches!(text(&s, &Placeholders::default()), Cow::Borrowed(_)));
    }
}
