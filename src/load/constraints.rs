//! The target's foreign keys and CHECK constraints on columns the archive gives as they are
//! (`cd_nom` to `taxonomie.taxref`, `cd_hab` to `ref_habitats.habref`, `date_max >= date_min`, any
//! other a database adds), read from the catalog: a value one of them would refuse is a row
//! problem, found set-based on the staging table before anything is written, rather than an ERROR
//! of the write. What the loader derives or resolves itself (sources, datasets, users,
//! nomenclatures, areas, geometries) is not checked here.

use pgrx::prelude::*;

use super::catalog::{foreign_keys, Direction};
use super::spi_error;
use super::sql::{render, statement};
use crate::error::LoadResult;
use crate::spec::staging::{quote_ident, StagingLayout};
use crate::spec::{Entity, Role};

/// One foreign key or CHECK constraint of the target on values of the archive, as a check of the
/// staged rows.
pub struct ValueKeyCheck {
    /// "foreign key values" of sql/merge.sql, for the entity's staging table.
    pub sql: String,
    pub code: &'static str,
    /// The file's column (its first one, for a key of several).
    pub column: &'static str,
    pub message: String,
    /// The staging columns the check reads.
    pub staged: Vec<String>,
}

/// The code of a value no row of `referenced` has.
fn code_for(referenced: &str) -> &'static str {
    match referenced {
        "taxonomie.taxref" => "CD_NOM_NOT_FOUND",
        "ref_habitats.habref" => "CD_HAB_NOT_FOUND",
        _ => "FOREIGN_KEY_NOT_FOUND",
    }
}

pub fn value_key_checks(entity: &Entity, stage: &str) -> LoadResult<Vec<ValueKeyCheck>> {
    let layout = StagingLayout::for_entity(entity);
    let mut checks = Vec::new();
    for key in foreign_keys(&entity.qualified_table(), Direction::From)? {
        // Every column of the key must be a field stored as it is written.
        let fields: Option<Vec<usize>> =
            key.columns
                .iter()
                .map(|column| {
                    entity.fields.iter().position(
                        |f| matches!(f.role, Role::Column(c) if quote_ident(c) == *column),
                    )
                })
                .collect();
        let Some(fields) = fields else {
            continue;
        };
        let staged: Vec<String> = fields
            .iter()
            .filter_map(|&i| layout.slots[i].primary)
            .map(|slot| layout.columns[slot].name.clone())
            .collect();
        if staged.len() != fields.len() {
            continue;
        }
        let joined = |separator: &str, item: &dyn Fn(&str, &str) -> String| {
            staged
                .iter()
                .zip(&key.referenced_columns)
                .map(|(s, r)| item(&quote_ident(s), r))
                .collect::<Vec<_>>()
                .join(separator)
        };
        let sql = render(
            statement("foreign key values").expect("sql/merge.sql has foreign key values"),
            &[
                ("stage", stage),
                ("referenced", &key.other_table),
                ("values", &joined(", ", &|s, _| format!("s.{s}::text"))),
                (
                    "not_null",
                    &joined(" AND ", &|s, _| format!("s.{s} IS NOT NULL")),
                ),
                (
                    "matches",
                    &joined(" AND ", &|s, r| format!("r.{r} = s.{s}")),
                ),
            ],
        );
        let column = entity.fields[fields[0]].name;
        checks.push(ValueKeyCheck {
            sql,
            code: code_for(&key.other_table),
            column,
            message: format!(
                "no row of {} has this value (foreign key {})",
                key.other_table, key.constraint
            ),
            staged,
        });
    }
    Ok(checks)
}

/// The fields stored as they are, by target column (quoted): (field index, staging column).
fn stored_as_is(entity: &Entity, column: &str, layout: &StagingLayout) -> Option<(usize, String)> {
    let field = entity
        .fields
        .iter()
        .position(|f| matches!(f.role, Role::Column(c) if quote_ident(c) == column))?;
    let slot = layout.slots[field].primary?;
    Some((field, layout.columns[slot].name.clone()))
}

/// The target's CHECK constraints whose every column is a field of the archive stored as it is:
/// evaluated on the staged rows, each a check like those of the foreign keys above. A constraint
/// that reads a column the loader derives (a geometry, a resolved link or nomenclature) is left
/// to PostgreSQL: should it refuse a row, the load is a journaled rejection (CONSTRAINT_VIOLATION).
pub fn check_constraint_checks(entity: &Entity, stage: &str) -> LoadResult<Vec<ValueKeyCheck>> {
    let layout = StagingLayout::for_entity(entity);
    let table = entity.qualified_table();
    let constraints: Vec<(String, String, Vec<String>, Vec<String>)> = Spi::connect(|client| {
        client
            .select(
                statement("target checks").expect("sql/merge.sql has target checks"),
                None,
                &[table.as_str().into()],
            )
            .map_err(spi_error)?
            .map(|row| {
                Ok((
                    row.get::<String>(1).map_err(spi_error)?.unwrap_or_default(),
                    row.get::<String>(2).map_err(spi_error)?.unwrap_or_default(),
                    row.get::<Vec<String>>(3)
                        .map_err(spi_error)?
                        .unwrap_or_default(),
                    row.get::<Vec<String>>(4)
                        .map_err(spi_error)?
                        .unwrap_or_default(),
                ))
            })
            .collect::<LoadResult<Vec<_>>>()
    })?;
    let mut checks = Vec::new();
    for (constraint, expression, columns, types) in constraints {
        let Some(stored): Option<Vec<(usize, String)>> = columns
            .iter()
            .map(|c| stored_as_is(entity, c, &layout))
            .collect()
        else {
            continue;
        };
        if stored.is_empty() {
            continue;
        }
        let projection: Vec<String> = stored
            .iter()
            .zip(columns.iter().zip(&types))
            .map(|((_, staged), (column, ty))| {
                format!("s.{}::{ty} AS {column}", quote_ident(staged))
            })
            .collect();
        let values: Vec<String> = columns.iter().map(|c| format!("t.{c}::text")).collect();
        let sql = render(
            statement("target check values").expect("sql/merge.sql has target check values"),
            &[
                ("stage", stage),
                ("columns", &projection.join(", ")),
                ("values", &values.join(", ")),
                ("expression", &expression),
            ],
        );
        checks.push(ValueKeyCheck {
            sql,
            code: "CHECK_CONSTRAINT_FAILED",
            column: entity.fields[stored[0].0].name,
            message: format!(
                "the CHECK constraint {constraint} of {table} refuses this value: {expression}"
            ),
            staged: stored.into_iter().map(|(_, staged)| staged).collect(),
        });
    }
    Ok(checks)
}
