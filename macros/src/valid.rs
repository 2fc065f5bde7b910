use crate::ast::Input;
use embedded_migrations_core::{scan_as, Folder};

/// Runs the shared folder checks; every problem becomes one error at the
/// macro's argument, so `cargo build` lists them all.
pub fn check(input: &Input) -> syn::Result<Folder> {
    scan_as(&input.folder(), &input.path.value()).map_err(|problems| {
        let mut errors = problems
            .iter()
            .map(|problem| syn::Error::new(input.path.span(), format!("embed_migrations!: {problem}")));
        let mut combined = errors.next().expect("scan reports at least one problem on failure");
        for error in errors {
            combined.combine(error);
        }
        combined
    })
}
