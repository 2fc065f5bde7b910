use std::path::PathBuf;
use syn::parse::{Parse, ParseStream};
use syn::LitStr;

/// `embed_migrations!("path/to/folder")`.
pub(crate) struct Input {
    pub path: LitStr,
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
        if !input.is_empty() {
            return Err(input.error("`embed_migrations!` takes one argument: the migration folder"));
        }
        Ok(Input { path })
    }
}
