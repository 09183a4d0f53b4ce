//! The extension's settings (GUCs).

use std::ffi::CString;

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};

/// SRID of `the_geom_local` and `l_areas.geom` when create_target_schema() creates them.
pub static LOCAL_SRID: GucSetting<i32> = GucSetting::<i32>::new(2154);

/// Directory whose archives any role allowed to call load_archive may read.
pub static INBOX_DIR: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

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
