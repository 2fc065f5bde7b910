//! The language a migration table is written in, as a type: a table of
//! one language only runs on a database of the same one, so a Cypher table
//! on a SQL pool does not compile.

/// Marker for a table of SQL migrations.
#[derive(Clone, Copy, Debug)]
pub struct Sql;

/// Marker for a table of Cypher migrations (Neo4j).
#[derive(Clone, Copy, Debug)]
pub struct Cypher;

/// Marker for a table of ChromaDB migrations: `.toml` files of collection
/// steps.
#[derive(Clone, Copy, Debug)]
pub struct Chroma;

/// The language a table is written in. A table only runs on a database of
/// the same language: a Cypher table on a SQL pool does not compile.
pub trait Language: Send + Sync + 'static + sealed::Sealed {
    /// The same language as the folder rules name it.
    const LANGUAGE: embedded_migrations_core::Language;
}

impl Language for Sql {
    const LANGUAGE: embedded_migrations_core::Language = embedded_migrations_core::Language::Sql;
}

impl Language for Cypher {
    const LANGUAGE: embedded_migrations_core::Language = embedded_migrations_core::Language::Cypher;
}

impl Language for Chroma {
    const LANGUAGE: embedded_migrations_core::Language = embedded_migrations_core::Language::Chroma;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Sql {}
    impl Sealed for super::Cypher {}
    impl Sealed for super::Chroma {}
}
