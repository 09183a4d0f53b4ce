//! The extension's settings (GUCs).

use std::ffi::CString;

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};

/// SRID of `the_geom_local` and `l_areas.geom` when create_target_schema() creates them.
pub static LOCAL_SRID: GucSetting<i32> = GucSetting::<i32>::new(2154);

/// Directory whose archives any role allowed to call load_archive may read.
pub static INBOX_DIR: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
pub static BLUR_AREA_TYPE: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
/// The directory export_archive() may write under without pg_write_server_files.
pub static OUTBOX_DIR: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
/// `editor` and `contact` of the meta_archive.ini an export writes.
pub static EXPORT_EDITOR: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
pub static EXPORT_CONTACT: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// Archive limits (a hostile archive is refused before it costs memory or time).
pub static MAX_MEMBERS: GucSetting<i32> = GucSetting::<i32>::new(64);
pub static MAX_MEMBER_MB: GucSetting<i32> = GucSetting::<i32>::new(16 * 1024);
pub static MAX_TOTAL_MB: GucSetting<i32> = GucSetting::<i32>::new(32 * 1024);
pub static MAX_COMPRESSION_RATIO: GucSetting<i32> = GucSetting::<i32>::new(200);
pub static MAX_RECORD_MB: GucSetting<i32> = GucSetting::<i32>::new(16);

/// Rows written per statement (observations, their links): bounds the memory of a load.
pub static BATCH_ROWS: GucSetting<i32> = GucSetting::<i32>::new(50_000);

/// Whether a load that at least doubles a table builds its plain indexes once after writing, instead
/// of maintaining them row by row (it then blocks the table's readers until it commits).
pub static REBUILD_INDEXES: GucSetting<bool> = GucSetting::<bool>::new(false);

pub fn register() {
    GucRegistry::define_int_guc(
        c"sinp_import.local_srid",
        c"SRID of the local geometries (the_geom_local, ref_geo.l_areas.geom).",
        c"Read by sinp_import.create_target_schema() when it creates the geometry columns; loads use the SRID of the existing columns.",
        &LOCAL_SRID,
        1,
        998_999,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"sinp_import.inbox_dir",
        c"Directory of archives to load; load_archive(path) may read files under it without pg_read_server_files.",
        c"Also the default directory of sinp_import.load_inbox().",
        &INBOX_DIR,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"sinp_import.blur_area_type",
        c"The area type (ref_geo.bib_areas_types.type_code) whose cells replace the geometry of restricted observations in sinp_import.public_observations; M10 when unset.",
        c"Read by sinp_import.protect_restricted(), which writes it into the view: run it again after a change.",
        &BLUR_AREA_TYPE,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"sinp_import.outbox_dir",
        c"Directory export_archive(path) may write archives under without pg_write_server_files.",
        c"The outbox of the nightly exports (docs/export.md).",
        &OUTBOX_DIR,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"sinp_import.export_editor",
        c"The editor written in the meta_archive.ini of the archives sinp_import.export_archive() writes (the platform that exports).",
        c"",
        &EXPORT_EDITOR,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"sinp_import.export_contact",
        c"The contact written in the meta_archive.ini of the archives sinp_import.export_archive() writes.",
        c"",
        &EXPORT_CONTACT,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"sinp_import.max_members",
        c"Most members an archive may have.",
        c"An archive with more is refused before anything is read (SQLSTATE 54000).",
        &MAX_MEMBERS,
        1,
        100_000,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"sinp_import.max_record_size",
        c"Longest record (line) of an archive's file.",
        c"A longer record is a RECORD_TOO_LONG problem and the rest of its file is not read: a record is held in memory while it is read.",
        &MAX_RECORD_MB,
        1,
        1024,
        GucContext::Suset,
        GucFlags::UNIT_MB,
    );
    GucRegistry::define_int_guc(
        c"sinp_import.max_member_size",
        c"Largest uncompressed size of one archive member.",
        c"Checked against the archive's directory, and again while the member is read.",
        &MAX_MEMBER_MB,
        1,
        i32::MAX,
        GucContext::Suset,
        GucFlags::UNIT_MB,
    );
    GucRegistry::define_int_guc(
        c"sinp_import.max_archive_size",
        c"Largest total uncompressed size of an archive's members.",
        c"Checked against the archive's directory, and again while the members are read.",
        &MAX_TOTAL_MB,
        1,
        i32::MAX,
        GucContext::Suset,
        GucFlags::UNIT_MB,
    );
    GucRegistry::define_int_guc(
        c"sinp_import.batch_rows",
        c"The most rows a load writes per statement (observations, their area and observer links).",
        c"Each batch is sized to take about 2 seconds, so that sinp_import.progress moves, and holds at most this many rows: PostgreSQL keeps one foreign-key check event per written row until the statement ends, and batches keep a load's memory flat.",
        &BATCH_ROWS,
        100,
        10_000_000,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"sinp_import.rebuild_indexes",
        c"Lets a load that at least doubles a table drop its plain indexes and build them once after writing.",
        c"Faster for initial loads (building an index once costs a fraction of maintaining it row by row), but the table's readers then wait for the load to commit. Only for tables the role owns; indexes behind a constraint are always maintained.",
        &REBUILD_INDEXES,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"sinp_import.max_compression_ratio",
        c"Largest uncompressed/compressed size ratio of a member larger than 1 MB (zip bombs).",
        c"Tab-separated text compresses about 10:1; a ratio of several hundreds is a zip bomb.",
        &MAX_COMPRESSION_RATIO,
        1,
        1_000_000,
        GucContext::Suset,
        GucFlags::default(),
    );
}

/// The archive limits now in force.
pub fn archive_limits() -> crate::archive::Limits {
    let mb = |v: i32| v.max(0) as u64 * 1024 * 1024;
    crate::archive::Limits {
        max_members: MAX_MEMBERS.get().max(0) as usize,
        max_member_bytes: mb(MAX_MEMBER_MB.get()),
        max_total_bytes: mb(MAX_TOTAL_MB.get()),
        max_ratio: MAX_COMPRESSION_RATIO.get().max(1) as u64,
    }
}

/// The longest record a file may have, in bytes.
pub fn max_record_bytes() -> u64 {
    MAX_RECORD_MB.get().max(1) as u64 * 1024 * 1024
}

pub fn local_srid() -> i32 {
    LOCAL_SRID.get()
}

pub fn inbox_dir() -> Option<String> {
    INBOX_DIR
        .get()
        .and_then(|c| c.into_string().ok())
        .filter(|s| !s.is_empty())
}

pub fn batch_rows() -> i64 {
    i64::from(BATCH_ROWS.get())
}

pub fn rebuild_indexes() -> bool {
    REBUILD_INDEXES.get()
}

fn string_setting(setting: &GucSetting<Option<CString>>) -> Option<String> {
    setting
        .get()
        .and_then(|v| v.into_string().ok())
        .filter(|v| !v.is_empty())
}

pub fn export_editor() -> Option<String> {
    string_setting(&EXPORT_EDITOR)
}

pub fn export_contact() -> Option<String> {
    string_setting(&EXPORT_CONTACT)
}

pub fn outbox_dir() -> Option<String> {
    string_setting(&OUTBOX_DIR)
}
