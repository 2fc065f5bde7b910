//! A squashed folder's baseline: one migration that stands for the versions
//! it replaced, `-- migrate:baseline <first>..<last> migrations=<count>
//! chain=<sha-256>` in its up file (written by `cargo xtask squash`).
//!
//! A fresh database runs the baseline, recorded under its own version (the
//! last squashed one), then what follows. A database migrated before the
//! squash keeps its rows of the squashed versions: the runtime accepts them
//! as the baseline applied when they are exactly the squashed history, which
//! `migrations` and `chain` (the running hash after them, as
//! [`chain_step`](crate::chain_step) computes it) prove in one comparison.

use crate::{parse_header, Checksum, Language, Migration, Problem, Rule, ScannedMigration};

/// What a baseline's directive says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Squashed {
    /// The first version the baseline replaced.
    pub first: i64,
    /// The last version it replaced: the baseline's own version.
    pub last: i64,
    /// How many migrations it replaced.
    pub migrations: u64,
    /// The running hash over those migrations' `(version, checksum)`, from
    /// [`Checksum::ZERO`]: what the tracking rows of a database migrated
    /// before the squash hash to.
    pub chain: Checksum,
}

impl Squashed {
    /// The baseline of an embedded set, when its first migration says
    /// `migrate:baseline` (the build checked the directive).
    pub fn of(migrations: &[Migration]) -> Option<Squashed> {
        let first = migrations.first()?;
        let header = parse_header(first.up.text, Language::Sql).ok()?;
        Squashed::parse(header.baseline.as_deref()?).ok()
    }

    /// Reads the arguments of `migrate:baseline`, as written after the word.
    pub fn parse(arguments: &str) -> Result<Squashed, String> {
        const FORM: &str = "write it as `migrate:baseline <first>..<last> migrations=<count> chain=<sha-256 in hex>` \
                            (as `cargo xtask squash` does)";
        let mut words = arguments.split_whitespace();
        let range = words.next().ok_or_else(|| format!("it names no range; {FORM}"))?;
        let (first, last) = range
            .split_once("..")
            .and_then(|(a, b)| Some((a.parse::<i64>().ok()?, b.parse::<i64>().ok()?)))
            .ok_or_else(|| format!("`{range}` is not a range of versions such as `1..120`; {FORM}"))?;
        if first < 1 || first > last {
            return Err(format!(
                "`{range}` is an empty or negative range: the first version must be at least 1 and at most the last"
            ));
        }
        let (mut migrations, mut chain) = (None, None);
        for word in words {
            match word.split_once('=') {
                Some(("migrations", count)) => {
                    migrations = Some(
                        count
                            .parse::<u64>()
                            .ok()
                            .filter(|n| *n >= 1)
                            .ok_or_else(|| format!("`migrations={count}` is not a count from 1"))?,
                    );
                }
                Some(("chain", hex)) => {
                    chain = Some(
                        Checksum::from_hex(hex)
                            .ok_or_else(|| format!("`chain={hex}` is not a SHA-256 in hex (64 digits)"))?,
                    );
                }
                _ => return Err(format!("`{word}` is not an argument of `migrate:baseline`; {FORM}")),
            }
        }
        let migrations = migrations.ok_or_else(|| format!("it gives no `migrations=<count>`; {FORM}"))?;
        let chain = chain.ok_or_else(|| format!("it gives no `chain=<sha-256>`; {FORM}"))?;
        let span = u64::try_from(last - first).unwrap_or(u64::MAX).saturating_add(1);
        if migrations > span {
            return Err(format!(
                "`migrations={migrations}` is more than the {span} version(s) of `{range}` can hold"
            ));
        }
        Ok(Squashed {
            first,
            last,
            migrations,
            chain,
        })
    }

    /// The directive's line, as `cargo xtask squash` writes it.
    pub fn directive(&self, language: Language) -> String {
        format!(
            "{} migrate:baseline {}..{} migrations={} chain={}",
            language.comment(),
            self.first,
            self.last,
            self.migrations,
            self.chain.to_hex()
        )
    }

    /// Whether `version` is one the baseline replaced.
    pub fn covers(&self, version: i64) -> bool {
        (self.first..=self.last).contains(&version)
    }
}

/// The folder rules of a baseline: in an SQL folder's up file, as its first
/// migration, its range ending at its own version, its down file
/// irreversible (a baseline stands for many migrations; it is not undone
/// as one), and only one.
pub(crate) fn check(migrations: &[ScannedMigration], language: Language, problems: &mut Vec<Problem>) {
    for (index, migration) in migrations.iter().enumerate() {
        if migration.down.header.baseline.is_some() {
            problems.push(Problem::new(
                Rule::Baseline,
                &migration.down.path,
                format!(
                    "`{}`: `migrate:baseline` belongs in the up file `{}`",
                    migration.down.file_name, migration.up.file_name
                ),
            ));
        }
        let Some(arguments) = &migration.up.header.baseline else {
            continue;
        };
        let file = &migration.up.file_name;
        let mut refuse = |message: String| {
            problems.push(Problem::new(
                Rule::Baseline,
                &migration.up.path,
                format!("`{file}`: {message}"),
            ));
        };
        if language != Language::Sql {
            refuse(format!(
                "`migrate:baseline` is for SQL folders (a squash dumps an SQL database's schema), not {}",
                language.label()
            ));
            continue;
        }
        if index > 0 {
            refuse(format!(
                "a baseline must be the folder's first migration, but `{}` comes before it; \
                 delete the files of the versions it replaced",
                migrations[0].up.file_name
            ));
        }
        match Squashed::parse(arguments) {
            Err(message) => refuse(format!("bad `migrate:baseline`: {message}")),
            Ok(squashed) if squashed.last != migration.version => refuse(format!(
                "`migrate:baseline {}..{}` must end at the file's own version {}",
                squashed.first, squashed.last, migration.version
            )),
            Ok(_) => {}
        }
        if !migration.down.header.irreversible {
            refuse(format!(
                "the down file `{}` of a baseline must say `-- migrate:irreversible`: a baseline stands \
                 for every migration it replaced and is not reverted as one",
                migration.down.file_name
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Squashed;
    use crate::{Checksum, Language};

    #[test]
    fn reads_what_it_writes_and_refuses_bad_ranges() {
        let squashed = Squashed {
            first: 1,
            last: 120,
            migrations: 118,
            chain: crate::checksum("x"),
        };
        let line = squashed.directive(Language::Sql);
        let arguments = line.strip_prefix("-- migrate:baseline ").unwrap();
        assert_eq!(Squashed::parse(arguments), Ok(squashed));
        let zero = Checksum::ZERO.to_hex();
        assert!(Squashed::parse(&format!("5..2 migrations=1 chain={zero}"))
            .unwrap_err()
            .contains("empty or negative range"));
        assert!(Squashed::parse(&format!("1-2 migrations=1 chain={zero}"))
            .unwrap_err()
            .contains("not a range"));
        assert!(Squashed::parse(&format!("1..2 migrations=3 chain={zero}"))
            .unwrap_err()
            .contains("more than the 2 version(s)"));
        assert!(Squashed::parse("1..2 migrations=2 chain=abc")
            .unwrap_err()
            .contains("not a SHA-256"));
        assert!(Squashed::parse("1..2 migrations=2").unwrap_err().contains("no `chain="));
    }
}
