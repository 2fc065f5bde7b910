use crate::ast::{Database, Input, Lint, DATABASES};
use embedded_migrations_core::lint::{lint, Finding};
use embedded_migrations_core::{scan_layout, Folder, Language, Rule};

/// Runs the shared folder checks; every problem becomes one error at the
/// macro's argument, so `cargo build` lists them all. Then what only the
/// macro can check: a folder with Rust code migrations names its database,
/// and that database speaks the folder's language.
pub(crate) fn check(input: &Input) -> syn::Result<Folder> {
    let folder = input.folder();
    let scanned = scan_layout(&folder, &input.path.value(), input.layout).map_err(|problems| {
        let mut errors = problems.iter().map(|problem| {
            let mut message = format!("embed_migrations!: {problem}");
            // A missing folder is usually a path written from the workspace
            // root or the shell's directory instead of the crate's.
            if problem.rule == Rule::BadFolder && !folder.exists() {
                message.push_str("; the path is relative to the crate's folder, where its Cargo.toml is");
            }
            syn::Error::new(input.path.span(), message)
        });
        let mut combined = errors.next().expect("scan reports at least one problem on failure");
        for error in errors {
            combined.combine(error);
        }
        combined
    })?;
    check_database(input, &scanned)?;
    Ok(scanned)
}

/// A code migration's functions take a transaction of one database, which
/// the folder's files do not say: the macro's `database = ...` does.
fn check_database(input: &Input, folder: &Folder) -> syn::Result<()> {
    let path = input.path.value();
    let error = |message: String| {
        Err(syn::Error::new(
            input.path.span(),
            format!("embed_migrations!: {message}"),
        ))
    };
    let code = folder.migrations.iter().find(|m| m.code);
    let Some(database) = input.database else {
        return match code {
            Some(m) => error(format!(
                "`{}` is a Rust code migration, so the macro must name the database its functions take a \
                 transaction of: `embed_migrations!(\"{path}\", database = sqlite)` ({DATABASES})",
                m.up.file_name
            )),
            None => Ok(()),
        };
    };
    if database == Database::Neo4j {
        if let Some(m) = folder.migrations.iter().find(|m| m.code && m.up.header.no_transaction) {
            return error(format!(
                "`{}` says `migrate:no-transaction`, which a Neo4j code migration cannot: its functions receive \
                 the migration's `neo4rs::Txn`; remove the directive",
                m.up.file_name
            ));
        }
    }
    let file = folder.migrations.iter().find(|m| !m.code);
    match (database.language(), file) {
        (Language::Cypher, Some(m)) if folder.language != Language::Cypher => error(format!(
            "`database = neo4j`, but `{}` is a {} file; a Neo4j folder holds `.cypher` files",
            m.up.file_name,
            folder.language.label()
        )),
        (Language::Chroma, Some(m)) if folder.language != Language::Chroma => error(format!(
            "`database = chroma`, but `{}` is a {} file; a ChromaDB folder holds `.toml` files",
            m.up.file_name,
            folder.language.label()
        )),
        (Language::Sql, Some(m)) if folder.language != Language::Sql => error(format!(
            "the folder holds {} files (`{}`), which only `database = {}` runs",
            folder.language.label(),
            m.up.file_name,
            if folder.language == Language::Cypher {
                "neo4j"
            } else {
                "chroma"
            }
        )),
        _ => Ok(()),
    }
}

/// The lint's findings, when the call asks for them: under `lint = "deny"`
/// each is an error at the folder's path, under `lint = "warn"` they are
/// returned for `expand::warnings`. The rules are a database's, so the call
/// must name it.
pub(crate) fn check_lint(input: &Input, folder: &Folder) -> syn::Result<Vec<Finding>> {
    let Some((level, literal)) = &input.lint else {
        return Ok(Vec::new());
    };
    let Some(database) = input.database else {
        return Err(syn::Error::new(
            literal.span(),
            format!(
                "embed_migrations!: `lint = \"{}\"` applies the rules of one database, which the folder does not \
                 say: name it, `embed_migrations!(\"{}\", database = postgres, lint = \"{}\")` (`sqlite`, `postgres`, `mysql` or `neo4j`: the lint has rules for these)",
                literal.value(),
                input.path.value(),
                literal.value()
            ),
        ));
    };
    let Some(dialect) = database.dialect() else {
        return Err(syn::Error::new(
            literal.span(),
            format!(
                "embed_migrations!: `lint = \"{}\"` has no rules for {}: its steps create, change and delete \
                 collections, which lock nothing; remove `lint`",
                literal.value(),
                database.name()
            ),
        ));
    };
    let findings = lint(folder, dialect);
    if *level == Lint::Warn || findings.is_empty() {
        return Ok(findings);
    }
    let mut errors = findings.iter().map(|finding| {
        syn::Error::new(
            input.path.span(),
            format!("embed_migrations!: {} (`lint = \"deny\"`)", finding.message()),
        )
    });
    let mut combined = errors.next().expect("findings is not empty");
    for error in errors {
        combined.combine(error);
    }
    Err(combined)
}
