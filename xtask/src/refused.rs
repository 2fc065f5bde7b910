//! What every command of `cargo xtask` refuses with.

/// A refusal: the message goes to stderr and the process exits with 2.
pub(crate) struct Refused(pub(crate) String);
