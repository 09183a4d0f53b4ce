//! The inbox of scheduled loads: which directory, may the caller list it, what is in it. The loop
//! that loads each archive in its own transaction is the procedure sinp_import.load_inbox()
//! (sql/inbox.sql): only a procedure may commit.

use std::path::Path;

use pgrx::pg_sys;

use super::may_read_server_path;
use crate::archive::inbox::{list_inbox, InboxFile};
use crate::archive::{open_regular_file, sha256_hex};
use crate::error::{LoadError, LoadResult};

/// The directory a call reads: the one given, else the setting sinp_import.inbox_dir; checked to
/// exist and to be listable by the caller.
pub fn inbox_directory(dir: Option<&str>) -> LoadResult<String> {
    let dir = match dir.map(str::trim).filter(|d| !d.is_empty()) {
        Some(dir) => dir.to_string(),
        None => crate::settings::inbox_dir().ok_or(LoadError::InboxNotSet)?,
    };
    // Permission first: a role that may not list server directories learns nothing of them.
    if !may_read_server_path(&dir)? {
        return Err(LoadError::InboxPermissionDenied { dir });
    }
    if !Path::new(&dir).is_dir() {
        return Err(LoadError::InboxNotFound { dir });
    }
    Ok(dir)
}

/// The inbox's files, each archive with its SHA-256 (None when the server cannot read it: the
/// load will say why).
pub fn inbox_files(dir: Option<&str>) -> LoadResult<Vec<(InboxFile, Option<String>)>> {
    let dir = inbox_directory(dir)?;
    let files = list_inbox(Path::new(&dir)).map_err(|e| LoadError::Io {
        what: format!("inbox directory \"{dir}\""),
        detail: e.to_string(),
    })?;
    Ok(files
        .into_iter()
        .map(|file| {
            // Hashing a large inbox takes a while: a cancel must not wait for its end.
            pgrx::check_for_interrupts!();
            let sha256 = file
                .is_archive
                .then(|| open_regular_file(&file.path).and_then(sha256_hex).ok())
                .flatten()
                .map(|(sha256, _)| sha256);
            (file, sha256)
        })
        .collect())
}

/// For procedures that commit as they go: refuse to run inside BEGIN ... COMMIT, where their
/// first COMMIT would fail after work was done.
pub fn prevent_transaction_block(what: &'static str) -> LoadResult<()> {
    // SAFETY: reads the state of the current transaction; no allocation, no error.
    if unsafe { pg_sys::IsTransactionBlock() } {
        return Err(LoadError::InTransactionBlock { what });
    }
    Ok(())
}
