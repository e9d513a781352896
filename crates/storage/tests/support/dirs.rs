//! Copying a data directory, for tests that edit a copy or open one as a crash would
//! leave it (`#[path = "support/dirs.rs"] mod dirs;`).

use std::path::Path;

/// Copies the directory `from` to `to`, files and folders. Of an open, idle store this
/// is what a kill -9 at that moment leaves: every acknowledged group is in the OS's
/// hands, and nothing is written while no group is in progress.
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("make the copy's directory");
    for entry in std::fs::read_dir(from).expect("list the directory") {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("its type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}
