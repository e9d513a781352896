//! What the report says about the machine: disk space used (as `du` counts it), the
//! filesystem under a directory, and the load average. Linux's `/proc`; elsewhere the
//! last two are unknown.

use std::io;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

/// The space allocated to `path` and everything under it, in bytes (`du -s --bytes`
/// counts apparent sizes; this counts allocated 512-byte blocks, as plain `du` does).
/// Symbolic links are not followed.
pub(crate) fn disk_usage(path: &Path) -> io::Result<u64> {
    let meta = std::fs::symlink_metadata(path)?;
    let mut total = meta.blocks().saturating_mul(512);
    if meta.is_dir() {
        for entry in std::fs::read_dir(path)? {
            total = total.saturating_add(disk_usage(&entry?.path())?);
        }
    }
    Ok(total)
}

/// The type of the filesystem `path` is on (`ext4`, `xfs`, `tmpfs`, ...), from
/// `/proc/self/mountinfo`: the mount point that is the longest prefix of the path.
pub(crate) fn filesystem(path: &Path) -> Option<String> {
    let path = std::fs::canonicalize(path).ok()?;
    let table = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mut best: Option<(usize, String)> = None;
    for line in table.lines() {
        // id parent major:minor root mount-point options [optional...] - type source ...
        let mut fields = line.split(' ');
        let Some(mount) = fields.nth(4) else { continue };
        let Some(fs_type) = line
            .split(" - ")
            .nth(1)
            .and_then(|tail| tail.split(' ').next())
        else {
            continue;
        };
        let mount = unescape_mount(mount);
        if path.starts_with(&mount) {
            let depth = Path::new(&mount).components().count();
            if best.as_ref().is_none_or(|(d, _)| depth >= *d) {
                best = Some((depth, fs_type.to_owned()));
            }
        }
    }
    best.map(|(_, t)| t)
}

/// mountinfo escapes space, tab, newline and backslash as octal (`\040`).
fn unescape_mount(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('\\') {
        out.push_str(rest.get(..i).unwrap_or_default());
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(c) => {
                out.push(char::from(c));
                rest = rest.get(i + 4..).unwrap_or_default();
            }
            None => {
                out.push('\\');
                rest = rest.get(i + 1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

/// The 1, 5 and 15 minute load averages.
pub(crate) fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut values = text.split_whitespace().map(|v| v.parse::<f64>().ok());
    Some([values.next()??, values.next()??, values.next()??])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_usage_counts_what_is_written() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), vec![1u8; 64 * 1024]).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b"), vec![1u8; 64 * 1024]).unwrap();
        let used = disk_usage(dir.path()).unwrap();
        assert!(used >= 128 * 1024, "{used}");
    }

    #[test]
    fn mount_points_are_unescaped() {
        assert_eq!(unescape_mount(r"/mnt/my\040disk"), "/mnt/my disk");
        assert_eq!(unescape_mount(r"/a\b"), r"/a\b");
    }

    #[test]
    fn the_root_has_a_filesystem_on_linux() {
        if Path::new("/proc/self/mountinfo").exists() {
            assert!(filesystem(Path::new("/")).is_some());
        }
    }
}
