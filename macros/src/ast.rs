use std::path::PathBuf;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr};

/// `embed_migrations!("path/to/folder")`, or with the database its Rust code
/// migrations are written for: `embed_migrations!("migrations", database = sqlite)`.
pub(crate) struct Input {
    pub path: LitStr,
    pub database: Option<Database>,
}

/// The databases a code migration can be written for, as the macro's
/// `database = ...` names them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Database {
    Sqlite,
    Postgres,
    MySql,
    Neo4j,
    Chroma,
}

/// What `database = ...` accepts, for messages.
pub(crate) const DATABASES: &str = "`sqlite`, `postgres`, `mysql`, `neo4j` or `chroma`";

impl Database {
    fn from_ident(ident: &Ident) -> Option<Database> {
        Some(match ident.to_string().as_str() {
            "sqlite" => Database::Sqlite,
            "postgres" => Database::Postgres,
            "mysql" => Database::MySql,
            "neo4j" => Database::Neo4j,
            "chroma" => Database::Chroma,
            _ => return None,
        })
    }

    /// The runtime's marker type, `embedded_migrations::code::Sqlite` ...
    pub(crate) fn marker(self) -> proc_macro2::TokenStream {
        match self {
            Database::Sqlite => quote::quote!(::embedded_migrations::code::Sqlite),
            Database::Postgres => quote::quote!(::embedded_migrations::code::Postgres),
            Database::MySql => quote::quote!(::embedded_migrations::code::MySql),
            Database::Neo4j => quote::quote!(::embedded_migrations::code::Neo4j),
            Database::Chroma => quote::quote!(::embedded_migrations::code::Chroma),
        }
    }

    /// The query language of the database's migration files.
    pub(crate) fn language(self) -> embedded_migrations_core::Language {
        match self {
            Database::Neo4j => embedded_migrations_core::Language::Cypher,
            Database::Chroma => embedded_migrations_core::Language::Chroma,
            _ => embedded_migrations_core::Language::Sql,
        }
    }
}

impl Input {
    /// The folder, resolved against the crate being compiled.
    pub(crate) fn folder(&self) -> PathBuf {
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_default();
        manifest_dir.join(self.path.value())
    }
}

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(input.error("expected the migration folder, e.g. `embed_migrations!(\"migrations\")`"));
        }
        let path: LitStr = input.parse()?;
        let _: Option<syn::Token![,]> = input.parse()?;
        let mut database = None;
        if !input.is_empty() {
            if !input.peek(Ident) {
                return Err(input.error(
                    "`embed_migrations!` takes the migration folder, then optionally `database = sqlite` \
                     (the database its Rust code migrations are written for)",
                ));
            }
            let key: Ident = input.parse()?;
            if key != "database" {
                return Err(syn::Error::new(
                    key.span(),
                    "`embed_migrations!` takes the migration folder, then optionally `database = sqlite` \
                     (the database its Rust code migrations are written for)",
                ));
            }
            let _: syn::Token![=] = input.parse()?;
            let value: Ident = input.parse()?;
            database = Some(Database::from_ident(&value).ok_or_else(|| {
                syn::Error::new(
                    value.span(),
                    format!("unknown database `{value}`; expected {DATABASES}"),
                )
            })?);
            let _: Option<syn::Token![,]> = input.parse()?;
        }
        if !input.is_empty() {
            return Err(
                input.error("`embed_migrations!` takes the migration folder, then optionally `database = sqlite`")
            );
        }
        Ok(Input { path, database })
    }
}
