//! The batches the writes and the post-work run by: TID ranges of a staging table, id ranges of
//! the written rows. Each batch is sized to take about PACE (at most `sinp_import.batch_rows`
//! rows), so that the counts of sinp_import.progress move every few seconds also where GeoNature's
//! per-row checks make a row cost a millisecond, and its rows are reported done when it ends.

use std::time::{Duration, Instant};

use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;

use super::spi_error;
use crate::error::LoadResult;

/// How long a batch should take.
const PACE: Duration = Duration::from_secs(2);
/// The first batch, before the rate is known: small, so that the first count comes soon.
const FIRST_BATCH_ROWS: i64 = 2_000;
/// Batches never get smaller (a statement has a fixed cost: planning, a scan's start).
const MIN_BATCH_ROWS: i64 = 500;
/// Written ids are cut in units of this many rows; a batch is a whole number of units.
const ID_UNIT_ROWS: i64 = 500;

/// The size of the next batch, from the rate of the batches before.
struct Pacer {
    max_rows: i64,
    rows_per_second: Option<f64>,
}

impl Pacer {
    fn new() -> Pacer {
        Pacer {
            max_rows: crate::settings::batch_rows(),
            rows_per_second: None,
        }
    }

    fn next_rows(&self) -> i64 {
        let rows = match self.rows_per_second {
            None => FIRST_BATCH_ROWS,
            Some(rate) => (rate * PACE.as_secs_f64()) as i64,
        };
        rows.clamp(MIN_BATCH_ROWS.min(self.max_rows), self.max_rows)
    }

    fn record(&mut self, rows: i64, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        if rows > 0 && seconds > 0.0 {
            self.rows_per_second = Some(rows as f64 / seconds);
        }
    }
}

/// Runs `run` on each batch condition, timing it for the next one's size, and reports `done /
/// total unit` after each (the last batch reports the total).
fn run_paced(
    total: i64,
    unit: &str,
    mut next: impl FnMut(&Pacer) -> Option<(String, i64)>,
    mut run: impl FnMut(&str) -> LoadResult<()>,
) -> LoadResult<()> {
    let mut pacer = Pacer::new();
    let mut done = 0;
    super::progress::count(0, Some(total), unit, true);
    while let Some((condition, rows)) = next(&pacer) {
        let started = Instant::now();
        run(&condition)?;
        pacer.record(rows, started.elapsed());
        done = (done + rows).min(total);
        super::progress::count(done, Some(total), unit, true);
    }
    if done < total {
        // The row counts of TID ranges are estimates.
        super::progress::count(total, Some(total), unit, true);
    }
    Ok(())
}

/// Two bigint values of a one-row query.
fn bigint_pair(sql: &str, arguments: &[DatumWithOid]) -> LoadResult<(Option<i64>, Option<i64>)> {
    Spi::connect(|client| {
        let row = client
            .select(sql, None, arguments)
            .map_err(spi_error)?
            .first();
        Ok((
            row.get::<i64>(1).map_err(spi_error)?,
            row.get::<i64>(2).map_err(spi_error)?,
        ))
    })
}

/// Runs `run` with `w.id` conditions covering the ids this load wrote for the entity, batches of
/// written rows (not of ids: the rows a differential updates are spread over the whole table,
/// and a batch per id range would split a few thousand rows into many statements, each computing
/// again the areas of the geometries they share).
pub(super) fn for_written_batches(
    entity: &str,
    unit: &str,
    mut run: impl FnMut(&str) -> LoadResult<()>,
) -> LoadResult<()> {
    let firsts: Vec<i64> = Spi::connect(|client| {
        client
            .select(
                "SELECT x.id::bigint FROM (
                     SELECT w.id, row_number() OVER (ORDER BY w.id) AS n
                       FROM sinp_written AS w WHERE w.entity = $1) AS x
                  WHERE (x.n - 1) % $2 = 0
                  ORDER BY x.id",
                None,
                &[entity.into(), ID_UNIT_ROWS.into()],
            )
            .map_err(spi_error)?
            .map(|row| Ok(row.get::<i64>(1).map_err(spi_error)?.unwrap_or(0)))
            .collect::<LoadResult<Vec<_>>>()
    })?;
    let total = Spi::get_one_with_args::<i64>(
        "SELECT count(*) FROM sinp_written AS w WHERE w.entity = $1",
        &[entity.into()],
    )
    .map_err(spi_error)?
    .unwrap_or(0);
    if firsts.is_empty() {
        // Nothing written: the statement runs once all the same, as it always did.
        return run("true");
    }
    let mut ranges = IdRanges::new(firsts, ID_UNIT_ROWS);
    run_paced(total, unit, |pacer| ranges.next(pacer.next_rows()), run)
}

/// `w.id` ranges over the first id of each unit of written rows; the last range is open.
struct IdRanges {
    firsts: Vec<i64>,
    unit_rows: i64,
    at: usize,
}

impl IdRanges {
    fn new(firsts: Vec<i64>, unit_rows: i64) -> IdRanges {
        IdRanges {
            firsts,
            unit_rows,
            at: 0,
        }
    }

    /// The next range of about `rows` rows (whole units), with its row count (that of the units).
    fn next(&mut self, rows: i64) -> Option<(String, i64)> {
        let from = *self.firsts.get(self.at)?;
        let units = ((rows + self.unit_rows - 1) / self.unit_rows).max(1) as usize;
        self.at += units;
        let condition = match self.firsts.get(self.at) {
            Some(next) => format!("w.id >= {from} AND w.id < {next}"),
            None => format!("w.id >= {from}"),
        };
        Some((condition, units as i64 * self.unit_rows))
    }
}

/// Runs `run` with `s.ctid` conditions covering the staging table's pages, batches read by a TID
/// range scan (the queue of foreign-key checks a statement keeps until its end stays small).
pub(super) fn for_stage_batches(
    stage: &str,
    unit: &str,
    run: impl FnMut(&str) -> LoadResult<()>,
) -> LoadResult<()> {
    // The exact count, shown as the total (reltuples is an estimate beyond ANALYZE's sample, and
    // lenient loads delete rows from the staging table after it).
    let (pages, rows) = bigint_pair(
        &format!(
            "SELECT (pg_relation_size($1::regclass) / current_setting('block_size')::bigint)::bigint,
                    (SELECT count(*) FROM {stage})"
        ),
        &[stage.into()],
    )?;
    let (pages, rows) = (pages.unwrap_or(0), rows.unwrap_or(0));
    let mut ranges = TidRanges::new(pages, rows);
    run_paced(rows, unit, |pacer| ranges.next(pacer.next_rows()), run)
}

/// Contiguous `s.ctid` ranges over `pages` pages holding about `rows` rows; the last range is
/// open, so that it also covers pages added since the size was read.
struct TidRanges {
    pages: i64,
    rows_per_page: f64,
    from: i64,
    ended: bool,
}

impl TidRanges {
    fn new(pages: i64, rows: i64) -> TidRanges {
        TidRanges {
            pages,
            rows_per_page: (rows.max(1) as f64 / pages.max(1) as f64).max(1.0),
            from: 0,
            ended: false,
        }
    }

    /// The next range of about `rows` rows, with its estimated row count.
    fn next(&mut self, rows: i64) -> Option<(String, i64)> {
        if self.ended {
            return None;
        }
        let step = ((rows as f64 / self.rows_per_page).ceil() as i64).max(1);
        let from = self.from;
        if from + step < self.pages {
            self.from += step;
            Some((
                format!(
                    "s.ctid >= '({from},0)'::tid AND s.ctid < '({},0)'::tid",
                    from + step
                ),
                (step as f64 * self.rows_per_page) as i64,
            ))
        } else {
            self.ended = true;
            Some((
                format!("s.ctid >= '({from},0)'::tid"),
                ((self.pages - from).max(0) as f64 * self.rows_per_page) as i64,
            ))
        }
    }
}

#[cfg(test)]
mod batch_tests {
    use super::{IdRanges, Pacer, TidRanges};
    use std::time::Duration;

    fn all(next: impl FnMut() -> Option<(String, i64)>) -> Vec<(String, i64)> {
        std::iter::from_fn(next).collect()
    }

    #[test]
    fn id_ranges_cover_every_id_once_by_whole_units() {
        let mut ranges = IdRanges::new(vec![1, 501, 1001, 1501], 500);
        assert_eq!(
            all(|| ranges.next(900)),
            [
                ("w.id >= 1 AND w.id < 1001".to_string(), 1000),
                ("w.id >= 1001".to_string(), 1000)
            ]
        );
        // Ids spread over a large table: ranges of rows, not of ids; never less than a unit.
        let mut ranges = IdRanges::new(vec![7, 990_000], 500);
        assert_eq!(
            all(|| ranges.next(1)),
            [
                ("w.id >= 7 AND w.id < 990000".to_string(), 500),
                ("w.id >= 990000".to_string(), 500)
            ]
        );
        assert_eq!(IdRanges::new(vec![], 500).next(1000), None);
    }

    #[test]
    fn tid_ranges_are_contiguous_and_end_open() {
        // 1 000 000 rows on 125 000 pages: 8 rows a page, 6 250 pages per 50 000 rows.
        let mut ranges = TidRanges::new(125_000, 1_000_000);
        let got = all(|| ranges.next(50_000));
        assert_eq!(got.len(), 20);
        assert_eq!(
            got[0],
            (
                "s.ctid >= '(0,0)'::tid AND s.ctid < '(6250,0)'::tid".to_string(),
                50_000
            )
        );
        assert_eq!(
            got[1].0,
            "s.ctid >= '(6250,0)'::tid AND s.ctid < '(12500,0)'::tid"
        );
        assert_eq!(got[19], ("s.ctid >= '(118750,0)'::tid".to_string(), 50_000));
        // A small or empty table is one open range.
        let mut small = TidRanges::new(3, 100);
        assert_eq!(all(|| small.next(50_000)).len(), 1);
        let mut empty = TidRanges::new(0, 0);
        assert_eq!(
            all(|| empty.next(50_000)),
            [("s.ctid >= '(0,0)'::tid".to_string(), 0)]
        );
    }

    #[test]
    fn batches_follow_the_measured_rate_within_bounds() {
        let mut pacer = Pacer {
            max_rows: 50_000,
            rows_per_second: None,
        };
        assert_eq!(pacer.next_rows(), 2_000);
        // 1 000 rows a second (GeoNature's per-row checks): 2 000 rows, two seconds.
        pacer.record(2_000, Duration::from_secs(2));
        assert_eq!(pacer.next_rows(), 2_000);
        // Fast rows: capped by sinp_import.batch_rows; slow rows: never below the minimum.
        pacer.record(2_000, Duration::from_millis(10));
        assert_eq!(pacer.next_rows(), 50_000);
        pacer.record(10, Duration::from_secs(5));
        assert_eq!(pacer.next_rows(), 500);
        // A batch_rows below the minimum wins.
        pacer.max_rows = 100;
        assert_eq!(pacer.next_rows(), 100);
    }
}
