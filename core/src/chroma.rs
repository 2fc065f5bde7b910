//! ChromaDB migration files: `<version>_<name>.up.toml` and its down, each
//! a list of collection steps run in order.
//!
//! ```toml
//! # description: the documents collection, cosine distance
//! [[step]]
//! op = "create"
//! collection = "documents"
//! space = "cosine"
//! hnsw = { ef_construction = 200, max_neighbors = 32 }
//! metadata = { embedding_model = "all-MiniLM-L6-v2" }
//! ```
//!
//! The steps are `create`, `delete`, `modify` (rename and/or replace the
//! metadata) and `copy` (a collection's records into a new collection, in
//! batches: a `copy` is its migration's only step, and runs as a batch
//! migration with progress and a checkpoint). TOML and not JSON because a
//! migration is written by hand and read in review: it has comments, which
//! carry the header every other language has (`# description:`,
//! `# migrate:irreversible`), and no brace to miss.
//!
//! The macro reads both files with [`parse`] and checks that the down
//! file reverts what the up file does; the runtime reads the embedded text
//! with the same [`parse`] when it applies it.

use crate::{Problem, Rule, ScannedFile};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// Records per batch of a `copy` step without `batch_size`.
pub const DEFAULT_BATCH_SIZE: u64 = 500;

/// A metadata value: Chroma keeps strings, integers, floats and booleans.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum MetadataValue {
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
}

/// A collection's metadata, by key.
pub type Metadata = BTreeMap<String, MetadataValue>;

/// The distance function of a collection's HNSW index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Space {
    /// Squared Euclidean distance, Chroma's default.
    L2,
    /// Cosine distance.
    Cosine,
    /// Inner product.
    Ip,
}

impl Space {
    /// `l2`, `cosine`, `ip`: as Chroma names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Space::L2 => "l2",
            Space::Cosine => "cosine",
            Space::Ip => "ip",
        }
    }
}

/// HNSW settings of a new collection; those left out keep Chroma's
/// defaults.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hnsw {
    /// Candidates kept while the index is built.
    pub ef_construction: Option<u64>,
    /// Candidates kept while it is searched.
    pub ef_search: Option<u64>,
    /// Neighbours per node (`M`).
    pub max_neighbors: Option<u64>,
    /// Threads that build the index.
    pub num_threads: Option<u64>,
    /// Vectors per index write.
    pub batch_size: Option<u64>,
    /// Vectors buffered before the index is written.
    pub sync_threshold: Option<u64>,
    /// How much the index grows when full.
    pub resize_factor: Option<f64>,
}

/// The configuration of a collection a step creates.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewCollection {
    /// Its distance function; Chroma's default (`l2`) when left out.
    pub space: Option<Space>,
    /// Its HNSW settings.
    pub hnsw: Option<Hnsw>,
    /// Its metadata.
    pub metadata: Option<Metadata>,
}

/// One step of a ChromaDB migration file.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// `op = "create"`: a new collection, refused if it exists.
    Create {
        /// Its name.
        collection: String,
        /// Its configuration.
        config: NewCollection,
    },
    /// `op = "delete"`: a collection and its records.
    Delete {
        /// Its name.
        collection: String,
    },
    /// `op = "modify"`: rename a collection and/or replace its metadata.
    Modify {
        /// Its name before the step.
        collection: String,
        /// Its new name.
        rename: Option<String>,
        /// Its new metadata, replacing the old.
        metadata: Option<Metadata>,
    },
    /// `op = "copy"`: every record of `from` (ids, embeddings, documents,
    /// metadata, URIs) into `to`, created with `config` unless it exists,
    /// `batch_size` records at a time.
    Copy {
        /// The collection read.
        from: String,
        /// The collection written.
        to: String,
        /// Records per batch.
        batch_size: u64,
        /// The configuration of `to` when the step creates it.
        config: NewCollection,
    },
}

impl Step {
    /// `create`, `delete`, `modify`, `copy`.
    pub fn op(&self) -> &'static str {
        match self {
            Step::Create { .. } => "create",
            Step::Delete { .. } => "delete",
            Step::Modify { .. } => "modify",
            Step::Copy { .. } => "copy",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateFields {
    collection: String,
    space: Option<Space>,
    hnsw: Option<Hnsw>,
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteFields {
    collection: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModifyFields {
    collection: String,
    rename: Option<String>,
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CopyFields {
    from: String,
    to: String,
    batch_size: Option<u64>,
    space: Option<Space>,
    hnsw: Option<Hnsw>,
    metadata: Option<Metadata>,
}

/// The steps of a file's text, or what is wrong with them (naming the
/// step). A file of comments alone has none.
pub fn parse(text: &str) -> Result<Vec<Step>, String> {
    let text = crate::split::strip_bom(text);
    let mut table: toml::Table = toml::from_str(text).map_err(|err| format!("not valid TOML: {}", err.message()))?;
    let steps = match table.remove("step") {
        None => Vec::new(),
        Some(toml::Value::Array(steps)) => steps,
        Some(_) => return Err("`step` must be an array of tables, each written `[[step]]`".to_string()),
    };
    if let Some(key) = table.keys().next() {
        return Err(format!(
            "unknown key `{key}`: a ChromaDB migration file holds only `[[step]]` tables"
        ));
    }
    steps
        .into_iter()
        .enumerate()
        .map(|(index, step)| read_step(step).map_err(|why| format!("step {}: {why}", index + 1)))
        .collect()
}

fn read_step(step: toml::Value) -> Result<Step, String> {
    let toml::Value::Table(mut fields) = step else {
        return Err("a step is a table, written `[[step]]`".to_string());
    };
    let op = match fields.remove("op") {
        Some(toml::Value::String(op)) => op,
        _ => return Err("it has no `op = \"create\"` (or `delete`, `modify`, `copy`)".to_string()),
    };
    let fields = toml::Value::Table(fields);
    let read = |err: toml::de::Error| format!("`op = \"{op}\"`: {}", err.message().trim());
    let step = match op.as_str() {
        "create" => {
            let f: CreateFields = fields.try_into().map_err(read)?;
            Step::Create {
                collection: f.collection,
                config: NewCollection {
                    space: f.space,
                    hnsw: f.hnsw,
                    metadata: f.metadata,
                },
            }
        }
        "delete" => {
            let f: DeleteFields = fields.try_into().map_err(read)?;
            Step::Delete {
                collection: f.collection,
            }
        }
        "modify" => {
            let f: ModifyFields = fields.try_into().map_err(read)?;
            if f.rename.is_none() && f.metadata.is_none() {
                return Err(format!(
                    "`op = \"modify\"` of `{}` changes nothing: give it `rename` and/or `metadata`",
                    f.collection
                ));
            }
            Step::Modify {
                collection: f.collection,
                rename: f.rename,
                metadata: f.metadata,
            }
        }
        "copy" => {
            let f: CopyFields = fields.try_into().map_err(read)?;
            let batch_size = f.batch_size.unwrap_or(DEFAULT_BATCH_SIZE);
            if batch_size == 0 {
                return Err("`op = \"copy\"`: `batch_size` must be positive".to_string());
            }
            Step::Copy {
                from: f.from,
                to: f.to,
                batch_size,
                config: NewCollection {
                    space: f.space,
                    hnsw: f.hnsw,
                    metadata: f.metadata,
                },
            }
        }
        other => {
            return Err(format!(
                "unknown `op = \"{other}\"`; a step is `create`, `delete`, `modify` or `copy`"
            ))
        }
    };
    for name in step_names(&step) {
        check_name(name)?;
    }
    Ok(step)
}

/// The collection names a step mentions.
fn step_names(step: &Step) -> Vec<&str> {
    match step {
        Step::Create { collection, .. } | Step::Delete { collection } => vec![collection],
        Step::Modify { collection, rename, .. } => {
            std::iter::once(collection.as_str()).chain(rename.as_deref()).collect()
        }
        Step::Copy { from, to, .. } => vec![from, to],
    }
}

/// Chroma's rule for a collection name: 3 to 512 characters of
/// `[a-zA-Z0-9._-]`, starting and ending with a letter or digit.
pub fn check_name(name: &str) -> Result<(), String> {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let valid = (3..=512).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && edge(name.chars().next())
        && edge(name.chars().last());
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a Chroma collection name: 3 to 512 characters of letters, digits, `.`, `_` and `-`, \
             starting and ending with a letter or digit"
        ))
    }
}

/// The file's `copy` step when it is its one step: a batch migration.
pub fn copy_step(text: &str) -> Option<Step> {
    match parse(text).ok()?.as_slice() {
        [step @ Step::Copy { .. }] => Some(step.clone()),
        _ => None,
    }
}

/// What a list of steps does to the collections it names, from the state
/// before it: those it brings into being, those it takes away, and those
/// whose metadata it replaces.
#[derive(Default)]
struct Effects {
    made: BTreeSet<String>,
    gone: BTreeSet<String>,
    changed: BTreeSet<String>,
}

impl Effects {
    fn of(steps: &[Step]) -> Effects {
        let mut effects = Effects::default();
        for step in steps {
            match step {
                Step::Create { collection, .. } => effects.make(collection),
                Step::Copy { to, .. } => effects.make(to),
                Step::Delete { collection } => effects.remove(collection),
                Step::Modify {
                    collection,
                    rename,
                    metadata,
                } => {
                    if let Some(new) = rename {
                        effects.remove(collection);
                        effects.make(new);
                    } else if metadata.is_some() && !effects.made.contains(collection) {
                        effects.changed.insert(collection.clone());
                    }
                }
            }
        }
        effects
    }

    fn make(&mut self, name: &str) {
        if !self.gone.remove(name) {
            self.made.insert(name.to_string());
        }
    }

    fn remove(&mut self, name: &str) {
        self.changed.remove(name);
        if !self.made.remove(name) {
            self.gone.insert(name.to_string());
        }
    }
}

/// A file's text as the build checks it: each `${name}` read as `name`,
/// so that `docs_${tenant}` is checked as the collection name
/// `docs_tenant`, and a name in the up file and another in the down file
/// stay apart. At run time the values are substituted before parsing.
fn as_built(text: &str) -> String {
    use crate::placeholder::{pieces, Piece};
    match pieces(text) {
        Ok(pieces) => pieces
            .into_iter()
            .map(|piece| match piece {
                Piece::Text(text) | Piece::Placeholder(text) => text,
            })
            .collect(),
        Err(_) => text.to_string(),
    }
}

/// The build-time rules of one ChromaDB migration: both files parse, a
/// `copy` is alone in an up file, no directive that means nothing here,
/// and the down file reverts the up file's effects (unless it says
/// `# migrate:irreversible` or either is a no-op).
pub(crate) fn check(up: &ScannedFile, down: &ScannedFile, problems: &mut Vec<Problem>) {
    let refuse = |problems: &mut Vec<Problem>, file: &ScannedFile, why: String| {
        problems.push(Problem::new(
            Rule::ChromaStep,
            &file.path,
            format!("`{}`: {why}", file.file_name),
        ));
    };
    for file in [up, down] {
        if file.header.no_transaction || file.header.batch.is_some() || file.header.total.is_some() {
            refuse(
                problems,
                file,
                "`migrate:no-transaction`, `migrate:batch` and `migrate:total` mean nothing to ChromaDB, which has no \
                 transactions and batches a `copy` step by itself (`batch_size`); remove the directive"
                    .to_string(),
            );
        }
    }
    let (up_steps, down_steps) = match (parse(&as_built(&up.text)), parse(&as_built(&down.text))) {
        (Ok(up_steps), Ok(down_steps)) => (up_steps, down_steps),
        (up_result, down_result) => {
            for (file, result) in [(up, up_result), (down, down_result)] {
                if let Err(why) = result {
                    refuse(problems, file, why);
                }
            }
            return;
        }
    };
    if up_steps.len() > 1 && up_steps.iter().any(|s| matches!(s, Step::Copy { .. })) {
        refuse(
            problems,
            up,
            "a `copy` step is a batch migration, run batch by batch with a checkpoint, so it is the only step of \
             its file: put the other steps in a migration of their own"
                .to_string(),
        );
    }
    if down_steps.iter().any(|s| matches!(s, Step::Copy { .. })) {
        refuse(
            problems,
            down,
            "a `copy` step belongs in an up file, where it runs batch by batch with a checkpoint; to revert a copy, \
             delete the collection it wrote"
                .to_string(),
        );
    }
    if down.header.irreversible || down.header.noop || up.header.noop {
        return;
    }
    let missing = unreverted(&Effects::of(&up_steps), &Effects::of(&down_steps));
    if !missing.is_empty() {
        refuse(
            problems,
            down,
            format!(
                "does not revert `{}`: {}; add the steps that do, or write `# migrate:irreversible` (and no step) if it \
                 cannot be reverted",
                up.file_name,
                missing.join("; ")
            ),
        );
    }
}

/// What the up file's effects leave that the down file's do not undo.
fn unreverted(up: &Effects, down: &Effects) -> Vec<String> {
    let mut missing = Vec::new();
    for name in up.made.difference(&down.gone) {
        missing.push(format!(
            "the up file creates `{name}`, which the down file does not delete or rename away"
        ));
    }
    for name in up.gone.difference(&down.made) {
        missing.push(format!(
            "the up file deletes or renames `{name}`, which the down file does not create or rename back"
        ));
    }
    for name in &up.changed {
        let touched = down.changed.contains(name) || down.made.contains(name);
        if !touched {
            missing.push(format!(
                "the up file replaces the metadata of `{name}`, which the down file does not set back"
            ));
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_parse_in_order_with_their_configuration() {
        let steps = parse(
            "# description: x\n[[step]]\nop = \"create\"\ncollection = \"docs\"\nspace = \"cosine\"\n\
             hnsw = { ef_construction = 200 }\nmetadata = { model = \"m\", dim = 384 }\n\
             [[step]]\nop = \"modify\"\ncollection = \"docs\"\nrename = \"docs_v1\"\n",
        )
        .unwrap();
        assert_eq!(steps.len(), 2);
        let Step::Create { collection, config } = &steps[0] else {
            panic!()
        };
        assert_eq!(collection, "docs");
        assert_eq!(config.space, Some(Space::Cosine));
        assert_eq!(config.hnsw.as_ref().unwrap().ef_construction, Some(200));
        assert_eq!(config.metadata.as_ref().unwrap()["dim"], MetadataValue::Int(384));
        assert_eq!(steps[1].op(), "modify");
    }

    #[test]
    fn mistakes_name_the_step() {
        let err = parse("[[step]]\nop = \"create\"\ncollection = \"docs\"\nspaec = \"l2\"\n").unwrap_err();
        assert!(
            err.starts_with("step 1: `op = \"create\"`: unknown field `spaec`"),
            "{err}"
        );
        let err = parse("[[step]]\nop = \"drop\"\ncollection = \"docs\"\n").unwrap_err();
        assert!(err.contains("unknown `op = \"drop\"`"), "{err}");
        let err = parse("[[step]]\nop = \"delete\"\ncollection = \"_x\"\n").unwrap_err();
        assert!(err.contains("not a Chroma collection name"), "{err}");
    }

    #[test]
    fn each_step_is_a_statement_at_its_line() {
        use crate::split::{split, Dialect};
        let text = "# description: two\n\n[[step]]\nop = \"create\"\ncollection = \"a;b\"\n\n[[step]]\nop = \"delete\"\ncollection = \"c_1\"\n";
        let steps = split(text, Dialect::Toml);
        assert_eq!(steps.len(), 2);
        assert_eq!((steps[0].line, steps[1].line), (3, 7));
        assert_eq!(steps[0].text, "[[step]]\nop = \"create\"\ncollection = \"a;b\"");
        assert!(split("# migrate:irreversible\n", Dialect::Toml).is_empty());
    }

    #[test]
    fn a_down_must_undo_what_the_up_does() {
        let effects = |text: &str| Effects::of(&parse(text).unwrap());
        let up = effects("[[step]]\nop = \"create\"\ncollection = \"docs\"\n");
        let down = effects("[[step]]\nop = \"delete\"\ncollection = \"docs\"\n");
        assert!(unreverted(&up, &down).is_empty());
        assert_eq!(unreverted(&up, &Effects::default()).len(), 1);
        let rename = effects("[[step]]\nop = \"modify\"\ncollection = \"a_1\"\nrename = \"b_1\"\n");
        let back = effects("[[step]]\nop = \"modify\"\ncollection = \"b_1\"\nrename = \"a_1\"\n");
        assert!(unreverted(&rename, &back).is_empty());
        assert_eq!(unreverted(&rename, &down).len(), 2);
    }
}
