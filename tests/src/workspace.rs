//! Where the workspace is, for the files tests read from it (`.venv`, `db/`, `events/`,
//! `.local/`).

use std::path::PathBuf;

/// The workspace root, where `.venv` lives: the nearest directory holding `Cargo.lock` above
/// where cargo runs the test (it sets CARGO_MANIFEST_DIR for every test and `cargo run`), or
/// above the working directory (`make bench` runs the bench binary from the root). Not the
/// compile-time CARGO_MANIFEST_DIR: when clones share a target directory (as CI's cache does),
/// cargo reuses this crate compiled in another clone, and that value names the other clone.
pub fn workspace_root() -> PathBuf {
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default();
    start
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").is_file())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("tests/ sits inside the workspace")
                .to_path_buf()
        })
}
