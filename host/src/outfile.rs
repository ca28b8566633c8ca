//! Output files: one set of rules for every file npe writes (`gemm --out`, `bench --json`,
//! `--trace`), so that no command can destroy something that is not a file it may replace.
//!
//! - An output path must be missing or a regular file (a symlink is followed: it must lead to a
//!   regular file). Directories, device nodes, FIFOs and sockets are refused, because writing
//!   "through" them either fails late (after a long simulation), blocks (a FIFO), or, for writers
//!   that unlink before creating (Verilator's FST writer), replaces them.
//! - Its directory must exist: npe does not create directories for a file the user names.
//! - An output must not be an input of the same command, nor another output (compared by
//!   canonical path, and by device and inode when both exist, which also catches hard links).
//! - [`Staged`] writes a file beside its destination and renames it into place, for writers that
//!   would otherwise unlink the destination or leave side files next to it.

use std::fs;
use std::path::{Path, PathBuf};

/// Why an output path is refused, or writing it failed. Every variant names the path.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The path is empty.
    #[error("{flag}: the path is empty")]
    Empty {
        /// The option that named it.
        flag: String,
    },
    /// The path is a directory.
    #[error("{flag} {path}: is a directory; name a file")]
    Directory {
        /// The option that named it.
        flag: String,
        /// The path as given.
        path: PathBuf,
    },
    /// The path exists and is not a regular file (or is a symlink to something that is not).
    #[error("{flag} {path}: is a {kind}, not a regular file; npe only writes regular files")]
    NotRegular {
        /// The option that named it.
        flag: String,
        /// The path as given.
        path: PathBuf,
        /// What it is ("character device", "FIFO", "dangling symlink", …).
        kind: &'static str,
    },
    /// The directory the file would go in does not exist.
    #[error("{flag} {path}: directory {dir} does not exist (npe does not create it; create it first)")]
    NoDirectory {
        /// The option that named it.
        flag: String,
        /// The path as given.
        path: PathBuf,
        /// The missing directory.
        dir: PathBuf,
    },
    /// An output is also an input, or two outputs are the same file.
    #[error("{flag} {path} is the same file as {other_flag} {other}: refusing to overwrite it")]
    Same {
        /// The output's option.
        flag: String,
        /// The output path as given.
        path: PathBuf,
        /// The other option.
        other_flag: String,
        /// The other path as given.
        other: PathBuf,
    },
    /// An I/O error on the path (creating, writing, renaming).
    #[error("{what} {path}: {err}")]
    Io {
        /// What was being done ("cannot write", …).
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The OS error (not a `source`: the message already carries it).
        err: std::io::Error,
    },
}

impl OutputError {
    /// An I/O error on `path`.
    pub fn io(what: &'static str, path: &Path, err: std::io::Error) -> Self {
        OutputError::Io {
            what,
            path: path.to_path_buf(),
            err,
        }
    }
}

/// What a file type is called in messages.
fn kind_of(t: fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "directory"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_socket() {
        "socket"
    } else if t.is_symlink() {
        "symlink"
    } else {
        "special file"
    }
}

/// Checks that `path` (named by option `flag`) may be written as an output file: missing or a
/// regular file (symlinks followed), in a directory that exists.
pub fn check_output(flag: &str, path: &Path) -> Result<(), OutputError> {
    let flag = flag.to_string();
    if path.as_os_str().is_empty() {
        return Err(OutputError::Empty { flag });
    }
    match fs::symlink_metadata(path) {
        Ok(link) => {
            // Follow a symlink: what gets written is its target.
            let meta = match fs::metadata(path) {
                Ok(m) => m,
                Err(_) if link.file_type().is_symlink() => {
                    return Err(OutputError::NotRegular {
                        flag,
                        path: path.to_path_buf(),
                        kind: "dangling symlink",
                    })
                }
                Err(e) => return Err(OutputError::io("cannot inspect", path, e)),
            };
            if meta.is_dir() {
                return Err(OutputError::Directory {
                    flag,
                    path: path.to_path_buf(),
                });
            }
            if !meta.is_file() {
                return Err(OutputError::NotRegular {
                    flag,
                    path: path.to_path_buf(),
                    kind: kind_of(meta.file_type()),
                });
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let dir = parent_dir(path);
            if fs::metadata(&dir).map(|m| m.is_dir()).unwrap_or(false) {
                Ok(())
            } else {
                Err(OutputError::NoDirectory {
                    flag,
                    path: path.to_path_buf(),
                    dir,
                })
            }
        }
        Err(e) => Err(OutputError::io("cannot inspect", path, e)),
    }
}

/// The directory `path` is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The canonical form of a path that may not exist yet: the path itself canonicalized if it
/// exists (symlinks resolved), else its directory canonicalized joined with its file name.
pub fn canonical(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = fs::canonicalize(path) {
        return Some(p);
    }
    let name = path.file_name()?;
    fs::canonicalize(parent_dir(path)).ok().map(|d| d.join(name))
}

/// Whether two paths name the same file: same canonical path, or (both existing) same device
/// and inode, which catches hard links.
pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    if let (Ok(x), Ok(y)) = (fs::metadata(a), fs::metadata(b)) {
        if x.dev() == y.dev() && x.ino() == y.ino() {
            return true;
        }
    }
    match (canonical(a), canonical(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Checks a command's outputs: each with [`check_output`], none the same file as an input or as
/// another output. `outputs` and `inputs` are (option, path) pairs.
pub fn check_outputs(outputs: &[(&str, &Path)], inputs: &[(&str, &Path)]) -> Result<(), OutputError> {
    for (i, &(flag, path)) in outputs.iter().enumerate() {
        check_output(flag, path)?;
        for &(other_flag, other) in inputs.iter().chain(&outputs[..i]) {
            if same_file(path, other) {
                return Err(OutputError::Same {
                    flag: flag.to_string(),
                    path: path.to_path_buf(),
                    other_flag: other_flag.to_string(),
                    other: other.to_path_buf(),
                });
            }
        }
    }
    Ok(())
}

/// Creates (or truncates) an output file after [`check_output`]; errors name the path.
pub fn create(flag: &str, path: &Path) -> Result<fs::File, OutputError> {
    check_output(flag, path)?;
    fs::File::create(path).map_err(|e| OutputError::io("cannot create", path, e))
}

/// Writes `bytes` to an output file after [`check_output`]; errors (disk full included) name
/// the path.
pub fn write(flag: &str, path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    use std::io::Write;
    let mut f = create(flag, path)?;
    f.write_all(bytes)
        .and_then(|()| f.sync_data())
        .map_err(|e| OutputError::io("cannot write", path, e))
}

/// A file written under a temporary name in a private directory beside its destination, then
/// renamed onto it by [`Staged::commit`].
///
/// For writers that must not touch the destination directly: Verilator's FST writer unlinks
/// the path it is given and a `PATH.hier` beside it, and deletes that `.hier` when it closes.
/// Given [`Staged::path`] instead, everything it creates or deletes is inside the private
/// directory, and the destination is only ever replaced by a rename, after it was checked to be
/// missing or a regular file. A symlink to a regular file is written through: the rename goes
/// onto the link's target, as writing through the link would. Dropped without a commit, the
/// private directory is removed and the destination is left as it was.
#[derive(Debug)]
pub struct Staged {
    flag: String,
    /// The path as the user gave it (for messages).
    given: PathBuf,
    /// Where the file goes: the given path with symlinks resolved.
    dest: PathBuf,
    /// The private directory (created by us, so ours to delete).
    dir: PathBuf,
    /// The file inside it that the writer gets.
    tmp: PathBuf,
    done: bool,
}

impl Staged {
    /// Checks `path` with [`check_output`] and creates the private directory beside it.
    pub fn new(flag: &str, path: &Path) -> Result<Self, OutputError> {
        check_output(flag, path)?;
        let dest = canonical(path).ok_or_else(|| OutputError::NoDirectory {
            flag: flag.to_string(),
            path: path.to_path_buf(),
            dir: parent_dir(path),
        })?;
        let name = dest.file_name().unwrap_or(path.as_os_str()).to_os_string();
        let parent = parent_dir(&dest);
        // create_dir fails if the name exists, so a directory we get is one we made.
        let mut n = 0u32;
        let dir = loop {
            let mut d = std::ffi::OsString::from(".");
            d.push(&name);
            d.push(format!(".npe-tmp-{}-{n}", std::process::id()));
            let d = parent.join(d);
            match fs::create_dir(&d) {
                Ok(()) => break d,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(OutputError::io("cannot create a temporary directory for", path, e)),
            }
        };
        Ok(Staged {
            flag: flag.to_string(),
            given: path.to_path_buf(),
            tmp: dir.join(&name),
            dest,
            dir,
            done: false,
        })
    }

    /// The path the writer writes to.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// The destination as given.
    pub fn destination(&self) -> &Path {
        &self.given
    }

    /// Renames the written file onto the destination (checked again: it must still be missing
    /// or a regular file) and removes the private directory.
    pub fn commit(mut self) -> Result<(), OutputError> {
        self.done = true;
        let result = self.finish();
        let _ = fs::remove_dir_all(&self.dir);
        result
    }

    fn finish(&self) -> Result<(), OutputError> {
        check_output(&self.flag, &self.dest)?;
        fs::rename(&self.tmp, &self.dest).map_err(|e| OutputError::io("cannot write", &self.given, e))
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("npe-outfile-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn only_missing_paths_and_regular_files_are_outputs() {
        let d = tmp_dir("kinds");
        let f = d.join("f.npy");
        assert!(
            check_output("--out", &f).is_ok(),
            "a missing file in an existing directory"
        );
        fs::write(&f, b"x").unwrap();
        assert!(check_output("--out", &f).is_ok(), "a regular file");
        let e = check_output("--out", &d).unwrap_err().to_string();
        assert!(e.contains("is a directory"), "{e}");
        let e = check_output("--trace", Path::new("/dev/null")).unwrap_err().to_string();
        assert!(e.contains("--trace /dev/null: is a character device"), "{e}");
        let link = d.join("null-link");
        std::os::unix::fs::symlink("/dev/null", &link).unwrap();
        let e = check_output("--out", &link).unwrap_err().to_string();
        assert!(e.contains("character device"), "{e}");
        let dangling = d.join("dangling");
        std::os::unix::fs::symlink(d.join("nowhere/x"), &dangling).unwrap();
        assert!(check_output("--out", &dangling)
            .unwrap_err()
            .to_string()
            .contains("dangling"));
        let e = check_output("--json", &d.join("missing/b.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not exist"), "{e}");
        assert!(check_output("--out", Path::new("")).is_err());
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn outputs_may_not_be_inputs_or_each_other() {
        let d = tmp_dir("same");
        let a = d.join("a.npy");
        fs::write(&a, b"a").unwrap();
        let hard = d.join("hard.npy");
        fs::hard_link(&a, &hard).unwrap();
        let soft = d.join("soft.npy");
        std::os::unix::fs::symlink(&a, &soft).unwrap();
        let dotted = d.join(".").join("a.npy");
        let c = d.join("c.npy");
        for out in [&a, &hard, &soft, &dotted] {
            let e = check_outputs(&[("--out", out)], &[("--a", &a)])
                .unwrap_err()
                .to_string();
            assert!(e.contains("is the same file as --a"), "{e}");
        }
        // Two outputs that do not exist yet.
        let e = check_outputs(&[("--out", &c), ("--trace", &d.join("./c.npy"))], &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("--trace") && e.contains("same file as --out"), "{e}");
        assert!(check_outputs(&[("--out", &c)], &[("--a", &a)]).is_ok());
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn staged_files_replace_only_by_rename_and_leave_neighbours_alone() {
        let d = tmp_dir("staged");
        let dest = d.join("w.fst");
        fs::write(&dest, b"old").unwrap();
        let hier = d.join("w.fst.hier");
        fs::write(&hier, b"mine").unwrap();
        let s = Staged::new("--trace", &dest).unwrap();
        // What an FST writer does to the path it is given and its .hier.
        fs::write(s.path(), b"new").unwrap();
        let mut h = s.path().as_os_str().to_os_string();
        h.push(".hier");
        fs::write(&h, b"scratch").unwrap();
        s.commit().unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"new");
        assert_eq!(fs::read(&hier).unwrap(), b"mine", "PATH.hier is not ours");
        assert_eq!(fs::read_dir(&d).unwrap().count(), 2, "the private directory is gone");

        // Through a symlink: the target gets the file, the link stays a link.
        let target = d.join("target.fst");
        fs::write(&target, b"t").unwrap();
        let link = d.join("link.fst");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let s = Staged::new("--trace", &link).unwrap();
        fs::write(s.path(), b"via link").unwrap();
        s.commit().unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read(&target).unwrap(), b"via link");

        // Not committed: nothing changes.
        let s = Staged::new("--trace", &dest).unwrap();
        fs::write(s.path(), b"discarded").unwrap();
        drop(s);
        assert_eq!(fs::read(&dest).unwrap(), b"new");
        assert!(Staged::new("--trace", Path::new("/dev/null")).is_err());
        assert!(Staged::new("--trace", &d).is_err());
        fs::remove_dir_all(&d).unwrap();
    }
}
