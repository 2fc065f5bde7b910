use crate::ast::Input;
use embedded_migrations_core::{scan_as, Folder, Rule};

/// Runs the shared folder checks; every problem becomes one error at the
/// macro's argument, so `cargo build` lists them all.
pub(crate) fn check(input: &Input) -> syn::Result<Folder> {
    let folder = input.folder();
    scan_as(&folder, &input.path.value()).map_err(|problems| {
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
    })
}
