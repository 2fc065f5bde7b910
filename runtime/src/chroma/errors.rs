//! What the Chroma backend's errors share.

use super::client::ChromaError;
use crate::Error;

/// The database, as messages name it.
pub(super) const NAME: &str = "ChromaDB";

/// A failed request while doing `operation`, the client's error kept as
/// the source.
pub(super) fn db_err(operation: &'static str) -> impl Fn(ChromaError) -> Error {
    move |err| Error::database(NAME, operation, &err).with_source(err)
}
