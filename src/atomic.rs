//! Files written whole or not at all: reports (`--output`), artifacts, baselines and probe
//! records are written to a temporary file in the same directory, flushed to disk and renamed
//! over the target. A reader (or a concurrent run writing the same file) sees the old file or the
//! new one, never a mix or a truncated one; a full disk leaves the old file in place.
//!
//! A target that exists and is not a regular file (`/dev/stdout`, a pipe, a device) is written
//! in place: renaming over it would replace it. A symbolic link to a regular file is followed:
//! its target is replaced, the link stays.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A temporary file beside `path`, removed on drop unless it was renamed.
struct Temp {
    path: PathBuf,
    done: bool,
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Write `path` with what `fill` writes (through a buffer), atomically.
pub fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    static N: AtomicU64 = AtomicU64::new(0);
    let resolved;
    let path = match std::fs::metadata(path) {
        Ok(m) if !m.is_file() && !m.is_dir() => {
            let file = std::fs::OpenOptions::new().write(true).open(path)?;
            let mut w = io::BufWriter::with_capacity(1 << 16, file);
            fill(&mut w)?;
            return w.flush();
        }
        Ok(m) if m.is_file() && std::fs::symlink_metadata(path)?.file_type().is_symlink() => {
            resolved = std::fs::canonicalize(path)?;
            resolved.as_path()
        }
        _ => path,
    };
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a file name", path.display()),
        )
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(
        ".{}.{}.tmp",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let mut temp = Temp {
        path: dir.join(tmp_name),
        done: false,
    };
    // never an existing file (or a link planted there): a new one
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp.path)?;
    let mut w = io::BufWriter::with_capacity(1 << 16, file);
    fill(&mut w)?;
    let file = w.into_inner().map_err(io::IntoInnerError::into_error)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temp.path, path)?;
    temp.done = true;
    Ok(())
}

/// Write `bytes` to `path`, atomically.
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) -> io::Result<()> {
    write_with(path, |w| w.write_all(bytes.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_or_nothing() {
        let dir = std::env::temp_dir().join(format!("obsgate-atomic-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("report.json");
        write(&p, "old").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        // a write that fails half-way leaves the old file, and no temporary file
        let e = write_with(&p, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(e.to_string(), "disk full");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        write(&p, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("report.json")]);
        // a directory that does not exist: an error, nothing written
        assert!(write(&dir.join("no/such/dir.json"), "x").is_err());
        // a link to a regular file: the file is replaced, the link stays
        let link = dir.join("link.json");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        write(&link, "through the link").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "through the link");
        // a device is written in place (and a full one says so), never replaced
        let e = write(Path::new("/dev/full"), "x").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
        write(Path::new("/dev/null"), "x").unwrap();
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
