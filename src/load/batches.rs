//! The batches the writes and the post-work run by: TID ranges of a staging table, id ranges of
//! the written rows.

use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;

use super::spi_error;
use crate::error::LoadResult;

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

/// `w.id` ranges covering the ids this load wrote for the entity, `sinp_import.batch_rows` written
/// rows each (not as many ids: the rows a differential updates are spread over the whole table,
/// and a batch per id range would split a few thousand rows into many statements, each computing
/// again the areas of the geometries they share).
pub(super) fn written_batches(entity: &str) -> LoadResult<Vec<String>> {
    let firsts: Vec<i64> = Spi::connect(|client| {
        client
            .select(
                "SELECT x.id::bigint FROM (
                     SELECT w.id, row_number() OVER (ORDER BY w.id) AS n
                       FROM sinp_written AS w WHERE w.entity = $1) AS x
                  WHERE (x.n - 1) % $2 = 0
                  ORDER BY x.id",
                None,
                &[entity.into(), crate::settings::batch_rows().into()],
            )
            .map_err(spi_error)?
            .map(|row| Ok(row.get::<i64>(1).map_err(spi_error)?.unwrap_or(0)))
            .collect::<LoadResult<Vec<_>>>()
    })?;
    Ok(id_ranges(&firsts))
}

/// `w.id` ranges from the first id of each batch; the last range is open.
fn id_ranges(firsts: &[i64]) -> Vec<String> {
    if firsts.is_empty() {
        return vec!["true".to_string()];
    }
    firsts
        .iter()
        .enumerate()
        .map(|(i, from)| match firsts.get(i + 1) {
            Some(next) => format!("w.id >= {from} AND w.id < {next}"),
            None => format!("w.id >= {from}"),
        })
        .collect()
}

/// `s.ctid` ranges covering the staging table's pages by batches of about `sinp_import.batch_rows`
/// rows (the queue of foreign-key checks a statement keeps until its end stays small), each read
/// by a TID range scan.
pub(super) fn stage_batches(stage: &str) -> LoadResult<Vec<String>> {
    let (pages, rows) = bigint_pair(
        "SELECT (pg_relation_size($1::regclass) / current_setting('block_size')::bigint)::bigint,
                greatest(reltuples, 0)::bigint
           FROM pg_class WHERE oid = $1::regclass",
        &[stage.into()],
    )?;
    Ok(tid_ranges(
        pages.unwrap_or(0),
        rows.unwrap_or(0),
        crate::settings::batch_rows(),
    ))
}

/// Contiguous `s.ctid` ranges over `pages` pages holding `rows` rows, about `rows_per_batch` rows
/// each; the last range is open, so that it also covers pages added since the size was read.
fn tid_ranges(pages: i64, rows: i64, rows_per_batch: i64) -> Vec<String> {
    let step = (rows_per_batch * pages / rows.max(1)).max(1);
    let mut batches = Vec::new();
    let mut from = 0;
    while from + step < pages {
        batches.push(format!(
            "s.ctid >= '({from},0)'::tid AND s.ctid < '({},0)'::tid",
            from + step
        ));
        from += step;
    }
    batches.push(format!("s.ctid >= '({from},0)'::tid"));
    batches
}

#[cfg(test)]
mod batch_tests {
    use super::{id_ranges, tid_ranges};

    #[test]
    fn id_ranges_cover_every_id_once() {
        assert_eq!(
            id_ranges(&[1, 50_001, 100_001]),
            [
                "w.id >= 1 AND w.id < 50001",
                "w.id >= 50001 AND w.id < 100001",
                "w.id >= 100001"
            ]
        );
        // Ids spread over a large table: as many ranges as batches of rows, not of ids.
        assert_eq!(
            id_ranges(&[7, 990_000]),
            ["w.id >= 7 AND w.id < 990000", "w.id >= 990000"]
        );
        assert_eq!(id_ranges(&[]), ["true"]);
    }

    #[test]
    fn tid_ranges_are_contiguous_and_end_open() {
        // 1 000 000 rows on 125 000 pages: 6 250 pages per 50 000 rows, 20 ranges.
        let ranges = tid_ranges(125_000, 1_000_000, 50_000);
        assert_eq!(ranges.len(), 20);
        assert_eq!(
            ranges[0],
            "s.ctid >= '(0,0)'::tid AND s.ctid < '(6250,0)'::tid"
        );
        assert_eq!(
            ranges[1],
            "s.ctid >= '(6250,0)'::tid AND s.ctid < '(12500,0)'::tid"
        );
        assert_eq!(ranges[19], "s.ctid >= '(118750,0)'::tid");
        // A small or empty table is one open range.
        assert_eq!(tid_ranges(3, 100, 50_000), ["s.ctid >= '(0,0)'::tid"]);
        assert_eq!(tid_ranges(0, 0, 50_000), ["s.ctid >= '(0,0)'::tid"]);
    }
}
