//! Neo4j: `SHOW CONSTRAINTS` and `SHOW INDEXES` (each with its type, entity,
//! labels or relationship types and properties), and the labels and
//! relationship types in use (nodes or relationships carry them). The
//! tracking nodes' labels, and the constraints and indexes on them, are left
//! out. The schema record is one node, `(:<tracking label>Schema {id: 1})`
//! (`<table>_schema` for a custom table name).

use super::cypher::fetch_rows;
use super::errors::NAME;
use super::labels::Labels;
use super::PinnedGraph;
use crate::backend::{Snapshot, SnapshotFuture};
use crate::snapshot::{SchemaRecord, SchemaSnapshot};
use crate::{Error, Settings};
use neo4rs::{query, Graph, Query, Row};

async fn rows(graph: &Graph, q: Query, operation: &str) -> Result<Vec<Row>, Error> {
    fetch_rows(graph, q)
        .await
        .map_err(|e| Error::database(NAME, operation, e))
}

fn get<T: row_types::FromRow>(row: &Row, key: &str, operation: &str) -> Result<T, Error> {
    T::get(row, key).map_err(|e| Error::database(NAME, operation, format!("column {key}: {e}")))
}

/// What neo4rs can read from a row, for the few types read here.
mod row_types {
    pub(super) trait FromRow: Sized {
        fn get(row: &neo4rs::Row, key: &str) -> Result<Self, neo4rs::DeError>;
    }
    impl FromRow for String {
        fn get(row: &neo4rs::Row, key: &str) -> Result<Self, neo4rs::DeError> {
            row.get(key)
        }
    }
    impl FromRow for Vec<String> {
        fn get(row: &neo4rs::Row, key: &str) -> Result<Self, neo4rs::DeError> {
            row.get(key)
        }
    }
    impl FromRow for i64 {
        fn get(row: &neo4rs::Row, key: &str) -> Result<Self, neo4rs::DeError> {
            row.get(key)
        }
    }
}

async fn snapshot(graph: &Graph, settings: &Settings) -> Result<SchemaSnapshot, Error> {
    settings.check()?;
    let tracking = Labels::unquoted(settings);
    let mut snapshot = SchemaSnapshot::new();
    add_constraints_and_indexes(graph, &tracking, &mut snapshot).await?;
    add_tokens_in_use(graph, &tracking, &mut snapshot).await?;
    Ok(snapshot)
}

/// Every constraint and index but those on the tracking labels.
async fn add_constraints_and_indexes(
    graph: &Graph,
    tracking: &[String],
    snapshot: &mut SchemaSnapshot,
) -> Result<(), Error> {
    for (kind, command, extra) in [
        ("constraint", "SHOW CONSTRAINTS", ""),
        ("index", "SHOW INDEXES", ", coalesce(owningConstraint, '') AS owner"),
    ] {
        let operation = format!("reading the schema ({command})");
        let yield_owner = if extra.is_empty() { "" } else { ", owningConstraint" };
        let q = query(&format!(
            "{command} YIELD name, type, entityType, labelsOrTypes, properties{yield_owner} \
             RETURN name, type, entityType, coalesce(labelsOrTypes, []) AS labels, \
             coalesce(properties, []) AS properties{extra}"
        ));
        for row in rows(graph, q, &operation).await? {
            let labels: Vec<String> = get(&row, "labels", &operation)?;
            if labels.iter().any(|label| tracking.contains(label)) {
                continue;
            }
            let properties: Vec<String> = get(&row, "properties", &operation)?;
            let mut definition = format!(
                "{} {} {}({})",
                get::<String>(&row, "type", &operation)?,
                get::<String>(&row, "entityType", &operation)?,
                labels.join("|"),
                properties.join(", ")
            );
            if !extra.is_empty() {
                let owner: String = get(&row, "owner", &operation)?;
                if !owner.is_empty() {
                    definition.push_str(&format!(" OWNED BY {owner}"));
                }
            }
            snapshot.insert(kind, &get::<String>(&row, "name", &operation)?, &definition);
        }
    }
    Ok(())
}

/// The labels and relationship types in use, but the tracking labels.
async fn add_tokens_in_use(graph: &Graph, tracking: &[String], snapshot: &mut SchemaSnapshot) -> Result<(), Error> {
    // db.labels() and db.relationshipTypes() list the tokens in use; each is
    // confirmed with a count from the count store (constant time), so a
    // token left over from deleted data is not reported.
    for (kind, procedure, column, pattern) in [
        ("label", "db.labels", "label", "(n:`{}`)"),
        (
            "relationship type",
            "db.relationshipTypes",
            "relationshipType",
            "()-[n:`{}`]->()",
        ),
    ] {
        let operation = format!("reading the schema ({procedure})");
        let q = query(&format!("CALL {procedure}() YIELD {column} RETURN {column} AS name"));
        for row in rows(graph, q, &operation).await? {
            let name: String = get(&row, "name", &operation)?;
            if tracking.contains(&name) {
                continue;
            }
            let matched = pattern.replace("{}", &name.replace('`', "``"));
            let q = query(&format!("MATCH {matched} RETURN count(n) AS n"));
            let count = match rows(graph, q, &operation).await?.first() {
                Some(row) => get::<i64>(row, "n", &operation)?,
                None => 0,
            };
            if count > 0 {
                snapshot.insert(kind, &name, "in use");
            }
        }
    }
    Ok(())
}

async fn save(graph: &Graph, settings: &Settings, record: &SchemaRecord) -> Result<(), Error> {
    settings.check()?;
    let label = Labels::new(settings).schema;
    let q = query(&format!(
        "MERGE (s:{label} {{id: 1}}) SET s.version = $version, s.hash = $hash, s.snapshot = $snapshot, \
         s.recorded_at = $recorded_at"
    ))
    .param("version", record.version)
    .param("hash", record.hash.to_hex())
    .param("snapshot", record.snapshot.text())
    .param("recorded_at", record.recorded_at.clone());
    graph
        .run(q)
        .await
        .map_err(|e| Error::database(NAME, "writing the schema record", e))
}

async fn load(graph: &Graph, settings: &Settings) -> Result<Option<SchemaRecord>, Error> {
    settings.check()?;
    let operation = "reading the schema record";
    let label = Labels::new(settings).schema;
    let q = query(&format!(
        "MATCH (s:{label} {{id: 1}}) RETURN s.version AS version, s.hash AS hash, s.snapshot AS snapshot, \
         s.recorded_at AS recorded_at"
    ));
    let Some(row) = rows(graph, q, operation).await?.into_iter().next() else {
        return Ok(None);
    };
    Ok(Some(SchemaRecord::from_stored(
        get(&row, "version", operation)?,
        &get::<String>(&row, "hash", operation)?,
        &get::<String>(&row, "snapshot", operation)?,
        get(&row, "recorded_at", operation)?,
    )))
}

impl Snapshot for Graph {
    fn snapshot<'a>(&'a self, settings: &'a Settings) -> SnapshotFuture<'a, SchemaSnapshot> {
        Box::pin(snapshot(self, settings))
    }

    fn save_schema_record<'a>(&'a self, settings: &'a Settings, record: &'a SchemaRecord) -> SnapshotFuture<'a, ()> {
        Box::pin(save(self, settings, record))
    }

    fn load_schema_record<'a>(&'a self, settings: &'a Settings) -> SnapshotFuture<'a, Option<SchemaRecord>> {
        Box::pin(load(self, settings))
    }
}

impl Snapshot for PinnedGraph<'_> {
    fn snapshot<'a>(&'a self, settings: &'a Settings) -> SnapshotFuture<'a, SchemaSnapshot> {
        Box::pin(snapshot(self.graph, settings))
    }

    fn save_schema_record<'a>(&'a self, settings: &'a Settings, record: &'a SchemaRecord) -> SnapshotFuture<'a, ()> {
        Box::pin(save(self.graph, settings, record))
    }

    fn load_schema_record<'a>(&'a self, settings: &'a Settings) -> SnapshotFuture<'a, Option<SchemaRecord>> {
        Box::pin(load(self.graph, settings))
    }
}
