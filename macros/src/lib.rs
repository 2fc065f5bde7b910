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
///
/// `lint = "warn"` or `lint = "deny"` (with `database = ...`, whose rules
/// apply) reports the statements that lock or destroy (docs/lint.md) as
/// warnings or errors of the build, each naming the file, the line and the
/// rule; without it the build does not lint, and `migrate lint` or
/// `cargo xtask lint` report them.
///
/// `layout = "diesel"` reads diesel's folders (`<timestamp>_<name>/up.sql`,
/// `down.sql`, `metadata.toml`) and `layout = "refinery"` refinery's
/// `V<n>__<name>.sql` files (with a `V<n>__<name>.down.sql` of ours beside
/// each) as they are, versions and names as those tools record them, with
/// the same checks (docs/folder.md, "Other tools' layouts").
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as ast::Input);
    let checked = valid::check(&input).and_then(|folder| Ok((valid::check_lint(&input, &folder)?, folder)));
    match checked {
        Ok((findings, folder)) if findings.is_empty() => expand::table(&folder, input.database).into(),
        Ok((findings, folder)) => {
            let warnings = expand::warnings(&findings, input.path.span());
            let table = expand::table(&folder, input.database);
            quote::quote!({ #warnings #table }).into()
        }
        // Each problem is one `compile_error!`; the block keeps several of them
        // valid where the macro stands, an expression, so rustc reports them all
        // instead of a parse error after the first.
        Err(error) => {
            let errors = error.to_compile_error();
            quote::quote!({ #errors }).into()
        }
    }
}
