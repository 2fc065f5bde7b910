//! The labels of the tracking nodes, from the settings' table name: the
//! default table gives `__EmbeddedMigration`, `__EmbeddedMigrationHistory`,
//! ...; another name `t` gives `t`, `t_history`, ....

use crate::Settings;

/// Every tracking label, backtick-quoted for Cypher text.
pub(super) struct Labels {
    pub migration: String,
    pub history: String,
    pub state: String,
    pub lock: String,
    /// A batch migration's checkpoint node.
    pub batch: String,
    /// The schema record node.
    pub schema: String,
    /// Prefix of the constraint names.
    pub constraint: String,
}

/// The kinds of tracking node, in the order of their suffixes.
const KINDS: usize = 6;

impl Labels {
    /// `settings` passed `Settings::check`: the table name is an identifier.
    pub(super) fn new(settings: &Settings) -> Labels {
        let [migration, history, state, lock, batch, schema] =
            Self::unquoted(settings).map(|label| format!("`{label}`"));
        Labels {
            migration,
            history,
            state,
            lock,
            batch,
            schema,
            constraint: Self::base(settings).to_string(),
        }
    }

    /// Every tracking label, unquoted: what a schema snapshot leaves out.
    pub(super) fn unquoted(settings: &Settings) -> [String; KINDS] {
        let base = Self::base(settings);
        let suffixes = match base == DEFAULT_BASE {
            true => ["", "History", "State", "Lock", "Batch", "Schema"],
            false => ["", "_history", "_state", "_lock", "_batch", "_schema"],
        };
        suffixes.map(|suffix| format!("{base}{suffix}"))
    }

    fn base(settings: &Settings) -> &str {
        match settings.table_name() == Settings::default().table_name() {
            true => DEFAULT_BASE,
            false => settings.table_name(),
        }
    }
}

/// The label of the default table's tracking nodes.
const DEFAULT_BASE: &str = "__EmbeddedMigration";
