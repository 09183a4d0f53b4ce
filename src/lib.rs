//! sinp_import: load SINP biodiversity exchange archives into a GeoNature-compatible database.
//!
//! The pure-Rust core (`archive`, `tsv`, `spec`, `validate`, `error`, `sync`) is the crate
//! sinp-core (core/), which knows nothing of PostgreSQL; `load` and `api` are the parts that run
//! inside the server.

use pgrx::prelude::*;

pub use sinp_core::{archive, error, spec, sync, tsv, validate};

pub mod api;
pub mod export;
pub mod load;
pub mod settings;

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
