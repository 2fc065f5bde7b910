//! `migrate lint [--json]`: the statements of each selected set's up files
//! that lock or destroy, by the rules of its database, printed as
//! `cargo xtask lint` and the build print them (core's `lint::text` and
//! `lint::json`); the findings of migrations the database has applied come
//! apart, as information. Exit code 1 when a migration not applied yet has
//! a finding: what the next deploy would run.

use crate::cli::failure::{reported, Failure};
use crate::cli::ops::Ops;
use crate::cli::output::{eprintln, print, println};
use crate::core::lint;

pub(super) async fn lint(ops: &Ops<'_, '_>, json: bool) -> Result<(), Failure> {
    let mut code = 0;
    let mut documents = Vec::new();
    for (i, set) in ops.selected.iter().enumerate() {
        let report = match set.target.lint().await {
            Ok(report) => report,
            Err(err) if !ops.sections => return Err(err.into()),
            Err(err) => {
                eprintln!("error: {}: {err}", set.label());
                code = code.max(err.exit_code());
                continue;
            }
        };
        if report.pending().next().is_some() {
            code = code.max(1);
        }
        let applied = |version| report.is_applied(version);
        if json {
            documents.push((set.target.name().to_string(), lint::json(&report.findings, &applied)));
        } else {
            ops.section(i, set);
            print!("{}", lint::text(&report.findings, &applied));
        }
    }
    if json {
        match (ops.sections, documents.as_slice()) {
            (false, [(_, one)]) => println!("{one}"),
            _ => {
                let fields: Vec<String> = documents
                    .iter()
                    .map(|(name, findings)| format!("{}:{findings}", serde_json::to_string(name).unwrap_or_default()))
                    .collect();
                println!("{{{}}}", fields.join(","));
            }
        }
    }
    reported(code)
}
