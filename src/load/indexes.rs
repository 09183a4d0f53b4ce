//! sinp_import.rebuild_indexes: when a load at least doubles a table, its plain indexes are dropped
//! before the write and built once after it, in the load's transaction (a rollback brings them
//! back). Building an index sorts the rows once; maintaining it inserts every row into it: for
//! 1 000 000 observations, 51 s of index maintenance against 14 s of builds.

use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;

use super::spi_error;
use super::sql::{render, statement};
use crate::error::LoadResult;

/// An index dropped for the write, as it is built again.
pub(crate) struct SetAsideIndex {
    name: String,
    definition: String,
    tablespace: Option<String>,
    comment: Option<String>,
}

/// The indexes a load set aside, by table, in the order they are built again.
#[derive(Default)]
pub(crate) struct SetAsideIndexes {
    tables: Vec<(String, Vec<SetAsideIndex>)>,
    considered: Vec<String>,
}

fn one_i64(sql: &str, arguments: &[DatumWithOid]) -> LoadResult<i64> {
    Ok(Spi::get_one_with_args::<i64>(sql, arguments)
        .map_err(spi_error)?
        .unwrap_or(0))
}

/// Whether the write of `stage` into `table` (after "classify") inserts at least as many rows as the
/// table holds. Counts at most one more than that of the table's rows.
pub(crate) fn load_doubles(table: &str, stage: &str) -> LoadResult<bool> {
    let new_rows = one_i64(
        &render(
            statement("new rows").expect("merge.sql has new rows"),
            &[("stage", stage)],
        ),
        &[],
    )?;
    if new_rows == 0 {
        return Ok(false);
    }
    let held = one_i64(
        &render(
            statement("held rows").expect("merge.sql has held rows"),
            &[("table", table)],
        ),
        &[(new_rows + 1).into()],
    )?;
    Ok(held <= new_rows)
}

impl SetAsideIndexes {
    /// Drops the plain indexes of `table`, remembering how to build them again (once per table). A
    /// table the role does not own keeps its indexes (a NOTICE says so).
    pub(crate) fn set_aside(&mut self, table: &str) -> LoadResult<()> {
        if self.considered.iter().any(|t| t == table) {
            return Ok(());
        }
        self.considered.push(table.to_string());
        let owned = Spi::get_one::<bool>(&render(
            statement("table owned").expect("merge.sql has table owned"),
            &[("table", table)],
        ))
        .map_err(spi_error)?
        .unwrap_or(false);
        if !owned {
            super::progress::step(&format!(
                "{table} is not owned by this role: its indexes are maintained row by row"
            ));
            return Ok(());
        }
        let query = render(
            statement("deferrable indexes").expect("merge.sql has deferrable indexes"),
            &[("table", table)],
        );
        let indexes: Vec<SetAsideIndex> = Spi::connect(|client| {
            client
                .select(&query, None, &[])
                .map_err(spi_error)?
                .map(|row| {
                    Ok(SetAsideIndex {
                        name: row.get::<String>(1).map_err(spi_error)?.unwrap_or_default(),
                        definition: row.get::<String>(2).map_err(spi_error)?.unwrap_or_default(),
                        tablespace: row.get::<String>(3).map_err(spi_error)?,
                        comment: row.get::<String>(4).map_err(spi_error)?,
                    })
                })
                .collect::<LoadResult<Vec<_>>>()
        })?;
        if indexes.is_empty() {
            return Ok(());
        }
        super::progress::step(&format!(
            "{} index(es) of {table} set aside, built again after the write (sinp_import.rebuild_indexes)",
            indexes.len()
        ));
        for index in &indexes {
            Spi::run(&format!("DROP INDEX {}", index.name)).map_err(spi_error)?;
        }
        self.tables.push((table.to_string(), indexes));
        Ok(())
    }

    /// Builds every index set aside again: same name, definition, tablespace and comment.
    pub(crate) fn rebuild(&mut self) -> LoadResult<()> {
        let default_tablespace =
            Spi::get_one::<String>("SELECT current_setting('default_tablespace')")
                .map_err(spi_error)?
                .unwrap_or_default();
        for (table, indexes) in self.tables.drain(..) {
            super::progress::step(&format!("building {} index(es) of {table}", indexes.len()));
            for index in indexes {
                if let Some(tablespace) = &index.tablespace {
                    Spi::run_with_args(
                        "SELECT set_config('default_tablespace', $1, true)",
                        &[tablespace.as_str().into()],
                    )
                    .map_err(spi_error)?;
                }
                Spi::run(&index.definition).map_err(spi_error)?;
                if index.tablespace.is_some() {
                    Spi::run_with_args(
                        "SELECT set_config('default_tablespace', $1, true)",
                        &[default_tablespace.as_str().into()],
                    )
                    .map_err(spi_error)?;
                }
                if let Some(comment) = &index.comment {
                    // Quoted by PostgreSQL (%L), right whatever standard_conforming_strings says.
                    let statement = Spi::get_one_with_args::<String>(
                        "SELECT pg_catalog.format('COMMENT ON INDEX %s IS %L', $1::text, $2::text)",
                        &[index.name.as_str().into(), comment.as_str().into()],
                    )
                    .map_err(spi_error)?
                    .unwrap_or_default();
                    Spi::run(&statement).map_err(spi_error)?;
                }
            }
        }
        Ok(())
    }
}
