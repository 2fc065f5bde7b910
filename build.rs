// Cargo notices an edited migration through include_str!, but not an added
// or deleted one: this line makes the folder itself a build input.
fn main() {
    // compat/sqlx08 builds tests/ on sqlx 0.8 and sets this cfg; here it is
    // never set, and named so that rustc knows it.
    println!("cargo::rustc-check-cfg=cfg(sqlx08)");
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=tests/fixtures");
}
