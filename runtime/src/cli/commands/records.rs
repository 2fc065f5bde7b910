//! The commands that write tracking rows and run no migration, on one set:
//! `force` and `forget` (recovery by hand), `repair` (the state row rebuilt
//! from the rows), `baseline` and `import` (adopting an existing database).

use crate::cli::failure::Failure;
use crate::cli::ops::Ops;
use crate::cli::output::println;
use crate::cli::set::Set;
use crate::engine::Tool;

pub(super) async fn force(ops: &Ops<'_, '_>, version: i64) -> Result<(), Failure> {
    let set = ops.one("force")?;
    set.target.force(version).await.map_err(|err| ops.blame(set, err))?;
    println!(
        "marked {} {} as applied; nothing was run",
        set.v(version),
        set.name_of(version)
    );
    Ok(())
}

pub(super) async fn forget(ops: &Ops<'_, '_>, version: &str) -> Result<(), Failure> {
    let set = ops.one("forget")?;
    let (key, shown) = tracking_key(set, version)?;
    set.target.forget(key).await.map_err(|err| ops.blame(set, err))?;
    println!("removed the record of {shown}; nothing was run");
    Ok(())
}

/// The tracking key `forget` was given: a version (negative: a repeatable
/// migration's key), or a repeatable migration's name, which `status`
/// lists where the key would be (`R`); with the text to print for it.
fn tracking_key(set: &Set<'_, '_>, given: &str) -> Result<(i64, String), Failure> {
    if let Ok(version) = given.parse::<i64>() {
        let shown = match set.target.repeatables().iter().find(|m| m.version == version) {
            Some(m) => format!("the repeatable migration {}", m.name),
            None => set.v(version),
        };
        return Ok((version, shown));
    }
    match set.target.repeatables().iter().find(|m| m.name == given) {
        Some(m) => Ok((m.version, format!("the repeatable migration {}", m.name))),
        None => Err(Failure::Usage(format!(
            "`{given}` is neither a version nor the name of a repeatable migration of this binary; `forget` takes \
             a version (`forget 3`) or a repeatable migration's name as `status` lists it"
        ))),
    }
}

pub(super) async fn repair(ops: &Ops<'_, '_>, accept_edit: Option<i64>, reason: Option<String>) -> Result<(), Failure> {
    let set = ops.one("repair")?;
    let repair = set
        .target
        .repair(accept_edit, reason.as_deref())
        .await
        .map_err(|err| ops.blame(set, err))?;
    match repair.changed() {
        true => println!("{}; nothing was run", repair.describe()),
        false => println!("{}", repair.describe()),
    }
    Ok(())
}

/// What `baseline`/`import` adopt from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Adopt {
    Baseline(i64),
    Import(Tool),
}

/// `baseline` and `import`: one set, its tracking rows written (or, dry
/// run, listed) without running a migration.
pub(super) async fn adopt(
    ops: &Ops<'_, '_>,
    from: Adopt,
    reason: Option<String>,
    dry_run: bool,
) -> Result<(), Failure> {
    let command = match from {
        Adopt::Baseline(_) => "baseline",
        Adopt::Import(_) => "import",
    };
    let set = ops.one(command)?;
    let (target, db) = (set.target, set.target.db());
    let engine = target.engine().with_reason(reason.as_deref());
    let adoption = match from {
        Adopt::Baseline(version) => engine.baseline(db, version, dry_run).await,
        Adopt::Import(tool) => engine.import(db, tool, dry_run).await,
    };
    let adoption = adoption.map_err(|err| ops.blame(set, err))?;
    let verb = if dry_run { "would record" } else { "recorded" };
    for m in &adoption.recorded {
        println!(
            "{verb} {} {} as applied (not run), checksum {}",
            set.v(m.version),
            m.name,
            &m.checksum[..12]
        );
    }
    if !adoption.already_recorded.is_empty() {
        let versions: Vec<String> = adoption.already_recorded.iter().map(|v| set.v(*v)).collect();
        println!("already recorded: {}", versions.join(", "));
    }
    println!(
        "{} {} migration(s) with history reason `{}`; nothing was run{}",
        verb,
        adoption.recorded.len(),
        adoption.reason,
        if dry_run { ", nothing was changed" } else { "" }
    );
    Ok(())
}
