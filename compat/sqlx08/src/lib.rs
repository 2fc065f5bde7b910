//! Nothing but the tests of tests/, built on sqlx 0.8 (see Cargo.toml).
