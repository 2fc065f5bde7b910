use embedded_migrations_core::Layout;
use std::path::PathBuf;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr};

/// `embed_migrations!("path/to/folder")`, or with the database its Rust code
/// migrations are written for: `embed_migrations!("migrations", database = sqlite)`,
/// what the build does with the lint's findings: `lint = "deny"`, and
/// another tool's folder layout: `layout = "diesel"`.
pub(crate) struct Input {
    pub path: LitStr,
    pub database: Option<Database>,
    /// `lint = "warn"` or `lint = "deny"`, with the literal for its span.
    pub lint: Option<(Lint, LitStr)>,
    /// `layout = "diesel"` or `layout = "refinery"`: the folder is another
    /// tool's, read as it is laid out; our own layout without it.
    pub layout: Layout,
}

/// What the build does with the lint's findings (core's `lint`): by
/// default nothing (`migrate lint` and `cargo xtask lint` report them);
/// `"warn"` makes each one a warning of the build, `"deny"` an error.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lint {
    Warn,
    Deny,
}

impl Lint {
    fn at(self, literal: LitStr) -> (Lint, LitStr) {
        (self, literal)
    }
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

    /// How the lint reads the database's statements; `None` where it has
    /// no rules (Chroma's steps lock nothing).
    pub(crate) fn dialect(self) -> Option<embedded_migrations_core::lint::Dialect> {
        use embedded_migrations_core::lint::Dialect;
        Some(match self {
            Database::Sqlite => Dialect::Sqlite,
            Database::Postgres => Dialect::Postgres,
            Database::MySql => Dialect::MySql,
            Database::Neo4j => Dialect::Cypher,
            Database::Chroma => return None,
        })
    }

    /// The database as the macro's `database = ...` names it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Database::Sqlite => "sqlite",
            Database::Postgres => "postgres",
            Database::MySql => "mysql",
            Database::Neo4j => "neo4j",
            Database::Chroma => "chroma",
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
        let mut lint = None;
        let mut layout = None;
        while !input.is_empty() {
            if !input.peek(Ident) {
                return Err(input.error(ARGUMENTS));
            }
            let key: Ident = input.parse()?;
            if key == "database" && database.is_none() {
                let _: syn::Token![=] = input.parse()?;
                let value: Ident = input.parse()?;
                database = Some(Database::from_ident(&value).ok_or_else(|| {
                    syn::Error::new(
                        value.span(),
                        format!("unknown database `{value}`; expected {DATABASES}"),
                    )
                })?);
            } else if key == "lint" && lint.is_none() {
                let _: syn::Token![=] = input.parse()?;
                let value: LitStr = input.parse()?;
                lint = Some(
                    match value.value().as_str() {
                        "warn" => Lint::Warn,
                        "deny" => Lint::Deny,
                        other => {
                            return Err(syn::Error::new(
                                value.span(),
                                format!("unknown lint level `{other}`; expected `\"warn\"` or `\"deny\"`"),
                            ))
                        }
                    }
                    .at(value),
                );
            } else if key == "layout" && layout.is_none() {
                let _: syn::Token![=] = input.parse()?;
                let value: LitStr = input.parse()?;
                layout = Some(Layout::from_name(&value.value()).ok_or_else(|| {
                    syn::Error::new(
                        value.span(),
                        format!(
                            "unknown layout `{}`; expected `\"diesel\"` (`<timestamp>_<name>/up.sql` folders), \
                             `\"refinery\"` (`V<n>__<name>.sql` files) or `\"native\"` (this crate's own, the default)",
                            value.value()
                        ),
                    )
                })?);
            } else {
                return Err(syn::Error::new(key.span(), ARGUMENTS));
            }
            let _: Option<syn::Token![,]> = input.parse()?;
        }
        Ok(Input {
            path,
            database,
            lint,
            layout: layout.unwrap_or_default(),
        })
    }
}

/// What the macro takes, for messages.
const ARGUMENTS: &str = "`embed_migrations!` takes the migration folder, then optionally `database = sqlite` \
                         (the database its Rust code migrations are written for, and whose lint rules apply), \
                         `lint = \"warn\"` or `lint = \"deny\"`, and `layout = \"diesel\"` or `layout = \"refinery\"` \
                         (another tool's folder, read as it is)";
