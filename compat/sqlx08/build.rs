// tests/ of the main package are compiled here on sqlx 0.8: the `sqlx08` cfg
// tells their few version-specific lines (tests/servers/mod.rs) which to be.
// The fixture folders are build inputs, as in the main package's build.rs.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(sqlx08)");
    println!("cargo::rustc-cfg=sqlx08");
    println!("cargo:rerun-if-changed=../../tests/fixtures");
    println!("cargo:rerun-if-changed=../../migrations");
}
