//! sinp_import.export_archive(path): the archive written to a new server file the caller may
//! write (superuser, pg_write_server_files, or under the superuser-set sinp_import.outbox_dir),
//! checked on its open descriptor, removed if the export fails; journaled in sinp_import.exports.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use pgrx::pg_sys;
use pgrx::prelude::*;

use super::{check_options, write_archive, ExportOptions, ExportedEntity};
use crate::archive::write::{create_new_file, ArchiveWriter};
use crate::archive::{parse_archive_name, real_path, sha256_hex};
use crate::error::{LoadError, LoadResult};
use crate::load::spi_error;

/// Whether the current user is a superuser or has the privileges of pg_write_server_files, asked
/// of PostgreSQL's own C functions.
fn may_write_server_files() -> bool {
    // SAFETY: plain catalog lookups of the current user, in a transaction.
    unsafe {
        pg_sys::superuser()
            || pg_sys::has_privs_of_role(
                pg_sys::GetUserId(),
                pg_sys::Oid::from(pg_sys::ROLE_PG_WRITE_SERVER_FILES),
            )
    }
}

fn write_denied(path: &str) -> LoadError {
    LoadError::WriteDenied {
        path: path.to_string(),
        reason: "Only superusers, members of pg_write_server_files, or callers writing under the directory of sinp_import.outbox_dir may export archives to server files.".to_string(),
    }
}

fn io(path: &str) -> impl Fn(std::io::Error) -> LoadError + '_ {
    move |e| LoadError::Io {
        what: format!("\"{path}\""),
        detail: e.to_string(),
    }
}

/// The outbox, its links resolved, when the caller needs it to write `path`; an error when it
/// may not write there at all.
fn outbox_for(path: &str) -> LoadResult<Option<PathBuf>> {
    if !Path::new(path).is_absolute() {
        return Err(LoadError::InvalidArgument {
            argument: "path",
            value: path.to_string(),
            expected: "an absolute path on the database server",
        });
    }
    if may_write_server_files() {
        return Ok(None);
    }
    let outbox = crate::settings::outbox_dir()
        .and_then(|dir| Path::new(&dir).canonicalize().ok())
        .ok_or_else(|| write_denied(path))?;
    let parent = Path::new(path)
        .parent()
        .and_then(|p| p.canonicalize().ok())
        .ok_or_else(|| write_denied(path))?;
    if !parent.starts_with(&outbox) {
        return Err(write_denied(path));
    }
    Ok(Some(outbox))
}

/// The archive written to `path` (a file that must not exist yet): the export's id and the rows of
/// each file.
pub fn export_to_path(
    path: &str,
    options: &ExportOptions,
) -> LoadResult<(i64, Vec<ExportedEntity>)> {
    check_options(options)?;
    let outbox = outbox_for(path)?;
    let archive_name = Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if parse_archive_name(&archive_name).is_none() {
        pgrx::warning!(
            "sinp_import: {archive_name} does not follow the naming convention YYYY-MM-DD_sinp_<region>_<provider>.zip: its receivers' journal will not know its date, region or provider"
        );
    }
    let extension = match options.archive_format() {
        crate::archive::write::ArchiveFormat::Zip => ".zip",
        crate::archive::write::ArchiveFormat::TarBz2 => ".tar.bz2",
    };
    if !archive_name.ends_with(extension) {
        pgrx::warning!(
            "sinp_import: {archive_name} is written as a {} archive: its name does not say so",
            &extension[1..]
        );
    }
    let export_id = Spi::get_one_with_args::<i64>(
        // next_since is read before the export reads any row: a transaction running now may
        // commit what this export does not see.
        "INSERT INTO sinp_import.exports (path, archive_name, since, sources, datasets, include_restricted, format,
                                         next_since)
         VALUES ($1, $2, $3, $4, $5, $6, $7, sinp_import.oldest_running_transaction())
         RETURNING export_id",
        &[
            path.into(),
            archive_name.as_str().into(),
            options.since.into(),
            options.sources.clone().into(),
            options.datasets.clone().into(),
            options.include_restricted.into(),
            options.format.as_str().into(),
        ],
    )
    .map_err(spi_error)?
    .unwrap_or_default();

    let file = create_new_file(Path::new(path)).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => LoadError::InvalidArgument {
            argument: "path",
            value: path.to_string(),
            expected: "a file that does not exist yet (an export never replaces a file)",
        },
        std::io::ErrorKind::PermissionDenied => LoadError::WriteDenied {
            path: path.to_string(),
            reason: "The database server's operating-system user cannot create this file.".into(),
        },
        _ => io(path)(e),
    })?;
    // From here on, a failure removes what was written.
    let written = write_file(path, &file, outbox.as_deref(), options);
    let (counts, size, sha256) = match written {
        Ok(done) => done,
        Err(e) => {
            let _ = std::fs::remove_file(path);
            return Err(e);
        }
    };
    let entity_counts = serde_json::Value::Object(
        counts
            .iter()
            .map(|c| {
                (
                    c.entity.to_string(),
                    serde_json::json!({"inserted": c.inserted, "updated": c.updated, "deleted": c.deleted}),
                )
            })
            .collect(),
    );
    Spi::run_with_args(
        "UPDATE sinp_import.exports
            SET size_bytes = $2, sha256 = $3, entity_counts = $4, finished_at = clock_timestamp()
          WHERE export_id = $1",
        &[
            export_id.into(),
            size.into(),
            sha256.as_str().into(),
            pgrx::JsonB(entity_counts).into(),
        ],
    )
    .map_err(spi_error)?;
    Ok((export_id, counts))
}

/// Checks where the new file really is, writes the archive into it, and returns the rows of each
/// file, its size and SHA-256.
fn write_file(
    path: &str,
    file: &File,
    outbox: Option<&Path>,
    options: &ExportOptions,
) -> LoadResult<(Vec<ExportedEntity>, i64, String)> {
    if let Some(outbox) = outbox {
        // The directory checked by path may have been swapped for a link since: the descriptor
        // tells where the file was made.
        let real = real_path(file).map_err(io(path))?;
        if !real.starts_with(outbox) {
            return Err(write_denied(path));
        }
    }
    let mut zip = ArchiveWriter::with_format(
        BufWriter::new(file.try_clone().map_err(io(path))?),
        options.archive_format(),
    );
    let counts = super::pipeline::with_writing_thread(&mut zip, |out| write_archive(out, options))?;
    let out = zip.finish().map_err(io(path))?;
    let mut file = out.into_inner().map_err(|e| LoadError::Io {
        what: format!("\"{path}\""),
        detail: e.to_string(),
    })?;
    file.sync_all().map_err(io(path))?;
    file.seek(SeekFrom::Start(0)).map_err(io(path))?;
    let (sha256, size) = sha256_hex(&mut file).map_err(io(path))?;
    Ok((counts, size as i64, sha256))
}
