//! What the lint reports: a [`Finding`], and how a statement is shown in
//! one.

use super::rules::LintRule;
use std::path::PathBuf;

/// A statement that breaks a rule, as a file's reading finds it: its line,
/// the rule, its first line shown.
pub(super) type Found = (usize, &'static LintRule, String);

/// One statement that breaks a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The rule it breaks.
    pub rule: &'static LintRule,
    /// The version of the migration whose up file holds it.
    pub version: i64,
    /// The up file's name, e.g. `003_add_index.up.sql`.
    pub file: String,
    /// Where the file was read.
    pub path: PathBuf,
    /// 1-based line where the statement starts.
    pub line: usize,
    /// The statement's first line, shortened, for a message.
    pub statement: String,
}

impl Finding {
    /// The finding as one message: file, line, rule, why and fix.
    pub fn message(&self) -> String {
        format!(
            "`{}` line {}: [{}] `{}`: {} Instead: {} (if it is safe here, say why at the top of the file: \
             `{} migrate:allow {} <reason>`)",
            self.file,
            self.line,
            self.rule.name,
            self.statement,
            self.rule.why,
            self.rule.fix,
            if self.file.ends_with(".sql") { "--" } else { "//" },
            self.rule.name,
        )
    }
}

/// The start of a statement for a message: its first line, at most 60
/// characters.
pub(super) fn shown(statement: &str) -> String {
    let line = statement.lines().next().unwrap_or_default().trim();
    match line.char_indices().nth(60) {
        Some((end, _)) => format!("{} ...", &line[..end]),
        None if line.len() < statement.trim().len() => format!("{line} ..."),
        None => line.to_string(),
    }
}
