//! The UI is embedded from `../dist` (Trunk's output): rebuild when it changes.
fn main() {
    println!("cargo:rerun-if-changed=../dist");
}
