//! The sets one command works on (`--only`), and the rules every command
//! shares: which commands need one set or a named one, and how a set's
//! output and errors are labelled when several sets are mounted.

use super::failure::Failure;
use super::output::{eprintln, println};
use super::set::Set;
use super::tenants;
use crate::targets::{Target, Targets, Unit};
use crate::Error;

/// One command over the selected sets.
pub(super) struct Ops<'t, 'a> {
    pub(super) targets: &'t Targets<'a>,
    pub(super) selected: Vec<Set<'t, 'a>>,
    /// Several sets (or a tenant set) are mounted: one section per set, then a total.
    pub(super) sections: bool,
    /// Every set's name (a tenant set's, not each tenant's), for messages.
    pub(super) names: Vec<String>,
    /// `--only` was given: the user named the sets.
    pub(super) named: bool,
}

impl<'t, 'a> Ops<'t, 'a> {
    pub(super) fn new(targets: &'t Targets<'a>, only: &[String]) -> Result<Self, Failure> {
        let names = tenants::set_names(targets);
        for name in only {
            if targets.get(name).is_none() && targets.group(name).is_none() {
                let kind = match targets.tenant_set_names().is_empty() {
                    true => "migration set",
                    false => "migration set, tenant set or tenant",
                };
                return Err(Failure::Usage(format!(
                    "no {kind} is named `{name}`; the sets are: {}",
                    names.join(", ")
                )));
            }
        }
        let selected = targets.iter().filter(|t| is_selected(t, only)).map(Set::new).collect();
        Ok(Ops {
            targets,
            selected,
            sections: targets.len() > 1 || !targets.tenant_set_names().is_empty(),
            names,
            named: !only.is_empty(),
        })
    }

    /// With several sets an error says which one it comes from.
    pub(super) fn blame(&self, set: &Set, err: Error) -> Failure {
        if self.sections {
            set.target.blame(err).into()
        } else {
            err.into()
        }
    }

    /// A plan that failed (`plan`, `up --dry-run`): a refusal is what `up`
    /// would answer, so it is printed as such, with check's exit code (2);
    /// a database that cannot be read stays the error it is (1).
    pub(super) fn refused_plan(&self, set: &Set, err: Error) -> Failure {
        if err.exit_code() != 2 {
            return self.blame(set, err);
        }
        match self.sections {
            true => eprintln!("error: {}: `up` will refuse: {err}", set.label()),
            false => eprintln!("error: `up` will refuse: {err}"),
        }
        Failure::Reported(2)
    }

    /// `== name ==` before a set's output when several sets are mounted.
    pub(super) fn section(&self, index: usize, set: &Set) {
        if self.sections {
            if index > 0 {
                println!();
            }
            println!("== {} ==", set.target.name());
        }
    }

    /// The one set a command that changes a single record works on.
    pub(super) fn one(&self, command: &str) -> Result<&Set<'t, 'a>, Failure> {
        match self.selected.as_slice() {
            [set] => Ok(set),
            _ => Err(Failure::Usage(format!(
                "`{command}` works on one migration set: name it with --only NAME (the sets are: {})",
                self.names.join(", ")
            ))),
        }
    }

    /// Commands that destroy data do not run across every set by default.
    pub(super) fn explicit(&self, command: &str) -> Result<(), Failure> {
        if self.sections && !self.named {
            return Err(Failure::Usage(format!(
                "`{command}` reverts migrations, so with several migration sets it needs --only NAME \
                 (repeatable) to say which (the sets are: {})",
                self.names.join(", ")
            )));
        }
        Ok(())
    }

    /// `--to` is a version of one set's folder.
    pub(super) fn one_for_version(&self, command: &str) -> Result<(), Failure> {
        if self.selected.len() > 1 {
            return Err(Failure::Usage(format!(
                "`{command} --to` names a version of one migration set: add --only NAME (the sets are: {})",
                self.names.join(", ")
            )));
        }
        Ok(())
    }

    /// The selected sets with each tenant set's tenants gathered.
    pub(super) fn units(&self) -> Vec<Unit<'t, &Set<'t, 'a>>> {
        self.targets.units(&self.selected, |set| set.target)
    }
}

/// `--only` takes a set's name, a tenant's, or a tenant set's (all its
/// tenants); without it every set is selected.
fn is_selected(target: &Target<'_>, only: &[String]) -> bool {
    only.is_empty()
        || only
            .iter()
            .any(|name| name == target.name() || Some(name.as_str()) == target.group())
}
