use embedded_migrations_core::{
    chain_step, Checksum, Folder, Language, ScannedFile, ScannedMigration, ScannedRepeatable,
};
use proc_macro2::TokenStream;
use quote::quote;

/// The static table: one `Migration` per pair, plus the running hash after
/// each prefix so that a boot check compares a single row.
pub(crate) fn table(folder: &Folder) -> TokenStream {
    let migrations = folder.migrations.iter().map(migration);
    let mut chain = Checksum::ZERO;
    let chains = folder.migrations.iter().map(|m| {
        chain = chain_step(&chain, m.version, &m.up.checksum);
        checksum(&chain)
    });
    let language = match folder.language {
        Language::Sql => quote!(::embedded_migrations::Sql),
        Language::Cypher => quote!(::embedded_migrations::Cypher),
    };
    // Named consts rather than `&[..]` in place: a const may hold any
    // constant expression, where promotion to 'static would refuse `*b".."`.
    // A folder without repeatable migrations expands as it always did.
    let embedded = if folder.repeatables.is_empty() {
        quote!(::embedded_migrations::Migrations::<#language>::__embedded(MIGRATIONS, CHAINS))
    } else {
        let repeatables = folder.repeatables.iter().map(repeatable);
        quote! {{
            const REPEATABLES: &[::embedded_migrations::Migration] = &[#(#repeatables),*];
            ::embedded_migrations::Migrations::<#language>::__embedded_with_repeatables(MIGRATIONS, CHAINS, REPEATABLES)
        }}
    };
    quote! {
        {
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
            down: ::embedded_migrations::Script { file: "", text: "", checksum: #none, no_transaction: false },
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
    let up = script(&m.up);
    let down = script(&m.down);
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
    quote! {
        ::embedded_migrations::Script {
            file: #name,
            text: ::core::include_str!(#path),
            checksum: #sum,
            no_transaction: #no_transaction,
        }
    }
}

fn checksum(sum: &Checksum) -> TokenStream {
    // One byte-string token instead of 32 integer tokens: thousands of
    // checksums are cheaper for rustc to parse and evaluate.
    let bytes = proc_macro2::Literal::byte_string(&sum.0);
    quote!(::embedded_migrations::Checksum(*#bytes))
}
