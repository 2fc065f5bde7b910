//! `embed_migrations!`: reads a migration folder at build time, checks it and
//! emits a static table. Parsing the call (ast), checking the folder (valid)
//! and emitting tokens (expand) are kept apart.

mod ast;
mod expand;
mod valid;

use proc_macro::TokenStream;

/// Embeds a migration folder, checked at build time.
///
/// ```ignore
/// static MIGRATIONS: embedded_migrations::Migrations =
///     embedded_migrations::embed_migrations!("migrations");
/// ```
///
/// The path is relative to the crate's `CARGO_MANIFEST_DIR`. A folder that
/// breaks a rule (an up file without its down file, a duplicate version, ...)
/// fails the build with an error naming the file and the rule.
///
/// A folder holding Rust code migrations (`004_split_names.rs`) names the
/// database their functions are written for:
/// `embed_migrations!("migrations", database = postgres)` (`sqlite`,
/// `postgres`, `mysql` or `neo4j`); each file is compiled in as a module.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as ast::Input);
    match valid::check(&input) {
        Ok(folder) => expand::table(&folder, input.database).into(),
        // Each problem is one `compile_error!`; the block keeps several of them
        // valid where the macro stands, an expression, so rustc reports them all
        // instead of a parse error after the first.
        Err(error) => {
            let errors = error.to_compile_error();
            quote::quote!({ #errors }).into()
        }
    }
}
