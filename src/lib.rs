//! sinp_import: load SINP biodiversity exchange archives into a GeoNature-compatible database.
//!
//! Pure-Rust modules (`archive`, `tsv`, `spec`, `validate`, `error`, `sync`) know nothing of PostgreSQL;
//! `load` and `api` are the parts that run inside the server.

use pgrx::prelude::*;

pub mod api;
pub mod archive;
pub mod error;
pub mod load;
pub mod settings;
pub mod spec;
pub mod sync;
pub mod tsv;
pub mod validate;

#[cfg(any(test, feature = "pg_test"))]
mod tests;

pgrx::pg_module_magic!();

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    settings::register();
}

#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
