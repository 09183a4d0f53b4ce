//! The SQL interface (DESIGN.md §1), thin: argument handling and the mapping of errors to ERRORs.

// pgrx reads the result columns from the literal tuple type: it cannot be a type alias.
#![allow(clippy::type_complexity)]

use pgrx::prelude::*;

use crate::error::LoadError;
use crate::load::{self, ArchiveInput, LoadOutcome};

/// Raises a LoadError as a PostgreSQL ERROR with its SQLSTATE, message, DETAIL and HINT.
pub fn raise(error: LoadError) -> ! {
    let code = sqlstate(&error);
    let mut report = pgrx::pg_sys::panic::ErrorReport::new(code, error.message(), "sinp_import");
    if let Some(detail) = error.detail() {
        report = report.set_detail(detail);
    }
    if let Some(hint) = error.hint() {
        report = report.set_hint(hint);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("ERROR does not return")
}

fn sqlstate(error: &LoadError) -> PgSqlErrorCode {
    use crate::error::SqlState::*;
    match error.sqlstate() {
        UndefinedFile => PgSqlErrorCode::ERRCODE_UNDEFINED_FILE,
        InsufficientPrivilege => PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
        InvalidParameterValue => PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
        IoError => PgSqlErrorCode::ERRCODE_IO_ERROR,
        ProgramLimitExceeded => PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
        ObjectNotInPrerequisiteState => PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
        ForeignKeyViolation => PgSqlErrorCode::ERRCODE_FOREIGN_KEY_VIOLATION,
        ActiveSqlTransaction => PgSqlErrorCode::ERRCODE_ACTIVE_SQL_TRANSACTION,
        IntegrityConstraintViolation => PgSqlErrorCode::ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION,
        FeatureNotSupported => PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
        InternalError => PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
    }
}

fn rows(
    outcome: LoadOutcome,
) -> TableIterator<
    'static,
    (
        name!(import_id, i64),
        name!(status, String),
        name!(entity, String),
        name!(inserted, i64),
        name!(updated, i64),
        name!(deleted, i64),
        name!(unchanged, i64),
        name!(rejected, i64),
    ),
> {
    let import_id = outcome.import_id;
    let status = outcome.status;
    TableIterator::new(outcome.entities.into_iter().map(move |c| {
        (
            import_id,
            status.to_string(),
            c.entity.to_string(),
            c.inserted,
            c.updated,
            c.deleted,
            c.unchanged,
            c.rejected,
        )
    }))
}

/// Loads the archive at `path` on the database server.
#[pg_extern(name = "load_archive", volatile, parallel_unsafe)]
#[search_path(pg_catalog, sinp_import, pg_temp)]
fn load_archive_path(
    path: &str,
    mode: default!(&str, "'strict'"),
    dry_run: default!(bool, false),
) -> TableIterator<
    'static,
    (
        name!(import_id, i64),
        name!(status, String),
        name!(entity, String),
        name!(inserted, i64),
        name!(updated, i64),
        name!(deleted, i64),
        name!(unchanged, i64),
        name!(rejected, i64),
    ),
> {
    let name = path.rsplit('/').next().unwrap_or(path);
    match load::load_archive(ArchiveInput::Path(path), name, mode, dry_run) {
        Ok(outcome) => rows(outcome),
        Err(e) => raise(e),
    }
}

/// Loads an archive given as bytes (e.g. `pg_read_binary_file(...)` or a client parameter).
#[pg_extern(name = "load_archive", volatile, parallel_unsafe)]
#[search_path(pg_catalog, sinp_import, pg_temp)]
fn load_archive_bytes(
    archive: &[u8],
    archive_name: &str,
    mode: default!(&str, "'strict'"),
    dry_run: default!(bool, false),
) -> TableIterator<
    'static,
    (
        name!(import_id, i64),
        name!(status, String),
        name!(entity, String),
        name!(inserted, i64),
        name!(updated, i64),
        name!(deleted, i64),
        name!(unchanged, i64),
        name!(rejected, i64),
    ),
> {
    match load::load_archive(ArchiveInput::Bytes(archive), archive_name, mode, dry_run) {
        Ok(outcome) => rows(outcome),
        Err(e) => raise(e),
    }
}

fn problem_rows(
    problems: Vec<crate::error::Problem>,
) -> TableIterator<
    'static,
    (
        name!(file, String),
        name!(line, Option<i64>),
        name!(column_name, Option<String>),
        name!(severity, String),
        name!(code, String),
        name!(message, String),
        name!(value, Option<String>),
    ),
> {
    TableIterator::new(problems.into_iter().map(|p| {
        (
            p.file,
            p.line.map(|l| l as i64),
            p.column,
            p.severity.as_str().to_string(),
            p.code.to_string(),
            p.message,
            p.value,
        )
    }))
}

/// Checks the archive at `path` completely without writing to the targets: one row per problem.
#[pg_extern(name = "validate_archive", volatile, parallel_unsafe)]
#[search_path(pg_catalog, sinp_import, pg_temp)]
fn validate_archive_path(
    path: &str,
) -> TableIterator<
    'static,
    (
        name!(file, String),
        name!(line, Option<i64>),
        name!(column_name, Option<String>),
        name!(severity, String),
        name!(code, String),
        name!(message, String),
        name!(value, Option<String>),
    ),
> {
    let name = path.rsplit('/').next().unwrap_or(path);
    match load::validate_archive(ArchiveInput::Path(path), name) {
        Ok(problems) => problem_rows(problems),
        Err(e) => raise(e),
    }
}

/// Checks an archive given as bytes without writing to the targets: one row per problem.
#[pg_extern(name = "validate_archive", volatile, parallel_unsafe)]
#[search_path(pg_catalog, sinp_import, pg_temp)]
fn validate_archive_bytes(
    archive: &[u8],
    archive_name: &str,
) -> TableIterator<
    'static,
    (
        name!(file, String),
        name!(line, Option<i64>),
        name!(column_name, Option<String>),
        name!(severity, String),
        name!(code, String),
        name!(message, String),
        name!(value, Option<String>),
    ),
> {
    match load::validate_archive(ArchiveInput::Bytes(archive), archive_name) {
        Ok(problems) => problem_rows(problems),
        Err(e) => raise(e),
    }
}

/// Creates what is missing of a GeoNature-compatible target (see docs/target-schema.md).
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, sinp_import, pg_temp)]
fn create_target_schema() -> String {
    match load::target::create_target_schema(crate::settings::local_srid()) {
        Ok(summary) => summary,
        Err(e) => raise(e),
    }
}

/// The files of an inbox directory (`dir`, else the setting sinp_import.inbox_dir), each archive
/// with its SHA-256. sinp_import.inbox() adds what the journal knows of each.
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, sinp_import, pg_temp)]
fn inbox_files(
    dir: default!(Option<&str>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(archive_name, String),
        name!(path, String),
        name!(size_bytes, i64),
        name!(modified, pgrx::datum::TimestampWithTimeZone),
        name!(is_archive, bool),
        name!(archive_date, Option<String>),
        name!(region, Option<String>),
        name!(provider, Option<String>),
        name!(sha256, Option<String>),
    ),
> {
    let files = load::inbox::inbox_files(dir).unwrap_or_else(|e| raise(e));
    TableIterator::new(files.into_iter().map(|(file, sha256)| {
        (
            file.name,
            file.path.to_string_lossy().into_owned(),
            file.size as i64,
            pgrx::datum::datetime_support::to_timestamp(file.modified),
            file.is_archive,
            file.archive_date,
            file.region,
            file.provider,
            sha256,
        )
    }))
}

/// The first step of sinp_import.load_inbox(): checks that it may run (outside a transaction
/// block, with a known mode, on a directory the caller may list) and returns the directory.
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, sinp_import, pg_temp)]
fn begin_load_inbox(dir: Option<&str>, mode: &str) -> String {
    load::inbox::prevent_transaction_block("sinp_import.load_inbox()")
        .and_then(|()| load::Mode::parse(mode))
        .and_then(|_| load::inbox::inbox_directory(dir))
        .unwrap_or_else(|e| raise(e))
}

/// The first step of sinp_import.export_outbox(): checks that it may run (outside a transaction
/// block, with an outbox) and returns the outbox directory.
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, sinp_import, pg_temp)]
fn begin_export_outbox() -> String {
    load::inbox::prevent_transaction_block("sinp_import.export_outbox()")
        .and_then(|()| {
            crate::settings::outbox_dir()
                .filter(|dir| std::path::Path::new(dir).is_dir())
                .ok_or(crate::error::LoadError::OutboxNotSet)
        })
        .map(|dir| dir.trim_end_matches('/').to_string())
        .unwrap_or_else(|e| raise(e))
}

/// What to send a provider about an import: per file and code, the count, the first lines and what
/// to do (docs/errors.md); for an applied import, the rows written per entity and action.
#[pg_extern(stable, parallel_safe)]
#[search_path(pg_catalog, sinp_import, pg_temp)]
fn report(
    import_id: i64,
) -> TableIterator<
    'static,
    (
        name!(section, String),
        name!(file, String),
        name!(code, String),
        name!(severity, Option<String>),
        name!(count, i64),
        name!(examples, Option<String>),
        name!(what_to_do, Option<String>),
    ),
> {
    let rows = load::report::report(import_id).unwrap_or_else(|e| raise(e));
    TableIterator::new(rows.into_iter().map(|r| {
        (
            r.section.to_string(),
            r.file,
            r.code,
            r.severity,
            r.count,
            r.examples,
            r.what_to_do,
        )
    }))
}

/// The target's rows as an archive of format 1.0, in the dialect load_archive reads
/// (docs/export.md): every source, organism, user, framework, dataset and observation, or those
/// of the sources and datasets given; restricted observations only when asked.
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, sinp_import, pg_temp)]
fn export_archive_bytes(
    since: default!(Option<pgrx::datum::TimestampWithTimeZone>, "NULL"),
    sources: default!(Option<Vec<String>>, "NULL"),
    datasets: default!(Option<Vec<pgrx::Uuid>>, "NULL"),
    include_restricted: default!(Option<bool>, false),
    format: default!(Option<&str>, "'zip'"),
) -> Vec<u8> {
    let options = crate::export::ExportOptions {
        since,
        sources,
        datasets,
        // NULL: as the default, restricted observations stay out.
        include_restricted: include_restricted.unwrap_or(false),
        format: format.unwrap_or("zip").to_string(),
    };
    match crate::export::export_bytes(&options) {
        Ok((bytes, _)) => bytes,
        Err(e) => raise(e),
    }
}

/// The archive written to a new server file (superuser, pg_write_server_files, or under the
/// superuser-set sinp_import.outbox_dir), journaled in sinp_import.exports: one row per file
/// with its rows per action (docs/export.md).
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, sinp_import, pg_temp)]
fn export_archive(
    path: Option<&str>,
    since: default!(Option<pgrx::datum::TimestampWithTimeZone>, "NULL"),
    sources: default!(Option<Vec<String>>, "NULL"),
    datasets: default!(Option<Vec<pgrx::Uuid>>, "NULL"),
    include_restricted: default!(Option<bool>, false),
    format: default!(Option<&str>, "'zip'"),
) -> TableIterator<
    'static,
    (
        name!(export_id, i64),
        name!(entity, String),
        name!(inserted, i64),
        name!(updated, i64),
        name!(deleted, i64),
    ),
> {
    let options = crate::export::ExportOptions {
        since,
        sources,
        datasets,
        include_restricted: include_restricted.unwrap_or(false),
        format: format.unwrap_or("zip").to_string(),
    };
    let Some(path) = path else {
        raise(crate::error::LoadError::InvalidArgument {
            argument: "path",
            value: "NULL".into(),
            expected: "an absolute path on the database server",
        })
    };
    let (export_id, counts) =
        crate::export::output::export_to_path(path, &options).unwrap_or_else(|e| raise(e));
    TableIterator::new(counts.into_iter().map(move |c| {
        (
            export_id,
            c.entity.to_string(),
            c.inserted,
            c.updated,
            c.deleted,
        )
    }))
}

extension_sql_file!("../sql/journal.sql", name = "journal", bootstrap);
extension_sql_file!(
    "../sql/inbox.sql",
    name = "inbox",
    requires = ["journal", inbox_files, begin_load_inbox, load_archive_path]
);
extension_sql_file!(
    "../sql/access.sql",
    name = "access",
    requires = ["journal", "inbox", "progress", "changes", "outbox"]
);
extension_sql_file!(
    "../sql/progress.sql",
    name = "progress",
    requires = ["journal"]
);
extension_sql_file!(
    "../sql/restricted.sql",
    name = "restricted",
    requires = ["journal"]
);
extension_sql_file!(
    "../sql/changes.sql",
    name = "changes",
    requires = ["journal"]
);
extension_sql_file!(
    "../sql/outbox.sql",
    name = "outbox",
    requires = ["journal", "changes", export_archive, begin_export_outbox]
);
extension_sql_file!("../sql/comments.sql", name = "comments", finalize);
