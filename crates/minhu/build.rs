//! Builds the crate again when a migration is added or changed: `sqlx::migrate!` embeds the
//! folders' files at compile time, and without this cargo does not know it reads them (what
//! `sqlx migrate build-script` writes).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
