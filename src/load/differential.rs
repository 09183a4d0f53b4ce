//! FORMAT.md §7's rules that compare an archive with the database: each staged row is classified
//! (its key present in the target or not), the provider is told where its differential is out of
//! step with this database, and D rows of rows that other rows still reference are refused before
//! the delete, so that PostgreSQL never has to.

use pgrx::prelude::*;

use super::catalog::{foreign_keys, Direction};
use super::entity::{set_aside_invalid, stage_table, StagedEntity};
use super::sql::{render, statement, statements_for};
use super::{spi_error, LoadContext};
use crate::error::{LoadError, LoadResult, Problem};
use crate::spec::staging::quote_ident;
use crate::spec::{Entity, ENTITIES};

/// Lines listed per out-of-step code and file; the others are counted in one more warning.
pub const OUT_OF_STEP_LINES: i64 = 1000;

/// sinp_import.restricted_condition('t'), or NULL where the extension's objects predate it (a
/// library newer than them, before ALTER EXTENSION ... UPDATE, still loads).
pub(super) fn stored_restricted_condition() -> LoadResult<String> {
    let defined = Spi::get_one::<bool>(
        "SELECT pg_catalog.to_regprocedure('sinp_import.restricted_condition(text)') IS NOT NULL",
    )
    .map_err(spi_error)?
    .unwrap_or(false);
    if !defined {
        return Ok("NULL::boolean".to_string());
    }
    Ok(
        Spi::get_one::<String>("SELECT sinp_import.restricted_condition('t')")
            .map_err(spi_error)?
            .unwrap_or_else(|| "true".to_string()),
    )
}

/// Runs the entity's `prepare` statements, then marks the staged rows whose key the target has.
pub fn classify(entity: &Entity) -> LoadResult<()> {
    let stage = stage_table(entity);
    // Whether an observation is restricted as stored, before the load writes it: the change log
    // knows from it which ones the load made restricted (withdrawn from differential exports).
    let restricted = stored_restricted_condition()?;
    let vars = [
        ("stage", stage.as_str()),
        ("table", &entity.qualified_table()),
        ("key", &quote_ident(entity.key_column())),
        ("restricted", restricted.as_str()),
    ];
    for (_, body) in statements_for("prepare", entity.name) {
        Spi::run(&render(body, &vars)).map_err(spi_error)?;
    }
    let classify = statement(&format!("classify {}", entity.name))
        .or_else(|| statement("classify"))
        .expect("sql/merge.sql has classify");
    Spi::run(&render(classify, &vars)).map_err(spi_error)
}

/// EXISTING_KEY, UPDATE_OF_MISSING_KEY and DELETE_OF_MISSING_KEY warnings (after `classify`).
pub fn report_out_of_step(ctx: &mut LoadContext, entity: &'static Entity) -> LoadResult<()> {
    let sql = render(
        statement("out of step").expect("sql/merge.sql has out of step"),
        &[
            ("stage", &stage_table(entity)),
            ("key", &quote_ident(entity.key_column())),
        ],
    );
    let rows: Vec<(i64, Option<String>, String, i64)> = Spi::connect(|client| {
        client
            .select(&sql, None, &[OUT_OF_STEP_LINES.into()])
            .map_err(spi_error)?
            .map(|row| {
                Ok((
                    row.get::<i64>(1).map_err(spi_error)?.unwrap_or(0),
                    row.get::<String>(2).map_err(spi_error)?,
                    row.get::<String>(3).map_err(spi_error)?.unwrap_or_default(),
                    row.get::<i64>(4).map_err(spi_error)?.unwrap_or(0),
                ))
            })
            .collect::<LoadResult<Vec<_>>>()
    })?;
    let column = entity.key_field().name;
    let mut unlisted: Vec<(&'static str, i64)> = Vec::new();
    for (line, key, code, total) in rows {
        let (code, message) = out_of_step_code(&code);
        let mut problem = Problem::warning(entity.file, code, message)
            .at_line(line as u64)
            .in_column(column);
        if let Some(key) = key {
            problem = problem.with_value(&key);
        }
        ctx.problems.push(problem);
        if total > OUT_OF_STEP_LINES && !unlisted.iter().any(|(c, _)| *c == code) {
            unlisted.push((code, total - OUT_OF_STEP_LINES));
        }
    }
    for (code, more) in unlisted {
        ctx.problems.push(
            Problem::warning(
                entity.file,
                code,
                format!(
                    "{more} more row(s) of this file have this warning; only the first {OUT_OF_STEP_LINES} are listed"
                ),
            )
            .in_column(column),
        );
    }
    Ok(())
}

/// The code and message of an out-of-step row, as named by sql/merge.sql's "out of step".
fn out_of_step_code(code: &str) -> (&'static str, &'static str) {
    match code {
        "EXISTING_KEY" => (
            "EXISTING_KEY",
            "an I row whose key is already in the database: applied as an update (U) when its meta_update_date is newer",
        ),
        "UPDATE_OF_MISSING_KEY" => (
            "UPDATE_OF_MISSING_KEY",
            "a U row whose key is not in the database: inserted",
        ),
        _ => (
            "DELETE_OF_MISSING_KEY",
            "a D row whose key is not in the database: nothing to delete",
        ),
    }
}

fn entity_of(table: &str) -> Option<&'static Entity> {
    ENTITIES
        .iter()
        .copied()
        .find(|e| e.qualified_table() == table)
}

/// `a.x = b.y AND ...` for the columns of a key.
fn equalities(left: &str, columns: &[String], right: &str, other: &[String]) -> String {
    columns
        .iter()
        .zip(other)
        .map(|(c, o)| format!("{left}.{c} = {right}.{o}"))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The condition that a row `r` of `table` stays after the archive's deletes: it is not a D row
/// of its own entity, nor removed with (ON DELETE CASCADE) a row a D row of another deletes.
fn stays_after_deletes(table: &str) -> LoadResult<String> {
    let deleted_by = |entity: &Entity, matches: &str| -> LoadResult<Option<String>> {
        let stage = stage_table(entity);
        if !stage_exists(&stage)? {
            return Ok(None);
        }
        let key = quote_ident(entity.key_column());
        Ok(Some(format!(
            "NOT EXISTS (SELECT FROM {} AS e JOIN {stage} AS d ON d.{key} = e.{key} WHERE d._action = 'D' AND {matches})",
            entity.qualified_table()
        )))
    };
    let mut conditions = Vec::new();
    if let Some(own) = entity_of(table) {
        let key = quote_ident(own.key_column());
        conditions.extend(deleted_by(own, &format!("e.{key} = r.{key}"))?);
    }
    for cascade in foreign_keys(table, Direction::From)? {
        if cascade.on_delete != 'c' {
            continue;
        }
        if let Some(parent) = entity_of(&cascade.other_table) {
            let matches = equalities("e", &cascade.referenced_columns, "r", &cascade.columns);
            conditions.extend(deleted_by(parent, &matches)?);
        }
    }
    Ok(if conditions.is_empty() {
        "true".to_string()
    } else {
        conditions.join(" AND ")
    })
}

/// DELETE_OF_REFERENCED_ROW for every D row whose target row other rows still reference (rows
/// this archive deletes do not count), and those D rows set aside: called in reverse entity
/// order, just before the entity's deletes (or, for a validation, instead of them).
pub fn refuse_referenced_deletes(
    ctx: &mut LoadContext,
    staged: &mut StagedEntity,
) -> LoadResult<()> {
    let entity = staged.entity;
    let stage = stage_table(entity);
    let deletes = Spi::get_one::<bool>(&format!(
        "SELECT EXISTS (SELECT FROM {stage} WHERE _action = 'D')"
    ))
    .map_err(spi_error)?
    .unwrap_or(false);
    if !deletes {
        return Ok(());
    }
    let table = entity.qualified_table();
    let key = quote_ident(entity.key_column());
    let mut refused = false;
    // The keys that refuse the delete of a row still referenced (NO ACTION, RESTRICT); CASCADE
    // and SET NULL change the referencing rows instead.
    let refusing = foreign_keys(&table, Direction::To)?
        .into_iter()
        .filter(|k| matches!(k.on_delete, 'a' | 'r'));
    for reference in refusing {
        let referencing = entity_of(&reference.other_table);
        let sample = referencing.map_or("left(r::text, 200)".to_string(), |other| {
            format!("r.{}::text", quote_ident(other.key_column()))
        });
        let sql = render(
            statement("referenced deletes").expect("sql/merge.sql has referenced deletes"),
            &[
                ("stage", &stage),
                ("table", &table),
                ("key", &key),
                ("referencing", &reference.other_table),
                ("constraint", &quote_ident(&reference.constraint)),
                (
                    "matches",
                    &equalities("r", &reference.columns, "t", &reference.referenced_columns),
                ),
                ("not_deleted", &stays_after_deletes(&reference.other_table)?),
                ("sample", &sample),
            ],
        );
        let found: Vec<(i64, Option<String>, i64, Option<String>)> = Spi::connect(|client| {
            client
                .select(&sql, None, &[])
                .map_err(spi_error)?
                .map(|row| {
                    Ok((
                        row.get::<i64>(1).map_err(spi_error)?.unwrap_or(0),
                        row.get::<String>(2).map_err(spi_error)?,
                        row.get::<i64>(3).map_err(spi_error)?.unwrap_or(0),
                        row.get::<String>(4).map_err(spi_error)?,
                    ))
                })
                .collect::<LoadResult<Vec<_>>>()
        })?;
        let rows = referencing.map_or("row(s)".to_string(), |e| format!("{} row(s)", e.name));
        for (line, value, count, sample) in found {
            refused = true;
            let mut problem = Problem::error(
                entity.file,
                "DELETE_OF_REFERENCED_ROW",
                format!(
                    "this {} is not deleted: {count} {rows} of {} still reference it (foreign key {}), e.g. {}",
                    entity.name,
                    reference.other_table,
                    reference.constraint,
                    sample.unwrap_or_default()
                ),
            )
            .at_line(line as u64)
            .in_column(entity.key_field().name);
            if let Some(value) = value {
                problem = problem.with_value(&value);
            }
            ctx.problems.push(problem);
        }
    }
    if refused {
        set_aside_invalid(ctx, staged)?;
    }
    Ok(())
}

fn stage_exists(stage: &str) -> LoadResult<bool> {
    Ok(Spi::get_one_with_args::<bool>(
        "SELECT pg_catalog.to_regclass($1) IS NOT NULL",
        &[stage.into()],
    )
    .map_err(spi_error)?
    .unwrap_or(false))
}

/// The problem a refusal of PostgreSQL becomes: the load is rejected, nothing of it applied.
pub fn refusal_problem(error: &LoadError, file: &str) -> Problem {
    let LoadError::TargetRefused {
        sqlstate,
        message,
        detail,
    } = error
    else {
        return Problem::error(file, "CONSTRAINT_VIOLATION", error.message());
    };
    let detail = detail
        .as_deref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    Problem::error(
        file,
        "CONSTRAINT_VIOLATION",
        format!("the database refused rows of this file: {message}{detail}; nothing of the archive was applied"),
    )
    .with_value(sqlstate)
}
