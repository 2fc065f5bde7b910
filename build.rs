// Cargo notices an edited migration through include_str!, but not an added
// or deleted one: this line makes the folder itself a build input.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=tests/fixtures");
}
