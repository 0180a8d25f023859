//! What the scenario tests share: the shipped Longhua scenario, and a variant of it
//! written to a temporary folder.

use std::path::{Path, PathBuf};

pub(super) fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../maps/longhua/scenario.toml")
}

pub(super) fn write_variant(edit: impl Fn(&str) -> String) -> (tempdir::Dir, PathBuf) {
    let dir = tempdir::Dir::new();
    let path = dir.0.join("scenario.toml");
    let text = std::fs::read_to_string(shipped()).unwrap();
    std::fs::write(&path, edit(&text)).unwrap();
    (dir, path)
}

pub(super) mod tempdir {
    /// A unique folder under the target dir, removed on drop.
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Self {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let p = std::env::temp_dir().join(format!(
                "labflight-core-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ));
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
