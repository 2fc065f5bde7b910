//! A migration set as the command line shows it: its target, and its
//! versions written as its files write them.

use crate::targets::Target;
use std::collections::HashMap;

/// A set as the command line shows it.
pub(super) struct Set<'t, 'a> {
    pub(super) target: &'t Target<'a>,
    /// Versions as the files write them (`003`), for output a person matches
    /// against the folder.
    pub(super) versions: HashMap<i64, &'static str>,
}

impl<'t, 'a> Set<'t, 'a> {
    pub(super) fn new(target: &'t Target<'a>) -> Self {
        Set {
            target,
            versions: target
                .migrations()
                .iter()
                .map(|m| (m.version, m.up.file.split('_').next().unwrap_or(m.up.file)))
                .collect(),
        }
    }

    /// How messages name it: `tenant `x`` for a tenant of a tenant set,
    /// else `migration set `x``.
    pub(super) fn label(&self) -> String {
        match self.target.group() {
            Some(_) => format!("tenant `{}`", self.target.name()),
            None => format!("migration set `{}`", self.target.name()),
        }
    }

    /// `version` as this set's files write it.
    pub(super) fn v(&self, version: i64) -> String {
        version_text(&self.versions, version)
    }

    /// The name of this set's migration `version` (empty when it has none).
    pub(super) fn name_of(&self, version: i64) -> &'static str {
        self.target
            .migrations()
            .iter()
            .find(|m| m.version == version)
            .map_or("", |m| m.name)
    }
}

/// `version` as the files write it (`003`); `R` for a repeatable migration.
pub(super) fn version_text(versions: &HashMap<i64, &'static str>, version: i64) -> String {
    // A repeatable migration's key is not a version a person typed.
    if version < 0 {
        return "R".to_string();
    }
    match versions.get(&version) {
        Some(text) => text.to_string(),
        None => version.to_string(),
    }
}
