//! Differential archives: the nightly update of a synthetic base archive (FORMAT.md §7).
//!
//! For a base [`SynthOptions`] (the archive [`crate::write_synthetic_archive`] writes and a target
//! already holds), [`write_diff_archive`] writes `meta_archive.ini` and a `synthese.csv` of
//!
//! * `updates` **U** rows: base rows re-sent with the same key (their `unique_id_sinp`, or for a
//!   row without one the same `code_source` + `source_id`, whose UUIDv5 the loader computes), a
//!   newer `meta_update_date` and changed values: counts always, `nom_cite` on half of them,
//!   `date_min` / `date_max` one day earlier on 30 %, and on exactly one U row in five a moved
//!   geometry (a new point; an area-only row gets another commune). The other columns, geometry
//!   included, are the base row's, byte for byte;
//! * `deletes` **D** rows: the key only (`unique_id_sinp`, `code_source`, `source_id`), every
//!   other column `\N`;
//! * `inserts` **I** rows: new observations, the generator's rows `base.rows ..`.
//!
//! The U and D rows are spread over the whole base: slot `k` of the `updates + deletes` slots
//! takes one row of the `k`-th equal block of the base rows; D slots are evenly interleaved with
//! U slots, and the I rows with both. Rows with a `unique_id_sinp` are preferred; one U slot in
//! twenty prefers a row without one (the UUIDv5 key), when its block has one.
//!
//! The links (`code_source`, `code_dataset`, `code_digitiser`, observers) name rows of the base
//! archive: they resolve against the database, so no other member is needed.
//!
//! [`write_diff_initial_archive`] writes the same rows (the U rows' new versions, the D rows' base
//! rows in full, the I rows) as an initial archive: every metadata member of the base, and every
//! row as an `I`: what the same work costs on an empty target.
//!
//! Everything is a pure function of the options: the same options give the same bytes.

use std::fmt::Write as _;
use std::io::{self, Seek, Write};

use crate::synth::{self, c, Ctx, RowBuf};
use crate::util::{
    civil_from_days, days_from_civil, tsv_writer, zip_options, zip_stamp, Rng, Stamp,
};
use crate::SynthOptions;

/// The shape of a differential archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffOptions {
    /// U rows (base rows with a newer version)
    pub updates: usize,
    /// D rows (base rows deleted)
    pub deletes: usize,
    /// I rows (new observations)
    pub inserts: usize,
    /// `YYYY-MM-DD HH:MM`, written to meta_archive.ini; after the base archive's export date
    pub export_date: String,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            updates: 10_000,
            deletes: 1_000,
            inserts: 1_000,
            export_date: "2020-09-15 02:00".to_string(),
        }
    }
}

impl DiffOptions {
    /// Rows of the differential archive's synthese.csv.
    pub fn rows(&self) -> usize {
        self.updates + self.deletes + self.inserts
    }
}

/// What a row of the differential archive does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffAction {
    Update,
    Delete,
    Insert,
}

impl DiffAction {
    /// `meta_last_action` of the row in the differential archive.
    pub fn code(self) -> &'static str {
        match self {
            DiffAction::Update => "U",
            DiffAction::Delete => "D",
            DiffAction::Insert => "I",
        }
    }
}

/// One row of the differential archive, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiffRow {
    pub action: DiffAction,
    /// The generator's row index: a base row for U and D, `base.rows + j` for the j-th I row.
    pub row: usize,
    /// A U row whose geometry (or attached area) moves.
    pub moved: bool,
}

/// What a differential archive contains.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffManifest {
    pub updates: usize,
    pub deletes: usize,
    pub inserts: usize,
    /// U rows keyed by code_source + source_id (no unique_id_sinp)
    pub updates_without_uuid: usize,
    /// U rows with a moved geometry or another attached area
    pub moved: usize,
    /// U rows whose dates moved one day earlier
    pub dates_changed: usize,
    /// U rows whose nom_cite changed
    pub nom_cite_changed: usize,
    /// base rows whose newer version or deletion the archive carries: lowest and highest index
    pub first_base_row: usize,
    pub last_base_row: usize,
}

impl DiffManifest {
    /// One-line JSON object.
    pub fn to_json(&self) -> String {
        let fields = [
            ("updates", self.updates),
            ("deletes", self.deletes),
            ("inserts", self.inserts),
            ("updates_without_uuid", self.updates_without_uuid),
            ("moved", self.moved),
            ("dates_changed", self.dates_changed),
            ("nom_cite_changed", self.nom_cite_changed),
            ("first_base_row", self.first_base_row),
            ("last_base_row", self.last_base_row),
        ];
        let parts: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", parts.join(","))
    }
}

/// Random stream of the differential changes (independent of the base rows' own).
const DIFF_STREAM: u64 = 0x4449_4646;
/// Among U slots, those with `u % PREFER_NO_UUID_EVERY == PREFER_NO_UUID_AT` prefer a base row
/// without unique_id_sinp.
const PREFER_NO_UUID_EVERY: usize = 20;
const PREFER_NO_UUID_AT: usize = 3;
/// One U row in this many moves its geometry (20 %).
const MOVED_EVERY: usize = 5;
/// The day of the U rows' new versions and of the deletions: after every base timestamp
/// (the base's last is 2020-08-24 23:59:59).
const VERSION_DAY: i64 = days_from_civil(2020, 9, 14);

fn has_uuid(ctx: &Ctx<'_>, i: usize, row: &mut RowBuf) -> bool {
    synth::gen_row(ctx, i, row);
    row.f[c::UNIQUE_ID_SINP] != "\\N"
}

/// The rows of the differential archive of `base`, in file order. An error when the base has
/// fewer rows than the U and D rows need (each is a distinct base row).
pub fn diff_plan(base: &SynthOptions, diff: &DiffOptions) -> Result<Vec<DiffRow>, String> {
    let n = base.rows;
    let slots = diff.updates + diff.deletes;
    if slots > n {
        return Err(format!(
            "a differential archive of {} U and {} D rows needs a base of at least {slots} rows (base: {n})",
            diff.updates, diff.deletes
        ));
    }
    let ctx = Ctx::new(base);
    let mut row = RowBuf::new();
    let mut plan = Vec::with_capacity(diff.rows());
    let mut inserts = 0;
    let mut updates = 0;
    let push_inserts = |plan: &mut Vec<DiffRow>, inserts: &mut usize, upto: usize| {
        while *inserts < upto {
            plan.push(DiffRow {
                action: DiffAction::Insert,
                row: n + *inserts,
                moved: false,
            });
            *inserts += 1;
        }
    };
    for k in 0..slots {
        // I rows evenly interleaved: ceil(k * inserts / slots) of them before slot k.
        push_inserts(&mut plan, &mut inserts, (k * diff.inserts).div_ceil(slots));
        let (lo, hi) = (k * n / slots, (k + 1) * n / slots);
        let is_delete = (k + 1) * diff.deletes / slots > k * diff.deletes / slots;
        let want_uuid = is_delete || updates % PREFER_NO_UUID_EVERY != PREFER_NO_UUID_AT;
        let len = hi - lo;
        let start = Rng::for_item(base.seed, DIFF_STREAM ^ 0x5EED, k as u64).below(len as u64);
        let chosen = (0..len)
            .map(|d| lo + (start as usize + d) % len)
            .find(|&i| has_uuid(&ctx, i, &mut row) == want_uuid)
            .unwrap_or(lo + start as usize);
        if is_delete {
            plan.push(DiffRow {
                action: DiffAction::Delete,
                row: chosen,
                moved: false,
            });
        } else {
            plan.push(DiffRow {
                action: DiffAction::Update,
                row: chosen,
                moved: updates % MOVED_EVERY == 0,
            });
            updates += 1;
        }
    }
    push_inserts(&mut plan, &mut inserts, diff.inserts);
    Ok(plan)
}

/// Adds `delta` days to the date that starts a DATE / DATETIME text (`YYYY-MM-DD…`); the rest of
/// the text (time, separator) is kept.
fn shift_days(text: &str, delta: i64) -> Option<String> {
    let num = |a: usize, b: usize| text.get(a..b)?.parse::<i64>().ok();
    let (y, m, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (y, m, d) = civil_from_days(days_from_civil(y, m, d) + delta);
    Some(format!("{y:04}-{m:02}-{d:02}{}", &text[10..]))
}

/// What [`diff_row`] changed in a U row.
#[derive(Debug, Clone, Copy, Default)]
struct Changes {
    dates: bool,
    nom_cite: bool,
}

/// Row `r` of the plan, as the differential archive writes it (`initial`: as the initial archive
/// writes it, every row an I, a D row as its base row).
fn diff_row(ctx: &Ctx<'_>, r: DiffRow, initial: bool, row: &mut RowBuf) -> Changes {
    synth::gen_row(ctx, r.row, row);
    let mut changes = Changes::default();
    let mut rng = Rng::for_item(ctx.opts.seed, DIFF_STREAM, r.row as u64);
    let version = VERSION_DAY * 86_400 + rng.range(0, 86_399);
    match r.action {
        DiffAction::Insert => {}
        DiffAction::Delete if initial => {}
        DiffAction::Delete => {
            let keep = [c::UNIQUE_ID_SINP, c::SOURCE_ID, c::CODE_SOURCE];
            for k in 0..row.f.len() {
                if !keep.contains(&k) {
                    row.null(k);
                }
            }
            row.stamp(c::META_UPDATE_DATE, version, Stamp::Seconds);
        }
        DiffAction::Update => {
            // counts: always changed, count_min <= count_max kept
            let count = |f: &String| f.parse::<i64>().ok();
            let (min, max) = match (count(&row.f[c::COUNT_MIN]), count(&row.f[c::COUNT_MAX])) {
                (Some(min), Some(max)) => {
                    let new_min = min + 1 + rng.range(0, 2);
                    (new_min, max.max(new_min) + rng.range(0, 1))
                }
                _ => {
                    let min = rng.range(1, 5);
                    (min, min + rng.range(0, 3))
                }
            };
            row.put(c::COUNT_MIN, format_args!("{min}"));
            row.put(c::COUNT_MAX, format_args!("{max}"));
            if rng.chance(50) {
                changes.nom_cite = true;
                let cited = std::mem::take(&mut row.f[c::NOM_CITE]);
                if cited.is_empty() {
                    row.set(c::NOM_CITE, "Indéterminé (révisé)");
                } else {
                    row.put(c::NOM_CITE, format_args!("{cited} (révisé)"));
                }
            }
            if rng.chance(30) {
                changes.dates = true;
                for k in [c::DATE_MIN, c::DATE_MAX] {
                    let shifted = shift_days(&row.f[k], -1).expect("generated dates are parsable");
                    row.set(k, &shifted);
                }
            }
            if r.moved {
                let codes = &ctx.opts.area_codes;
                if row.f[c::GEOM] == "\\N" && codes.len() > 1 {
                    // area-only: another commune
                    let at = codes
                        .iter()
                        .position(|a| *a == row.f[c::CODE_AREA_ATTACHMENT])
                        .unwrap_or(0);
                    let other = (at + 1 + rng.below(codes.len() as u64 - 1) as usize) % codes.len();
                    row.set(c::CODE_AREA_ATTACHMENT, &codes[other]);
                } else {
                    // a new point in the generator's extent
                    let x = rng.range(940_000_000, 989_500_000);
                    let y = rng.range(6_380_000_000, 6_429_500_000);
                    let g = &mut row.f[c::GEOM];
                    g.clear();
                    let _ = write!(
                        g,
                        "SRID=2154;POINT({}.{:03} {}.{:03})",
                        x / 1000,
                        x % 1000,
                        y / 1000,
                        y % 1000
                    );
                }
            }
            let micros = rng.below(1_000_000) as u32;
            row.stamp(c::META_UPDATE_DATE, version, Stamp::Micros(micros));
        }
    }
    if !initial {
        row.set(c::META_LAST_ACTION, r.action.code());
    }
    changes
}

fn meta_ini(base: &SynthOptions, diff: &DiffOptions, initial: bool) -> String {
    let notes = if initial {
        format!(
            "Chargement initial des {} observations d'une archive différentielle\n    (graine {}, base de {} observations).",
            diff.rows(),
            base.seed,
            base.rows
        )
    } else {
        format!(
            "Mise à jour différentielle de l'archive synthétique (graine {}, {} observations) :\n    {} U, {} D, {} I.",
            base.seed, base.rows, diff.updates, diff.deletes, diff.inserts
        )
    };
    format!(
        "# Archive SINP {} générée par sinp-bench — format 1.0\n\
         format_version = 1.0\n\
         export_date = {}\n\
         taxref_version = 16\n\
         habref_version = 7\n\
         editor = sinp-bench\n\
         contact = BENCH Sinp <sinp-bench@example.org>\n\
         notes = \"{notes}\"\n",
        if initial {
            "initiale"
        } else {
            "différentielle"
        },
        diff.export_date
    )
}

fn write<W: Write + Seek>(
    base: &SynthOptions,
    diff: &DiffOptions,
    out: W,
    initial: bool,
) -> io::Result<DiffManifest> {
    let plan = diff_plan(base, diff).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let ctx = Ctx::new(base);
    let stamp = zip_stamp(&diff.export_date);
    let options = zip_options(6, false, stamp);
    let mut zip = zip::ZipWriter::new(out);
    zip.start_file("meta_archive.ini", options)?;
    zip.write_all(meta_ini(base, diff, initial).as_bytes())?;
    if initial {
        synth::write_metadata_members(&ctx, &mut zip, options)?;
    }
    zip.start_file("synthese.csv", options)?;
    let mut m = DiffManifest {
        first_base_row: usize::MAX,
        ..DiffManifest::default()
    };
    let mut w = tsv_writer(&mut zip);
    w.write_record(ctx.order.iter().map(|&k| synth::ALL_COLUMNS[k]))?;
    let mut row = RowBuf::new();
    for r in &plan {
        let changes = diff_row(&ctx, *r, initial, &mut row);
        w.write_record(ctx.order.iter().map(|&k| row.f[k].as_bytes()))?;
        match r.action {
            DiffAction::Update => {
                m.updates += 1;
                m.moved += r.moved as usize;
                m.dates_changed += changes.dates as usize;
                m.nom_cite_changed += changes.nom_cite as usize;
                m.updates_without_uuid += (row.f[c::UNIQUE_ID_SINP] == "\\N") as usize;
            }
            DiffAction::Delete => m.deletes += 1,
            DiffAction::Insert => m.inserts += 1,
        }
        if r.action != DiffAction::Insert {
            m.first_base_row = m.first_base_row.min(r.row);
            m.last_base_row = m.last_base_row.max(r.row);
        }
    }
    w.flush()?;
    drop(w);
    if m.first_base_row == usize::MAX {
        m.first_base_row = 0;
    }
    zip.finish()?;
    Ok(m)
}

/// Writes the differential archive of `base` (meta_archive.ini and synthese.csv; a ZIP).
pub fn write_diff_archive<W: Write + Seek>(
    base: &SynthOptions,
    diff: &DiffOptions,
    out: W,
) -> io::Result<DiffManifest> {
    write(base, diff, out, false)
}

/// Writes the rows of the differential archive of `base` as an initial archive: every metadata
/// member of the base archive, and the U rows' new versions, the D rows' base rows and the I rows,
/// every one an `I`.
pub fn write_diff_initial_archive<W: Write + Seek>(
    base: &SynthOptions,
    diff: &DiffOptions,
    out: W,
) -> io::Result<DiffManifest> {
    write(base, diff, out, true)
}

/// The decoded values of a synthese row, keyed by column (`None` = NULL).
pub type RowValues = std::collections::BTreeMap<String, Option<String>>;

/// The decoded values of every row of the differential archive (`initial`: of its initial
/// variant), in file order, as [`crate::synthese_values`] gives them for the base.
pub fn diff_values(
    base: &SynthOptions,
    diff: &DiffOptions,
    initial: bool,
) -> Result<Vec<(DiffRow, RowValues)>, String> {
    let ctx = Ctx::new(base);
    let mut row = RowBuf::new();
    Ok(diff_plan(base, diff)?
        .into_iter()
        .map(|r| {
            diff_row(&ctx, r, initial, &mut row);
            (r, synth::row_values(&row))
        })
        .collect())
}

#[cfg(test)]
mod unit {
    use super::shift_days;

    #[test]
    fn days_shift_across_months_and_keep_the_time() {
        assert_eq!(shift_days("2020-03-01", -1).unwrap(), "2020-02-29");
        assert_eq!(
            shift_days("2019-01-01T05:00:07", -1).unwrap(),
            "2018-12-31T05:00:07"
        );
        assert_eq!(
            shift_days("2019-03-07 12:09:14.451907", 1).unwrap(),
            "2019-03-08 12:09:14.451907"
        );
        assert!(shift_days("\\N", 1).is_none());
    }
}
