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
            // `count` answers one row always: only a count of 0 says the
            // lock is another's. No row, or one that does not decode, is an
            // answer not read (a pooled connection that a dropped query
            // left mid-stream answers the next query with no rows):
            // stopping then would let a live holder's lease lapse, so it is
            // retried like an error.
            let renewed = fetch_rows(graph, q)
                .await
                .map(|rows| rows.first().and_then(|r| r.get::<i64>("renewed").ok()));
            match renewed {
                Ok(Some(1)) => Renewal::Renewed,
                Ok(Some(_)) => Renewal::Lost,
                Ok(None) => Renewal::Failed("the renewal read no answer".to_string()),
                Err(err) => Renewal::Failed(err.to_string()),
            }
        })
    })
}
