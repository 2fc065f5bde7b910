//! The renewal of the lock node's lease (the lease and the task are the
//! shared ones of lease.rs).

use super::cypher::fetch_rows;
use crate::lease::Renewal;
pub(super) use crate::lease::{lease_for, Heartbeat};
use neo4rs::{query, Graph};
use std::time::Duration;

/// Renews the lock of `owner` every third of `lease` until stopped or the
/// lock is no longer `owner`'s (then the next step's guard reports it).
pub(super) fn start(graph: Graph, lock_label: &str, owner: String, lease: Duration) -> Heartbeat {
    let renew = format!(
        "MATCH (l:{lock_label} {{id: 1}}) WHERE l.owner = $owner \
         SET l.expires_at = datetime() + duration({{milliseconds: $lease_ms}}) RETURN count(l) AS renewed"
    );
    Heartbeat::start("Neo4j migration lock", lease, graph, move |graph| {
        let q = query(&renew)
            .param("owner", owner.as_str())
            .param("lease_ms", lease.as_millis() as i64);
        Box::pin(async move {
            match fetch_rows(graph, q).await {
                Ok(rows) if rows.first().and_then(|r| r.get::<i64>("renewed").ok()) == Some(1) => Renewal::Renewed,
                Ok(_) => Renewal::Lost,
                Err(err) => Renewal::Failed(err.to_string()),
            }
        })
    })
}
