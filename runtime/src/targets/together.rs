//! Tenants read together: those whose database hands out
//! [`SharedReads`](crate::backend::SharedReads) (PostgreSQL schemas of one
//! database, MySQL databases of one server) are grouped by where their
//! tracking tables live, and each group is read in one query through one
//! of its handles. A group whose read fails (a table of an older release, a
//! permission, one broken tenant) is left to the per-tenant path, where
//! each tenant gets its own answer and its own error.

use super::target::Target;
use crate::backend::{SharedReads, State};
use crate::readiness::Readiness;
use crate::Settings;
use std::collections::BTreeMap;

/// The tenants of one placement key, read through the first one's handle.
struct Group<'t> {
    reader: &'t dyn SharedReads,
    /// Indexes into the tenants given.
    members: Vec<usize>,
    /// Each member's placed settings, in the same order.
    settings: Vec<Settings>,
}

/// The tenants that can be read together, by placement key; a group of one
/// gains nothing over its own read and is left out.
fn groups<'t>(tenants: &[&'t Target<'_>]) -> Vec<Group<'t>> {
    let mut groups: BTreeMap<String, Group<'t>> = BTreeMap::new();
    for (index, tenant) in tenants.iter().enumerate() {
        let Some(reader) = tenant.db().shared_reads() else {
            continue;
        };
        let Some(placement) = reader.placement(tenant.settings()) else {
            continue;
        };
        let group = groups.entry(placement.key).or_insert_with(|| Group {
            reader,
            members: Vec::new(),
            settings: Vec::new(),
        });
        group.members.push(index);
        group.settings.push(placement.settings);
    }
    groups.into_values().filter(|g| g.members.len() > 1).collect()
}

/// For each tenant, whether a shared read found its state row exactly
/// where this binary wants it (the boot check); `false` for every tenant
/// that was not read together or differs, which takes the per-tenant path.
pub(crate) async fn up_to_date(tenants: &[&Target<'_>]) -> Vec<bool> {
    let mut current = vec![false; tenants.len()];
    let reads = groups(tenants).into_iter().map(|group| async move {
        let states = group.reader.read_states(&group.settings).await;
        (group.members, states)
    });
    for (members, states) in futures_util::future::join_all(reads).await {
        let states: Vec<Option<State>> = match states {
            Ok(states) => states,
            Err(err) => {
                tracing::debug!(error = %err, "reading the tenants' states together failed; reading each alone");
                continue;
            }
        };
        for (index, state) in members.into_iter().zip(states) {
            current[index] = state.is_some_and(|state| tenants[index].engine().up_to_date(&state));
        }
    }
    current
}

/// Each tenant's readiness, where a shared read could judge it (every
/// tenant of a group whose read succeeded); `None` for the others.
pub(crate) async fn readiness(tenants: &[&Target<'_>]) -> Vec<Option<Readiness>> {
    let mut judged = vec![None; tenants.len()];
    let reads = groups(tenants).into_iter().map(|group| async move {
        let records = group.reader.read_records(&group.settings).await;
        (group.reader, group.members, records)
    });
    for (reader, members, records) in futures_util::future::join_all(reads).await {
        let records = match records {
            Ok(records) => records,
            Err(err) => {
                tracing::debug!(error = %err, "reading the tenants' records together failed; reading each alone");
                continue;
            }
        };
        for (index, records) in members.into_iter().zip(records) {
            let Some(records) = records else {
                continue;
            };
            let engine = tenants[index].engine();
            judged[index] = Some(engine.readiness_of_records(reader.backend(), reader.dialect(), records));
        }
    }
    judged
}

/// The server a tenant's database is on, where the backend can say.
pub(crate) fn server(tenant: &Target<'_>) -> Option<String> {
    Some(tenant.db().shared_reads()?.server())
}
