//! sinp-bench: builds SINP exchange archives (format 1.0) for sinp_import's tests and benchmarks.
//!
//! * [`write_synthetic_archive`]: a deterministic synthetic archive (all six entity files, every
//!   synthese column, every spelling FORMAT.md allows), streamed: memory does not grow with the
//!   number of rows. [`synthese_values`] and [`synthese_line`] tell, for any row, what a correct
//!   loader must store and where the row starts in `synthese.csv`; they come from the code path
//!   that writes the file ([`synth::gen_row`]).
//! * [`write_real_fixture_archive`]: a 1.0 archive built from the real CEN PACA rows of
//!   `tests/fixtures/cen-paca-2020`.
//! * [`write_diff_archive`]: the differential archive (U, D and I rows, FORMAT.md §7) of a
//!   synthetic base archive; [`write_diff_initial_archive`]: the same rows as an initial archive.
//!
//! The crate reads nothing at run time except the fixture directory it is given.

use std::collections::BTreeMap;
use std::io::{Cursor, Seek, Write};
use std::path::Path;

mod codes;
mod diff;
mod real;
mod synth;
mod util;

pub use diff::{
    diff_plan, diff_values, write_diff_archive, write_diff_initial_archive, DiffAction,
    DiffManifest, DiffOptions, DiffRow,
};
pub use real::{REAL_AF_UUID, REAL_DATASET_UUID};
pub use synth::{ALL_COLUMNS as SYNTHESE_COLUMNS_WITH_EXTRAS, SYNTHESE_NOMENCLATURES};
pub use util::decode_escapes;

/// The `source.csv` name (and synthese `code_source`) of the synthetic archives.
pub const SYNTHETIC_SOURCE_NAME: &str = "SINP_BENCH_SYNTHETIC";

/// The two synthese columns of the synthetic archive that are not in format 1.0; a loader merges
/// them into `additional_data` (a key of the same name in the JSON wins).
pub const EXTRA_COLUMNS: [&str; 2] = ["x_station_code", "x_weather"];

/// The format-1.0 synthese columns, in the order of the specification.
pub fn synthese_format_columns() -> &'static [&'static str] {
    &synth::ALL_COLUMNS[..synth::N_FORMAT]
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthOptions {
    /// synthese rows
    pub rows: usize,
    /// dataset.csv rows (at least 1 is written)
    pub datasets: usize,
    /// user.csv rows (0 allowed: then no observer links and no code_digitiser)
    pub users: usize,
    /// organism.csv rows (0 allowed)
    pub organisms: usize,
    /// acquisition_framework.csv rows (at least 1 is written; with 2 or more, parents are
    /// written after their children)
    pub afs: usize,
    pub seed: u64,
    /// `TYPE.CODE` of the areas used by area-only rows (none when empty)
    pub area_codes: Vec<String>,
    /// `YYYY-MM-DD HH:MM`, written to meta_archive.ini
    pub export_date: String,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions {
            rows: 1000,
            datasets: 3,
            users: 5,
            organisms: 2,
            afs: 3,
            seed: 42,
            area_codes: vec!["COM.05061".to_string(), "DEP.05".to_string()],
            export_date: "2020-08-26 10:15".to_string(),
        }
    }
}

/// What an archive contains.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// Rows per entity file, in the order source, organism, user, acquisition_framework,
    /// dataset, synthese (0 for a file the archive does not have).
    pub counts: Vec<(&'static str, usize)>,
    /// synthese rows with a NULL geom and a code_area_attachment
    pub area_only_rows: usize,
    /// geometries spelled EWKT (`SRID=…;…`)
    pub ewkt_rows: usize,
    /// geometries spelled as hex EWKB
    pub ewkb_rows: usize,
    /// geometries spelled as WKT without SRID (the local SRID applies)
    pub bare_wkt_rows: usize,
    /// (row, user uuid) pairs in observers that name a user of user.csv
    pub observer_links: usize,
}

impl Manifest {
    /// Row count of an entity (0 when absent).
    pub fn count(&self, entity: &str) -> usize {
        self.counts
            .iter()
            .find(|(e, _)| *e == entity)
            .map_or(0, |(_, n)| *n)
    }

    /// One-line JSON object: entity → row count, then the other counters.
    pub fn to_json(&self) -> String {
        let mut parts: Vec<String> = self
            .counts
            .iter()
            .map(|(e, n)| format!("{}:{n}", serde_json::Value::from(*e)))
            .collect();
        for (k, v) in [
            ("area_only_rows", self.area_only_rows),
            ("ewkt_rows", self.ewkt_rows),
            ("ewkb_rows", self.ewkb_rows),
            ("bare_wkt_rows", self.bare_wkt_rows),
            ("observer_links", self.observer_links),
        ] {
            parts.push(format!("\"{k}\":{v}"));
        }
        format!("{{{}}}", parts.join(","))
    }
}

/// Writes the synthetic archive described by `opts` to `out` (a ZIP; deflate).
pub fn write_synthetic_archive<W: Write + Seek>(
    opts: &SynthOptions,
    out: W,
) -> std::io::Result<Manifest> {
    synth::write_archive(opts, out)
}

/// The synthetic archive, in memory.
pub fn synthetic_archive_bytes(opts: &SynthOptions) -> Vec<u8> {
    let mut cur = Cursor::new(Vec::new());
    write_synthetic_archive(opts, &mut cur).expect("writing to memory cannot fail");
    cur.into_inner()
}

/// The decoded logical values of synthese row `i` (0-based data row), keyed by format-1.0
/// column name, `None` = NULL; what a correct loader must store (before code→id resolution).
/// Includes the extra columns ([`EXTRA_COLUMNS`]), not merged into `additional_data`.
pub fn synthese_values(opts: &SynthOptions, i: usize) -> BTreeMap<String, Option<String>> {
    let ctx = synth::Ctx::new(opts);
    let mut row = synth::RowBuf::new();
    synth::gen_row(&ctx, i, &mut row);
    synth::row_values(&row)
}

/// 1-based physical line in synthese.csv where data row `i` starts (header is line 1;
/// multi-line quoted fields make rows span lines).
pub fn synthese_line(opts: &SynthOptions, i: usize) -> u64 {
    let _ = opts; // the rows with literal line feeds depend on the row index only
    synth::line_of_row(i)
}

/// Writes a format-1.0 archive built from `<fixture_dir>/synthese.sample.csv` and
/// `source.sample.csv` (pre-1.0 header mapped to 1.0, values copied), plus one acquisition
/// framework and the dataset(s) named by `code_dataset` (shortname `DFCP`).
pub fn write_real_fixture_archive<W: Write + Seek>(
    fixture_dir: &Path,
    out: W,
) -> std::io::Result<Manifest> {
    real::write_archive(fixture_dir, out)
}

/// [`write_real_fixture_archive`], in memory.
pub fn real_fixture_archive_bytes(fixture_dir: &Path) -> std::io::Result<Vec<u8>> {
    let mut cur = Cursor::new(Vec::new());
    write_real_fixture_archive(fixture_dir, &mut cur)?;
    Ok(cur.into_inner())
}

#[cfg(test)]
mod tests;
