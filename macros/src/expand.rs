use crate::ast::Database;
use embedded_migrations_core::{
    chain_step, Checksum, Folder, Language, ScannedFile, ScannedMigration, ScannedRepeatable,
};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// The static table: one `Migration` per pair, plus the running hash after
/// each prefix so that a boot check compares a single row. A Rust code
/// migration's file becomes a module of the block, with a function per
/// direction typed to `database` (valid.rs made sure there is one).
pub(crate) fn table(folder: &Folder, database: Option<Database>) -> TokenStream {
    let migrations = folder.migrations.iter().map(migration);
    let modules = folder
        .migrations
        .iter()
        .filter(|m| m.code)
        .filter_map(|m| Some(code_module(m, database?)));
    let mut chain = Checksum::ZERO;
    let chains = folder.migrations.iter().map(|m| {
        chain = chain_step(&chain, m.version, &m.up.checksum);
        checksum(&chain)
    });
    let language = match database.map_or(folder.language, Database::language) {
        Language::Sql => quote!(::embedded_migrations::Sql),
        Language::Cypher => quote!(::embedded_migrations::Cypher),
        Language::Chroma => quote!(::embedded_migrations::Chroma),
    };
    // Named consts rather than `&[..]` in place: a const may hold any
    // constant expression, where promotion to 'static would refuse `*b".."`.
    // A folder without repeatable or code migrations expands as it always
    // did: their tables are passed only when there are some.
    let repeatables: Vec<TokenStream> = folder.repeatables.iter().map(repeatable).collect();
    let code: Vec<TokenStream> = match database {
        Some(database) => folder
            .migrations
            .iter()
            .filter(|m| m.code)
            .map(|m| code_entry(m, database))
            .collect(),
        None => Vec::new(),
    };
    let embedded = match (folder.repeatables.is_empty(), code.is_empty()) {
        (true, true) => quote!(::embedded_migrations::Migrations::<#language>::__embedded(MIGRATIONS, CHAINS)),
        (false, true) => quote! {{
            const REPEATABLES: &[::embedded_migrations::Migration] = &[#(#repeatables),*];
            ::embedded_migrations::Migrations::<#language>::__embedded_with_repeatables(MIGRATIONS, CHAINS, REPEATABLES)
        }},
        (_, false) => quote! {{
            const REPEATABLES: &[::embedded_migrations::Migration] = &[#(#repeatables),*];
            const CODE: &[::embedded_migrations::code::CodeMigration] = &[#(#code),*];
            ::embedded_migrations::Migrations::<#language>::__embedded_with_code(MIGRATIONS, CHAINS, REPEATABLES, CODE)
        }},
    };
    // include_bytes! records each file in the crate's dep-info, as
    // include_str! does the migrations': an edit rebuilds the crate.
    let tracked = folder.tracked.iter().map(|path| {
        let path = path.to_string_lossy().into_owned();
        quote!(
            const _: &[u8] = ::core::include_bytes!(#path);
        )
    });
    quote! {
        {
            #(#modules)*
            #(#tracked)*
            const MIGRATIONS: &[::embedded_migrations::Migration] = &[#(#migrations),*];
            const CHAINS: &[::embedded_migrations::Checksum] = &[#(#chains),*];
            #embedded
        }
    }
}

/// A repeatable migration as a `Migration` under its (negative) key, with
/// no down file: the engine never reverts it.
fn repeatable(r: &ScannedRepeatable) -> TokenStream {
    let key = r.key;
    let name = &r.name;
    let description = match &r.file.header.description {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::None),
    };
    let up = script(&r.file);
    let none = checksum(&Checksum::ZERO);
    quote! {
        ::embedded_migrations::Migration {
            version: #key,
            name: #name,
            description: #description,
            up: #up,
            down: ::embedded_migrations::Script { file: "", text: "", checksum: #none, no_transaction: false, placeholders: &[] },
            irreversible: true,
        }
    }
}

fn migration(m: &ScannedMigration) -> TokenStream {
    let version = m.version;
    let name = &m.name;
    let description = match &m.up.header.description {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::None),
    };
    let (up, down) = if m.code {
        (code_script(m), code_script(m))
    } else {
        (script(&m.up), script(&m.down))
    };
    let irreversible = m.down.header.irreversible;
    quote! {
        ::embedded_migrations::Migration {
            version: #version,
            name: #name,
            description: #description,
            up: #up,
            down: #down,
            irreversible: #irreversible,
        }
    }
}

fn script(file: &ScannedFile) -> TokenStream {
    let name = &file.file_name;
    // include_str! makes cargo rebuild when the file is edited.
    let path = file.path.to_string_lossy().into_owned();
    let sum = checksum(&file.checksum);
    let no_transaction = file.header.no_transaction;
    // The scan refused a malformed placeholder already.
    let placeholders = embedded_migrations_core::placeholder::names(&file.text).unwrap_or_default();
    quote! {
        ::embedded_migrations::Script {
            file: #name,
            text: ::core::include_str!(#path),
            checksum: #sum,
            no_transaction: #no_transaction,
            placeholders: &[#(#placeholders),*],
        }
    }
}

/// The names a code migration's items get in the block: its module
/// (`migration_0004_split_names`, from the file's stem) and, per direction,
/// its function and the const that holds it as a pointer.
fn code_names(m: &ScannedMigration, direction: &str) -> (Ident, Ident, Ident) {
    let stem = format!("migration_{}_{}", m.version_text, m.name);
    (
        Ident::new(&stem, Span::call_site()),
        Ident::new(&format!("{stem}_{direction}"), Span::call_site()),
        Ident::new(&format!("{stem}_{direction}").to_uppercase(), Span::call_site()),
    )
}

/// The file as a module (`#[path]`: compiled with the application, and
/// rebuilt when it changes), and for each direction it defines a function
/// of the database's one signature that calls it: a function written for
/// another database's transaction fails `code::call`'s bound.
fn code_module(m: &ScannedMigration, database: Database) -> TokenStream {
    // Canonical, so that a compiler error inside the file names it where
    // it is, not through a symbolic link of the folder.
    let path = std::fs::canonicalize(&m.up.path).unwrap_or_else(|_| m.up.path.clone());
    let path = path.to_string_lossy().into_owned();
    let marker = database.marker();
    let (module, _, _) = code_names(m, "up");
    let directions: &[&str] = if m.down.header.irreversible {
        &["up"]
    } else {
        &["up", "down"]
    };
    let batch = batch_of(m).is_some();
    let functions = directions.iter().map(|direction| {
        let (module, function, constant) = code_names(m, direction);
        let user = Ident::new(direction, Span::call_site());
        if batch && *direction == "up" {
            return quote! {
                fn #function<'c>(
                    tx: &'c mut <#marker as ::embedded_migrations::code::CodeDatabase>::Transaction,
                    size: u64,
                ) -> ::embedded_migrations::backend::BoxFuture<'c, ::embedded_migrations::code::BatchOutcome> {
                    ::embedded_migrations::code::call_batch::<#marker, _>(#module::#user, tx, size)
                }
                const #constant: ::embedded_migrations::code::BatchFunction<#marker> = #function;
            };
        }
        quote! {
            fn #function<'c>(
                tx: &'c mut <#marker as ::embedded_migrations::code::CodeDatabase>::Transaction,
            ) -> ::embedded_migrations::backend::BoxFuture<'c, ::embedded_migrations::code::Outcome> {
                ::embedded_migrations::code::call::<#marker, _>(#module::#user, tx)
            }
            const #constant: ::embedded_migrations::code::Function<#marker> = #function;
        }
    });
    // `pub` on `up` and `down` is what lets the block call them, so
    // `unreachable_pub` has nothing to say; and a folder embedded twice in
    // one crate (two sets, a test) loads its file twice, on purpose.
    quote! {
        #[path = #path]
        #[allow(unreachable_pub, clippy::duplicate_mod)]
        mod #module;
        #(#functions)*
    }
}

/// Either direction of a code migration in the table: its file's name and
/// checksum, no text (its functions are in the `CODE` table).
fn code_script(m: &ScannedMigration) -> TokenStream {
    let name = &m.up.file_name;
    let sum = checksum(&m.up.checksum);
    let no_transaction = m.up.header.no_transaction;
    quote! {
        ::embedded_migrations::Script {
            file: #name,
            text: "",
            checksum: #sum,
            no_transaction: #no_transaction,
            placeholders: &[],
        }
    }
}

/// A code migration's functions, typed to `database`, for the `CODE` table
/// (none for the down of an irreversible one).
fn code_entry(m: &ScannedMigration, database: Database) -> TokenStream {
    let version = m.version;
    let marker = database.marker();
    let function = |direction: &str| {
        let (_, _, constant) = code_names(m, direction);
        quote!(::embedded_migrations::code::code::<#marker>(&#constant))
    };
    let up = match batch_of(m) {
        Some(_) => {
            let (_, _, constant) = code_names(m, "up");
            quote!(::embedded_migrations::code::batch_code::<#marker>(&#constant))
        }
        None => function("up"),
    };
    let down = if m.down.header.irreversible {
        quote!(::core::option::Option::None)
    } else {
        let down = function("down");
        quote!(::core::option::Option::Some(#down))
    };
    let batch = match batch_of(m) {
        Some(spec) => {
            let size = spec.size;
            let total = match &spec.total {
                Some(query) => quote!(::core::option::Option::Some(#query)),
                None => quote!(::core::option::Option::None),
            };
            quote!(::core::option::Option::Some(::embedded_migrations::code::CodeBatch { size: #size, total: #total }))
        }
        None => quote!(::core::option::Option::None),
    };
    quote! {
        ::embedded_migrations::code::CodeMigration { version: #version, up: #up, down: #down, batch: #batch }
    }
}

/// A batch code migration's directives (`// migrate:batch size=N`): the
/// scan checked them, so a malformed one cannot reach here.
fn batch_of(m: &ScannedMigration) -> Option<embedded_migrations_core::batch::BatchSpec> {
    embedded_migrations_core::batch::BatchSpec::from_header(&m.up.header)
        .ok()
        .flatten()
}

fn checksum(sum: &Checksum) -> TokenStream {
    // One byte-string token instead of 32 integer tokens: thousands of
    // checksums are cheaper for rustc to parse and evaluate.
    let bytes = proc_macro2::Literal::byte_string(&sum.0);
    quote!(::embedded_migrations::Checksum(*#bytes))
}

/// Each finding of `lint = "warn"` as a warning of the user's build: stable
/// Rust lets a proc macro emit no warning of its own, so each is a call to a
/// `#[deprecated]` function whose note is the finding, which rustc reports
/// as the use of a deprecated item, once per finding, where the macro is
/// called.
pub(crate) fn warnings(findings: &[embedded_migrations_core::lint::Finding], span: Span) -> TokenStream {
    let calls = findings.iter().map(|finding| {
        let name: String = format!("{}_{}_line_{}", finding.rule.name, finding.file, finding.line)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        let function = Ident::new(&format!("migration_lint_{name}"), span);
        let note = finding.message();
        quote::quote_spanned! {span=>
            #[deprecated(note = #note)]
            #[allow(non_snake_case)]
            const fn #function() {}
            #function();
        }
    });
    quote!(#(#calls)*)
}
