//! Foreign keys read from the catalog ("foreign keys" of sql/merge.sql), for the checks that must
//! know every one of them: the link rows' keys, and the deletes other rows would refuse.

use pgrx::prelude::*;

use super::spi_error;
use super::sql::statement;
use crate::error::LoadResult;

/// Which foreign keys of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Those on the table: the rows it references.
    From,
    /// Those of other tables that reference it.
    To,
}

/// One foreign key.
pub struct ForeignKey {
    pub constraint: String,
    /// The table at the other end: the referenced one (`From`), or the referencing one (`To`).
    pub other_table: String,
    /// The referencing columns and the referenced ones, quoted, in key order.
    pub columns: Vec<String>,
    pub referenced_columns: Vec<String>,
    /// What deleting a referenced row does: `a` NO ACTION, `r` RESTRICT, `c` CASCADE, `n` SET
    /// NULL, `d` SET DEFAULT.
    pub on_delete: char,
}

pub fn foreign_keys(table: &str, direction: Direction) -> LoadResult<Vec<ForeignKey>> {
    let sql = statement("foreign keys").expect("sql/merge.sql has foreign keys");
    let direction = match direction {
        Direction::From => "from",
        Direction::To => "to",
    };
    Spi::connect(|client| {
        client
            .select(sql, None, &[table.into(), direction.into()])
            .map_err(spi_error)?
            .map(|row| {
                let text = |i: usize| -> LoadResult<String> {
                    Ok(row.get::<String>(i).map_err(spi_error)?.unwrap_or_default())
                };
                let list = |i: usize| -> LoadResult<Vec<String>> {
                    Ok(row
                        .get::<Vec<String>>(i)
                        .map_err(spi_error)?
                        .unwrap_or_default())
                };
                Ok(ForeignKey {
                    constraint: text(1)?,
                    other_table: text(2)?,
                    columns: list(3)?,
                    referenced_columns: list(4)?,
                    on_delete: text(5)?.chars().next().unwrap_or('a'),
                })
            })
            .collect()
    })
}
