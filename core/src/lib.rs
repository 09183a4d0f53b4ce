//! The pure-Rust core of sinp_import, apart from the pgrx shell so that it builds, is tested and is
//! fuzzed without PostgreSQL: reading archives (`archive`: ZIP, tar, limits, `meta_archive.ini`),
//! the TSV dialect (`tsv`), the per-entity field tables (`spec`), value parsing and validation
//! (`validate`), the problems and errors (`error`).

pub mod archive;
pub mod error;
pub mod spec;
pub mod sync;
pub mod tsv;
pub mod validate;
