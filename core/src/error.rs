//! One error type for everything that stops a call, and the `Problem` record for everything that
//! is wrong with the data. A `LoadError` becomes a PostgreSQL ERROR with SQLSTATE, message, DETAIL
//! and HINT; a `Problem` is a row of the journal (file, line, column, code, raw record).
//!
//! This module is pure Rust except for `LoadError::raise`, the single place where an error leaves
//! Rust for PostgreSQL.

use std::fmt;

/// How bad a data problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A problem found in the data, with enough context for a DBA to find and fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Archive member (e.g. `synthese.csv`), or the archive name for archive-level problems.
    pub file: String,
    /// Physical line where the record starts (1 = header), when the problem is in a record.
    pub line: Option<u64>,
    /// Column as it appears in the file's header.
    pub column: Option<String>,
    pub severity: Severity,
    /// Stable code from FORMAT.md (e.g. `INVALID_UUID`).
    pub code: &'static str,
    pub message: String,
    /// The offending value, as read.
    pub value: Option<String>,
    /// The whole original record, so it can be corrected and re-sent.
    pub raw_record: Option<String>,
}

impl Problem {
    pub fn error(file: &str, code: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            file: storable(file),
            line: None,
            column: None,
            severity: Severity::Error,
            code,
            message: storable(&message.into()),
            value: None,
            raw_record: None,
        }
    }

    pub fn warning(file: &str, code: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(file, code, message)
        }
    }

    pub fn at_line(mut self, line: u64) -> Problem {
        self.line = Some(line);
        self
    }

    pub fn in_column(mut self, column: &str) -> Problem {
        self.column = Some(storable(column));
        self
    }

    pub fn with_value(mut self, value: &str) -> Problem {
        self.value = Some(bounded(value));
        self
    }

    pub fn with_raw_record(mut self, raw: impl Into<String>) -> Problem {
        self.raw_record = Some(bounded(&raw.into()));
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ", column {column}")?;
        }
        write!(f, ": {} {}", self.code, self.message)?;
        if let Some(value) = &self.value {
            write!(f, " (value: {})", truncate(value, 80))?;
        }
        Ok(())
    }
}

/// The most of a value or raw record a journal row keeps.
pub const MAX_JOURNALED_BYTES: usize = 64 * 1024;

/// `text` when it fits a journal row; otherwise its first `MAX_JOURNALED_BYTES` (cut at a character
/// boundary) and a note of its whole length and SHA-256, by which the record can be found in the
/// file: a hostile record of hundreds of megabytes is not stored whole.
pub fn bounded(text: &str) -> String {
    if text.len() <= MAX_JOURNALED_BYTES {
        return storable(text);
    }
    let mut end = MAX_JOURNALED_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    use sha2::Digest;
    let digest = crate::archive::hex(&sha2::Sha256::digest(text.as_bytes()));
    format!(
        "{}… [truncated: {} bytes in all, SHA-256 {digest}]",
        storable(&text[..end]),
        text.len()
    )
}

/// Text a journal row (PostgreSQL text) can hold: a NUL byte (a member name of a hostile archive
/// may have one) becomes U+FFFD.
fn storable(text: &str) -> String {
    if text.contains('\0') {
        text.replace('\0', "\u{FFFD}")
    } else {
        text.to_string()
    }
}

fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// SQLSTATEs used by the extension (five-character codes, see PostgreSQL's errcodes.txt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlState {
    /// 58P01 undefined_file
    UndefinedFile,
    /// 42501 insufficient_privilege
    InsufficientPrivilege,
    /// 22023 invalid_parameter_value
    InvalidParameterValue,
    /// 58030 io_error
    IoError,
    /// 54000 program_limit_exceeded
    ProgramLimitExceeded,
    /// 55000 object_not_in_prerequisite_state
    ObjectNotInPrerequisiteState,
    /// 23503 foreign_key_violation
    ForeignKeyViolation,
    /// 25001 active_sql_transaction
    ActiveSqlTransaction,
    /// 23000 integrity_constraint_violation
    IntegrityConstraintViolation,
    /// 0A000 feature_not_supported
    FeatureNotSupported,
    /// XX000 internal_error
    InternalError,
}

impl SqlState {
    pub fn code(self) -> &'static str {
        match self {
            SqlState::UndefinedFile => "58P01",
            SqlState::InsufficientPrivilege => "42501",
            SqlState::InvalidParameterValue => "22023",
            SqlState::IoError => "58030",
            SqlState::ProgramLimitExceeded => "54000",
            SqlState::ObjectNotInPrerequisiteState => "55000",
            SqlState::ForeignKeyViolation => "23503",
            SqlState::ActiveSqlTransaction => "25001",
            SqlState::IntegrityConstraintViolation => "23000",
            SqlState::FeatureNotSupported => "0A000",
            SqlState::InternalError => "XX000",
        }
    }
}

/// Everything that stops a call. Each variant knows its SQLSTATE, message, detail and hint.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadError {
    FileNotFound {
        path: String,
    },
    PermissionDenied {
        path: String,
        reason: String,
    },
    /// An export to a server file the caller may not write.
    WriteDenied {
        path: String,
        reason: String,
    },
    NotAnArchive {
        name: String,
        detail: String,
    },
    InvalidMode {
        mode: String,
    },
    TargetMissing {
        table: String,
    },
    Io {
        what: String,
        detail: String,
    },
    /// The archive is larger than the settings allow.
    LimitExceeded {
        what: String,
        setting: &'static str,
    },
    /// Rows that new link rows reference were deleted by another transaction during the load.
    ReferencedRowsDeleted {
        table: String,
        count: i64,
        /// The key of one of them.
        example: String,
    },
    /// PostgreSQL refused a write of the load (a constraint, a value, a RAISE of a check
    /// function): the load journals it as a problem of the archive and returns `rejected`.
    TargetRefused {
        sqlstate: String,
        message: String,
        detail: Option<String>,
    },
    /// The role lacks a privilege a load needs on one of the extension's own objects (the lock
    /// that serialises loads, the journal).
    PrivilegeMissing {
        object: &'static str,
        privilege: &'static str,
    },
    /// The caller may not write a target table as the archive needs (checked before its rows are
    /// read; for D rows, once the file is staged).
    TargetPrivilegeMissing {
        table: String,
        privilege: &'static str,
        role: String,
        reason: String,
        hint: String,
    },
    /// load_inbox() without a directory, and sinp_import.inbox_dir is not set.
    InboxNotSet,
    /// export_outbox() without sinp_import.outbox_dir.
    OutboxNotSet,
    /// report() of an import the journal does not have.
    ImportNotFound {
        import_id: i64,
    },
    InboxNotFound {
        dir: String,
    },
    InboxPermissionDenied {
        dir: String,
    },
    /// A procedure that commits as it goes was called inside BEGIN ... COMMIT.
    InTransactionBlock {
        what: &'static str,
    },
    /// An argument outside what the function takes.
    InvalidArgument {
        argument: &'static str,
        value: String,
        expected: &'static str,
    },
    /// Something asked for that this version does not do yet.
    NotSupported {
        what: String,
        detail: String,
        hint: String,
    },
    /// A differential export the change log cannot answer: not installed on every table, or
    /// asked from before it began.
    ChangeLog {
        message: String,
        detail: String,
        hint: String,
        before_start: bool,
    },
    Internal {
        message: String,
    },
}

impl LoadError {
    pub fn sqlstate(&self) -> SqlState {
        match self {
            LoadError::FileNotFound { .. } => SqlState::UndefinedFile,
            LoadError::PermissionDenied { .. } => SqlState::InsufficientPrivilege,
            LoadError::WriteDenied { .. } => SqlState::InsufficientPrivilege,
            LoadError::NotAnArchive { .. } => SqlState::InvalidParameterValue,
            LoadError::InvalidMode { .. } => SqlState::InvalidParameterValue,
            LoadError::TargetMissing { .. } => SqlState::ObjectNotInPrerequisiteState,
            LoadError::Io { .. } => SqlState::IoError,
            LoadError::LimitExceeded { .. } => SqlState::ProgramLimitExceeded,
            LoadError::ReferencedRowsDeleted { .. } => SqlState::ForeignKeyViolation,
            LoadError::TargetRefused { .. } => SqlState::IntegrityConstraintViolation,
            LoadError::PrivilegeMissing { .. } => SqlState::InsufficientPrivilege,
            LoadError::TargetPrivilegeMissing { .. } => SqlState::InsufficientPrivilege,
            LoadError::InboxNotSet => SqlState::InvalidParameterValue,
            LoadError::OutboxNotSet => SqlState::ObjectNotInPrerequisiteState,
            LoadError::InvalidArgument { .. } => SqlState::InvalidParameterValue,
            LoadError::NotSupported { .. } => SqlState::FeatureNotSupported,
            LoadError::ChangeLog {
                before_start: true, ..
            } => SqlState::InvalidParameterValue,
            LoadError::ChangeLog { .. } => SqlState::ObjectNotInPrerequisiteState,
            LoadError::ImportNotFound { .. } => SqlState::InvalidParameterValue,
            LoadError::InboxNotFound { .. } => SqlState::UndefinedFile,
            LoadError::InboxPermissionDenied { .. } => SqlState::InsufficientPrivilege,
            LoadError::InTransactionBlock { .. } => SqlState::ActiveSqlTransaction,
            LoadError::Internal { .. } => SqlState::InternalError,
        }
    }

    pub fn message(&self) -> String {
        match self {
            LoadError::FileNotFound { path } => format!("archive file \"{path}\" does not exist"),
            LoadError::PermissionDenied { path, .. } => {
                format!("permission denied to read archive \"{path}\"")
            }
            LoadError::WriteDenied { path, .. } => {
                format!("permission denied to write archive \"{path}\"")
            }
            LoadError::NotAnArchive { name, .. } => {
                format!("\"{name}\" is not a readable SINP archive")
            }
            LoadError::InvalidMode { mode } => format!("unknown load mode \"{mode}\""),
            LoadError::TargetMissing { table } => format!("target table {table} does not exist"),
            LoadError::Io { what, .. } => format!("could not read {what}"),
            LoadError::LimitExceeded { .. } => {
                "archive refused: it exceeds a size limit".to_string()
            }
            LoadError::ReferencedRowsDeleted { table, count, .. } => format!(
                "{count} row(s) that new rows of {table} link to were deleted during the load"
            ),
            LoadError::TargetRefused {
                sqlstate, message, ..
            } => format!("the database refused the load's rows ({sqlstate}): {message}"),
            LoadError::PrivilegeMissing { object, privilege } => {
                format!("permission denied: a load needs {privilege} on {object}")
            }
            LoadError::TargetPrivilegeMissing {
                table,
                privilege,
                role,
                ..
            } => format!("permission denied: role {role} may not {privilege} on {table}"),
            LoadError::InboxNotSet => {
                "no inbox directory given, and sinp_import.inbox_dir is not set".to_string()
            }
            LoadError::OutboxNotSet => {
                "sinp_import.outbox_dir is not set, or is not a directory".to_string()
            }
            LoadError::InvalidArgument {
                argument, value, ..
            } => format!("invalid {argument}: \"{value}\""),
            LoadError::NotSupported { what, .. } => format!("{what} is not supported yet"),
            LoadError::ChangeLog { message, .. } => message.clone(),
            LoadError::ImportNotFound { import_id } => {
                format!("sinp_import.imports has no import {import_id}")
            }
            LoadError::InboxNotFound { dir } => {
                format!("inbox directory \"{dir}\" does not exist")
            }
            LoadError::InboxPermissionDenied { dir } => {
                format!("permission denied to list inbox directory \"{dir}\"")
            }
            LoadError::InTransactionBlock { what } => {
                format!("{what} cannot run inside a transaction block")
            }
            LoadError::Internal { message } => message.clone(),
        }
    }

    pub fn detail(&self) -> Option<String> {
        match self {
            LoadError::FileNotFound { path } => Some(format!(
                "The server process found no file at \"{path}\"; paths are read by the database server, not by the client."
            )),
            LoadError::PermissionDenied { reason, .. } => Some(reason.clone()),
            LoadError::WriteDenied { reason, .. } => Some(reason.clone()),
            LoadError::NotAnArchive { detail, .. } => Some(detail.clone()),
            LoadError::InvalidMode { .. } => {
                Some("Accepted modes are 'strict' and 'lenient'.".to_string())
            }
            LoadError::TargetMissing { .. } => None,
            LoadError::Io { detail, .. } => Some(detail.clone()),
            LoadError::LimitExceeded { what, .. } => Some(format!("The archive has {what}.")),
            LoadError::ReferencedRowsDeleted { example, .. } => Some(format!(
                "Another transaction deleted them after the load had read them (for example the one with key {example}); the load is undone."
            )),
            LoadError::TargetRefused { detail, .. } => Some(
                detail
                    .clone()
                    .unwrap_or_else(|| "PostgreSQL gave no detail.".to_string()),
            ),
            LoadError::PrivilegeMissing { .. } => Some(
                "Loads and validations lock sinp_import.load_lock until they end, and a load writes its journal (sinp_import.imports, sinp_import.import_errors, sinp_import.additional_fields) with the caller's privileges; all are checked before anything is read.".to_string(),
            ),
            LoadError::TargetPrivilegeMissing { reason, .. } => Some(reason.clone()),
            LoadError::InboxNotSet => Some(
                "sinp_import.load_inbox() and sinp_import.inbox() read the directory they are given, else the one of the setting sinp_import.inbox_dir.".to_string(),
            ),
            LoadError::OutboxNotSet => Some(
                "sinp_import.export_outbox() writes each feed's archive into the directory of the setting sinp_import.outbox_dir.".to_string(),
            ),
            LoadError::InvalidArgument { expected, .. } => Some(format!("It takes {expected}.")),
            LoadError::NotSupported { detail, .. } => Some(detail.clone()),
            LoadError::ChangeLog { detail, .. } => Some(detail.clone()),
            LoadError::ImportNotFound { .. } => Some(
                "report() describes one row of the journal, by its import_id (load_archive() returns it).".to_string(),
            ),
            LoadError::InboxNotFound { .. } => Some(
                "The directory is read by the database server process, not by the client.".to_string(),
            ),
            LoadError::InboxPermissionDenied { .. } => Some(
                "Only superusers, members of pg_read_server_files, or callers listing the directory of sinp_import.inbox_dir (or one under it) may list server directories.".to_string(),
            ),
            LoadError::InTransactionBlock { .. } => Some(
                "It commits after each archive, so that one bad archive does not undo the others.".to_string(),
            ),
            LoadError::Internal { .. } => None,
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            LoadError::FileNotFound { .. } => Some(
                "Give an absolute path on the database server, or pass the archive's bytes with load_archive(bytea, archive_name)."
                    .to_string(),
            ),
            LoadError::WriteDenied { .. } => Some(
                "Grant the role pg_write_server_files, write under the directory of the setting sinp_import.outbox_dir, or fetch the bytes with sinp_import.export_archive_bytes().".to_string(),
            ),
            LoadError::PermissionDenied { .. } => Some(
                "Grant the role pg_read_server_files, put the archive under the directory of the setting sinp_import.inbox_dir, or pass the bytes with load_archive(bytea, archive_name)."
                    .to_string(),
            ),
            LoadError::NotAnArchive { .. } => Some(
                "SINP archives are ZIP files holding meta_archive.ini and synthese.csv (see FORMAT.md).".to_string(),
            ),
            LoadError::InvalidMode { .. } => Some(
                "Pass mode => 'strict' (any error: nothing is applied) or mode => 'lenient' (invalid rows are set aside).".to_string(),
            ),
            LoadError::TargetMissing { .. } => Some(
                "Run SELECT sinp_import.create_target_schema(); on a database without GeoNature.".to_string(),
            ),
            LoadError::Io { .. } => None,
            LoadError::LimitExceeded { setting, .. } => Some(format!(
                "If the archive is trusted, a superuser can raise {setting}."
            )),
            LoadError::ReferencedRowsDeleted { .. } => {
                Some("Load the archive again.".to_string())
            }
            LoadError::TargetRefused { .. } => Some(
                "A constraint or trigger of the target refused rows the checks let through: see docs/errors.md (CONSTRAINT_VIOLATION).".to_string(),
            ),
            LoadError::PrivilegeMissing { object, privilege } => Some(format!(
                "A superuser gives a role all a load needs of the extension with SELECT sinp_import.grant_loader('<role>'); or this privilege alone with GRANT {privilege} ON {object} TO <role>;"
            )),
            LoadError::TargetPrivilegeMissing { hint, .. } => Some(hint.clone()),
            LoadError::ImportNotFound { .. } => Some(
                "See the imports: SELECT import_id, archive_name, status FROM sinp_import.imports ORDER BY import_id DESC;".to_string(),
            ),
            LoadError::InvalidArgument { argument, expected, .. } => {
                Some(format!("Give {argument} => {expected}."))
            }
            LoadError::NotSupported { hint, .. } => Some(hint.clone()),
            LoadError::ChangeLog { hint, .. } => Some(hint.clone()),
            LoadError::OutboxNotSet => Some(
                "Set it once, as a superuser: ALTER SYSTEM SET sinp_import.outbox_dir = '/srv/sinp/outbox'; SELECT pg_reload_conf();".to_string(),
            ),
            LoadError::InboxNotSet => Some(
                "Pass the directory, CALL sinp_import.load_inbox('/srv/sinp/inbox'), or set it once: ALTER SYSTEM SET sinp_import.inbox_dir = '/srv/sinp/inbox'; SELECT pg_reload_conf();".to_string(),
            ),
            LoadError::InboxNotFound { .. } => Some(
                "Give an absolute path on the database server, or fix the setting sinp_import.inbox_dir.".to_string(),
            ),
            LoadError::InboxPermissionDenied { .. } => Some(
                "Grant the role pg_read_server_files, or have a superuser set sinp_import.inbox_dir to this directory.".to_string(),
            ),
            LoadError::InTransactionBlock { what } => Some(format!(
                "Call it on its own, outside BEGIN ... COMMIT (with psql's AUTOCOMMIT on); {}",
                if what.contains("export") {
                    "to write one archive inside your transaction, use sinp_import.export_archive()."
                } else {
                    "to load one archive inside your transaction, use sinp_import.load_archive()."
                }
            )),
            LoadError::Internal { .. } => None,
        }
    }

    pub fn internal(message: impl Into<String>) -> LoadError {
        LoadError::Internal {
            message: message.into(),
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message(), self.sqlstate().code())
    }
}

impl std::error::Error for LoadError {}

pub type LoadResult<T> = Result<T, LoadError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_hold_no_nul_byte() {
        let p = Problem::warning("evil\0.zip", "UNKNOWN_FILE", "member \"a\0b\" is not part")
            .in_column("c\0")
            .with_value("a\0b")
            .with_raw_record("x\0y");
        for text in [
            &p.file,
            &p.message,
            p.column.as_ref().unwrap(),
            p.value.as_ref().unwrap(),
            p.raw_record.as_ref().unwrap(),
        ] {
            assert!(
                !text.contains('\0') && text.contains('\u{FFFD}'),
                "{text:?}"
            );
        }
    }

    #[test]
    fn journaled_values_and_records_are_bounded_with_their_length_and_digest() {
        let short = Problem::error("f", "X_Y_ZZZZ", "m").with_value("abc");
        assert_eq!(short.value.as_deref(), Some("abc"));
        let huge = "é".repeat(100_000); // 200 000 bytes
        let p = Problem::error("f", "X_Y_ZZZZ", "m").with_raw_record(huge.clone());
        let raw = p.raw_record.unwrap();
        assert!(raw.len() < MAX_JOURNALED_BYTES + 200, "{}", raw.len());
        assert!(raw.starts_with("éé"));
        assert!(raw.ends_with(&format!(
            "[truncated: 200000 bytes in all, SHA-256 {}]",
            crate::archive::sha256_hex(huge.as_bytes()).unwrap().0
        )));
    }

    #[test]
    fn problem_display_names_file_line_column_and_code() {
        let p = Problem::error("synthese.csv", "INVALID_UUID", "is not a UUID")
            .at_line(12)
            .in_column("unique_id_sinp")
            .with_value("abc");
        assert_eq!(
            p.to_string(),
            "synthese.csv, line 12, column unique_id_sinp: INVALID_UUID is not a UUID (value: abc)"
        );
    }

    #[test]
    fn every_error_has_a_five_character_sqlstate_and_a_hint_for_usage_errors() {
        let errors = [
            LoadError::FileNotFound { path: "/x".into() },
            LoadError::PermissionDenied {
                path: "/x".into(),
                reason: "r".into(),
            },
            LoadError::NotAnArchive {
                name: "x".into(),
                detail: "d".into(),
            },
            LoadError::InvalidMode { mode: "m".into() },
            LoadError::TargetRefused {
                sqlstate: "23503".into(),
                message: "m".into(),
                detail: None,
            },
            LoadError::PrivilegeMissing {
                object: "sinp_import.load_lock",
                privilege: "UPDATE",
            },
            LoadError::InboxNotSet,
            LoadError::OutboxNotSet,
            LoadError::WriteDenied {
                path: "/p".into(),
                reason: "r".into(),
            },
            LoadError::InvalidArgument {
                argument: "format",
                value: "rar".into(),
                expected: "'zip' or 'tar.bz2'",
            },
            LoadError::NotSupported {
                what: "w".into(),
                detail: "d".into(),
                hint: "h".into(),
            },
            LoadError::ChangeLog {
                message: "m".into(),
                detail: "d".into(),
                hint: "h".into(),
                before_start: true,
            },
            LoadError::ImportNotFound { import_id: 7 },
            LoadError::InboxNotFound { dir: "/d".into() },
            LoadError::InboxPermissionDenied { dir: "/d".into() },
            LoadError::InTransactionBlock { what: "p()" },
            LoadError::ReferencedRowsDeleted {
                table: "t".into(),
                count: 1,
                example: "7".into(),
            },
        ];
        for e in errors {
            assert_eq!(e.sqlstate().code().len(), 5);
            assert!(e.hint().is_some(), "{e}");
            assert!(e.detail().is_some(), "{e}");
        }
    }
}
