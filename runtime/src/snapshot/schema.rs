//! The schema as text: a sorted set of named objects, and the difference
//! between two such sets.

use crate::Checksum;
use std::collections::BTreeMap;
use std::fmt;

/// The schema of a database as a sorted set of named objects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchemaSnapshot {
    objects: BTreeMap<String, String>,
}

impl SchemaSnapshot {
    /// An empty snapshot; add objects with [`insert`](Self::insert).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an object: `kind` (`table`, `index`, ...), its `name`, and its
    /// definition (whitespace is collapsed, so layout does not matter). A
    /// `": "` in the key loses its space, so that [`parse`](Self::parse)
    /// reads the line back the same.
    pub fn insert(&mut self, kind: &str, name: &str, definition: &str) {
        let key = collapse_whitespace(&format!("{kind} {name}")).replace(": ", ":");
        self.objects.insert(key, collapse_whitespace(definition));
    }

    /// `(key, definition)` of every object, sorted by key.
    pub fn objects(&self) -> impl Iterator<Item = (&str, &str)> {
        self.objects.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many objects it holds.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether it holds no object.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The snapshot as text: one `key: definition` line per object, sorted.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for (key, definition) in &self.objects {
            text.push_str(key);
            text.push_str(": ");
            text.push_str(definition);
            text.push('\n');
        }
        text
    }

    /// Reads back what [`text`](Self::text) wrote.
    pub fn parse(text: &str) -> SchemaSnapshot {
        let objects = text
            .lines()
            .filter(|line| !line.is_empty())
            .map(|line| match line.split_once(": ") {
                Some((key, definition)) => (key.to_string(), definition.to_string()),
                None => (line.trim_end_matches(':').to_string(), String::new()),
            })
            .collect();
        SchemaSnapshot { objects }
    }

    /// SHA-256 of [`text`](Self::text): equal schemas, equal hashes.
    pub fn hash(&self) -> Checksum {
        crate::core::checksum(&self.text())
    }

    /// What differs from `self` (before) to `after`, by object.
    pub fn diff(&self, after: &SchemaSnapshot) -> SchemaDiff {
        let mut changes = Vec::new();
        for (key, before) in &self.objects {
            match after.objects.get(key) {
                None => changes.push(ObjectChange::Removed {
                    object: key.clone(),
                    definition: before.clone(),
                }),
                Some(now) if now != before => changes.push(ObjectChange::Changed {
                    object: key.clone(),
                    before: before.clone(),
                    after: now.clone(),
                }),
                Some(_) => {}
            }
        }
        for (key, now) in &after.objects {
            if !self.objects.contains_key(key) {
                changes.push(ObjectChange::Added {
                    object: key.clone(),
                    definition: now.clone(),
                });
            }
        }
        changes.sort_by(|a, b| a.object().cmp(b.object()));
        SchemaDiff { changes }
    }
}

impl fmt::Display for SchemaSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

/// The objects that differ between two snapshots, sorted by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchemaDiff {
    /// Each object that differs, sorted by key.
    pub changes: Vec<ObjectChange>,
}

impl SchemaDiff {
    /// Whether the two snapshots hold the same objects, defined the same.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The keys (`index users_email`, ...) of the objects that differ.
    pub fn objects(&self) -> Vec<&str> {
        self.changes.iter().map(ObjectChange::object).collect()
    }
}

/// One object that differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectChange {
    /// In the second snapshot only.
    Added {
        /// The object's key: `<kind> <name>`.
        object: String,
        /// Its definition in the second snapshot.
        definition: String,
    },
    /// In the first snapshot only.
    Removed {
        /// The object's key: `<kind> <name>`.
        object: String,
        /// Its definition in the first snapshot.
        definition: String,
    },
    /// In both, defined differently.
    Changed {
        /// The object's key: `<kind> <name>`.
        object: String,
        /// Its definition in the first snapshot.
        before: String,
        /// Its definition in the second snapshot.
        after: String,
    },
}

impl ObjectChange {
    /// The object's key: `<kind> <name>`.
    pub fn object(&self) -> &str {
        match self {
            ObjectChange::Added { object, .. }
            | ObjectChange::Removed { object, .. }
            | ObjectChange::Changed { object, .. } => object,
        }
    }
}

impl fmt::Display for SchemaDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for change in &self.changes {
            match change {
                ObjectChange::Added { object, definition } => writeln!(f, "+ {object}: {definition}")?,
                ObjectChange::Removed { object, definition } => writeln!(f, "- {object}: {definition}")?,
                ObjectChange::Changed { object, before, after } => {
                    writeln!(f, "~ {object}:\n    was: {before}\n    now: {after}")?
                }
            }
        }
        Ok(())
    }
}

/// Runs of whitespace become one space; none is kept after `(` or before
/// `)` and `,`: the same definition laid out differently is the same text.
pub(crate) fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.trim().chars() {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space && !out.ends_with('(') && c != ')' && c != ',' {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_sorted_and_reads_back() {
        let mut a = SchemaSnapshot::new();
        a.insert("table", "b", "columns(x)");
        a.insert("index", "a_x", "CREATE  INDEX a_x\n ON a ( x )");
        let mut b = SchemaSnapshot::new();
        b.insert("index", "a_x", "CREATE INDEX a_x ON a (x)");
        b.insert("table", "b", "columns(x)");
        assert_eq!(a.text(), "index a_x: CREATE INDEX a_x ON a (x)\ntable b: columns(x)\n");
        assert_eq!(a, b, "insertion order and layout do not matter");
        assert_eq!(a.hash(), b.hash());
        assert_eq!(SchemaSnapshot::parse(&a.text()), a);
        a.insert("constraint", "t.CHECK (x = 'a: b')", "CHECK (x = 'a: b')");
        assert_eq!(SchemaSnapshot::parse(&a.text()), a, "a key with `: ` reads back");
    }

    #[test]
    fn diff_names_added_removed_and_changed_objects() {
        let mut before = SchemaSnapshot::new();
        before.insert("table", "users", "columns(id)");
        before.insert("index", "gone", "x");
        let mut after = SchemaSnapshot::new();
        after.insert("table", "users", "columns(id, email)");
        after.insert("index", "new", "y");
        let diff = before.diff(&after);
        assert_eq!(diff.objects(), ["index gone", "index new", "table users"]);
        assert!(matches!(diff.changes[0], ObjectChange::Removed { .. }));
        assert!(matches!(diff.changes[1], ObjectChange::Added { .. }));
        assert!(before.diff(&before).is_empty());
        let text = diff.to_string();
        assert!(
            text.contains("- index gone: x") && text.contains("+ index new: y"),
            "{text}"
        );
    }
}
