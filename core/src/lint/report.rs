//! The findings as `migrate lint` and `cargo xtask lint` print them, one
//! rendering for both so that they and the build say the same thing: each
//! finding is [`Finding::message`], and those of migrations the database
//! has already applied come apart, as information: the statement has run,
//! and a fix now is a new migration.

use super::finding::Finding;
use std::fmt::Write as _;

/// The findings as text, a line each, the applied ones under their own
/// heading; `applied` says whether a version is applied.
pub fn text(findings: &[Finding], applied: &dyn Fn(i64) -> bool) -> String {
    let (done, pending): (Vec<&Finding>, Vec<&Finding>) = findings.iter().partition(|f| applied(f.version));
    let mut out = String::new();
    for finding in &pending {
        let _ = writeln!(out, "{}", finding.message());
    }
    if !done.is_empty() {
        let _ = writeln!(out, "already applied: informational ({} finding(s))", done.len());
        for finding in &done {
            let _ = writeln!(out, "  {}", finding.message());
        }
    }
    let _ = writeln!(
        out,
        "{} finding(s) to fix or allow, {} in applied migrations",
        pending.len(),
        done.len()
    );
    out
}

/// The findings as one JSON array, each an object with `rule`, `version`,
/// `file`, `line`, `statement`, `why`, `fix`, `applied` and `message`.
pub fn json(findings: &[Finding], applied: &dyn Fn(i64) -> bool) -> String {
    let objects: Vec<String> = findings
        .iter()
        .map(|f| {
            format!(
                "{{\"rule\":{},\"version\":{},\"file\":{},\"line\":{},\"statement\":{},\"why\":{},\"fix\":{},\"applied\":{},\"message\":{}}}",
                string(f.rule.name),
                f.version,
                string(&f.file),
                f.line,
                string(&f.statement),
                string(f.rule.why),
                string(f.rule.fix),
                applied(f.version),
                string(&f.message()),
            )
        })
        .collect();
    format!("[{}]", objects.join(","))
}

/// A JSON string literal.
fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
