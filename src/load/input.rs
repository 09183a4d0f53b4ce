//! The archive's bytes: a server file the caller may read, opened once and checked on its open
//! descriptor, or bytes given by the client; with the SHA-256 a load journals.

use std::fs::File;
use std::io::{BufReader, Cursor, Seek, SeekFrom};
use std::path::Path;

use pgrx::pg_sys;
use sha2::{Digest, Sha256};

use super::ArchiveInput;
use crate::archive::{hex, open_regular_file, real_path, sha256_hex, ReadSeek};
use crate::error::{LoadError, LoadResult};

/// Whether the caller may read `path` on the server: superuser, pg_read_server_files, or a path
/// under sinp_import.inbox_dir (symbolic links and `..` resolved first).
pub(super) fn may_read_server_path(path: &str) -> LoadResult<bool> {
    if may_read_server_files() {
        return Ok(true);
    }
    let Some(inbox) = crate::settings::inbox_dir() else {
        return Ok(false);
    };
    Ok(
        match (
            Path::new(&inbox).canonicalize(),
            Path::new(path).canonicalize(),
        ) {
            (Ok(inbox), Ok(path)) => path.starts_with(inbox),
            _ => false,
        },
    )
}

/// Whether the current user is a superuser or has the privileges of pg_read_server_files, asked
/// of PostgreSQL's own C functions: no object a caller creates (a TEMP pg_roles, a pg_has_role of
/// its schema) can answer instead of the catalog.
pub(super) fn may_read_server_files() -> bool {
    // SAFETY: plain catalog lookups of the current user, in a transaction.
    unsafe {
        pg_sys::superuser()
            || pg_sys::has_privs_of_role(
                pg_sys::GetUserId(),
                pg_sys::Oid::from(pg_sys::ROLE_PG_READ_SERVER_FILES),
            )
    }
}

pub(super) fn read_denied(path: &str) -> LoadError {
    LoadError::PermissionDenied {
        path: path.to_string(),
        reason: "Only superusers, members of pg_read_server_files, or callers reading under the directory of sinp_import.inbox_dir may load archives from server files.".to_string(),
    }
}

/// Opens a server file the caller may read: checked by path first (a role that may not read
/// server files learns nothing of them, not even whether they exist), then opened once, refused
/// unless a regular file, and, for a file under sinp_import.inbox_dir, checked again on the open
/// descriptor's real path, so that a link swapped since the first check cannot lead outside.
fn open_server_file(path: &str) -> LoadResult<File> {
    let inbox = if may_read_server_files() {
        None
    } else {
        if !may_read_server_path(path)? {
            return Err(read_denied(path));
        }
        crate::settings::inbox_dir().and_then(|dir| Path::new(&dir).canonicalize().ok())
    };
    let file = open_regular_file(Path::new(path)).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LoadError::FileNotFound {
            path: path.to_string(),
        },
        std::io::ErrorKind::PermissionDenied => LoadError::PermissionDenied {
            path: path.to_string(),
            reason: "The database server's operating-system user cannot read this file.".into(),
        },
        std::io::ErrorKind::InvalidInput => LoadError::NotAnArchive {
            name: path.to_string(),
            detail: e.to_string(),
        },
        _ => LoadError::Io {
            what: format!("\"{path}\""),
            detail: e.to_string(),
        },
    })?;
    if let Some(inbox) = inbox {
        let real = real_path(&file).map_err(|e| LoadError::Io {
            what: format!("\"{path}\""),
            detail: e.to_string(),
        })?;
        if !real.starts_with(&inbox) {
            return Err(read_denied(path));
        }
    }
    Ok(file)
}

/// Whether the archive's SHA-256 is computed: a load journals it and refuses an archive already
/// applied; a validation needs neither, and saves reading the whole file once more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ArchiveDigest {
    Sha256,
    None,
}

/// The archive as a seekable stream, with its SHA-256 (empty without `ArchiveDigest::Sha256`) and size.
pub(super) fn open_input<'a>(
    input: &ArchiveInput<'a>,
    digest: ArchiveDigest,
) -> LoadResult<(Box<dyn ReadSeek + 'a>, String, i64)> {
    match input {
        ArchiveInput::Bytes(bytes) => {
            let sha256 = match digest {
                ArchiveDigest::Sha256 => hex(&Sha256::digest(bytes)),
                ArchiveDigest::None => String::new(),
            };
            Ok((Box::new(Cursor::new(*bytes)), sha256, bytes.len() as i64))
        }
        ArchiveInput::Path(path) => {
            let mut file = open_server_file(path)?;
            let (file, sha256, size) = match digest {
                ArchiveDigest::Sha256 => {
                    // The same descriptor is hashed, then read from its start again.
                    let (sha256, size) = sha256_of(path, &file)?;
                    file.seek(SeekFrom::Start(0)).map_err(|e| LoadError::Io {
                        what: format!("\"{path}\""),
                        detail: e.to_string(),
                    })?;
                    (file, sha256, size)
                }
                ArchiveDigest::None => {
                    let size = file.metadata().map(|m| m.len() as i64).unwrap_or(0);
                    (file, String::new(), size)
                }
            };
            Ok((
                Box::new(BufReader::with_capacity(256 * 1024, file)),
                sha256,
                size,
            ))
        }
    }
}

/// A reader on the backend's own thread that lets a cancel or statement_timeout through between
/// its reads (the hashing pass of a large archive takes a while).
struct Interruptible<R>(R);

impl<R: std::io::Read> std::io::Read for Interruptible<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        pgrx::check_for_interrupts!();
        self.0.read(buf)
    }
}

/// The SHA-256 and size of a file, read once, streaming.
fn sha256_of(path: &str, file: &File) -> LoadResult<(String, i64)> {
    let (sha256, size) = sha256_hex(Interruptible(file)).map_err(|e| LoadError::Io {
        what: format!("\"{path}\""),
        detail: e.to_string(),
    })?;
    Ok((sha256, size as i64))
}
