//! Who may load: a role with the privileges to write the entity tables an archive writes, owner
//! or not. Its privileges are checked before the archive's rows are read (DELETE once a file's D
//! rows are known); the work that needs a table's ownership — disabling its known triggers, and
//! the rows that follow the entity rows (area and observer links, validations, actors, the
//! deletion log), which GeoNature's triggers would write — is done as that table's owner
//! (src/load/owner.rs).

use pgrx::prelude::*;

use super::entity::{stage_table, StagedEntity};
use super::{spi_error, LoadContext};
use crate::error::{LoadError, LoadResult, Problem};
use crate::spec::staging::quote_ident;
use crate::spec::Entity;

/// What a role must have of each entity table it writes: UPDATE ... FROM and RETURNING read it.
const WRITER_PRIVILEGES: [&str; 3] = ["SELECT", "INSERT", "UPDATE"];

/// What a load does with D rows the caller may not delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnprivilegedDeletes {
    /// A strict load: 42501, nothing applied.
    Refuse,
    /// A lenient load or a validation: each is a DELETE_NOT_PERMITTED problem, set aside.
    SetAside,
}

fn current_role() -> LoadResult<String> {
    Spi::get_one::<String>("SELECT pg_catalog.quote_ident(current_user::text)")
        .map_err(spi_error)
        .map(Option::unwrap_or_default)
}

/// Refuses a caller that may not write the tables of these entities (the ones that exist): SELECT,
/// INSERT, UPDATE on the table, USAGE of the sequences of its serial columns. Run before the
/// archive's rows are read; a role that may only read is refused here.
pub fn check_writer(entities: &[&'static Entity]) -> LoadResult<()> {
    let tables: Vec<String> = entities.iter().map(|e| e.qualified_table()).collect();
    let missing = Spi::connect(|client| {
        let row = client
            .select(
                // The tables are found in the catalog by name (to_regclass would raise for a
                // schema the role may not use): USAGE of the schema first, then the privileges.
                "WITH t AS (
                     SELECT w.n, w.name, n.oid AS schema, c.oid AS relation
                       FROM pg_catalog.unnest($1::text[]) WITH ORDINALITY AS w(name, n)
                       JOIN pg_catalog.pg_namespace AS n ON n.nspname = pg_catalog.split_part(w.name, '.', 1)
                       JOIN pg_catalog.pg_class AS c
                         ON c.relnamespace = n.oid AND c.relname = pg_catalog.split_part(w.name, '.', 2))
                 SELECT x.name, x.privilege, x.object FROM (
                     SELECT t.n, 0 AS m, t.name, 'USAGE' AS privilege, n.nspname::text AS object
                       FROM t JOIN pg_catalog.pg_namespace AS n ON n.oid = t.schema
                      WHERE NOT pg_catalog.has_schema_privilege(t.schema, 'USAGE')
                     UNION ALL
                     SELECT t.n, p.m, t.name, p.privilege, NULL::text
                       FROM t CROSS JOIN pg_catalog.unnest($2::text[]) WITH ORDINALITY AS p(privilege, m)
                      WHERE pg_catalog.has_schema_privilege(t.schema, 'USAGE')
                        AND NOT pg_catalog.has_table_privilege(t.relation, p.privilege)
                     UNION ALL
                     SELECT t.n, 4, t.name, 'USAGE', s.sequence
                       FROM t
                       JOIN pg_catalog.pg_attribute AS a
                         ON a.attrelid = t.relation AND a.attnum > 0 AND NOT a.attisdropped
                        AND a.attidentity = ''
                      CROSS JOIN LATERAL (SELECT CASE WHEN pg_catalog.has_schema_privilege(t.schema, 'USAGE')
                                                      THEN pg_catalog.pg_get_serial_sequence(t.name, a.attname::text)
                                                 END AS sequence) AS s
                      WHERE s.sequence IS NOT NULL
                        AND NOT pg_catalog.has_sequence_privilege(s.sequence, 'USAGE')
                 ) AS x
                 ORDER BY x.n, x.m
                 LIMIT 1",
                None,
                &[tables.into(), WRITER_PRIVILEGES.to_vec().into()],
            )
            .map_err(spi_error)?;
        let mut missing = None;
        for row in row {
            missing = Some((
                row.get::<String>(1).map_err(spi_error)?.unwrap_or_default(),
                row.get::<String>(2).map_err(spi_error)?.unwrap_or_default(),
                row.get::<String>(3).map_err(spi_error)?,
            ));
        }
        Ok::<_, LoadError>(missing)
    })?;
    let Some((table, privilege, object)) = missing else {
        return Ok(());
    };
    let role = current_role()?;
    let privilege: &'static str = match privilege.as_str() {
        "SELECT" => "SELECT",
        "INSERT" => "INSERT",
        "UPDATE" => "UPDATE",
        _ => "USAGE",
    };
    Err(match object {
        // The schema of the table, or the sequence of its ids.
        Some(object) if privilege == "USAGE" && !object.contains('.') => {
            LoadError::TargetPrivilegeMissing {
                hint: format!("GRANT USAGE ON SCHEMA {object} TO {role};"),
                reason: format!(
                    "A load writes the archive's rows into {table} as the calling role, which needs USAGE on its schema {object}."
                ),
                table: format!("schema {object}"),
                privilege,
                role,
            }
        }
        Some(sequence) => LoadError::TargetPrivilegeMissing {
            hint: format!("GRANT USAGE ON SEQUENCE {sequence} TO {role};"),
            reason: format!(
                "A load inserts rows into {table}, whose ids come from the sequence {sequence}; the role needs USAGE on it."
            ),
            table: sequence,
            privilege,
            role,
        },
        None => LoadError::TargetPrivilegeMissing {
            hint: format!(
                "GRANT SELECT, INSERT, UPDATE ON {table} TO {role}; (and DELETE where archives delete rows)"
            ),
            reason: format!(
                "A load writes the archive's rows into {table} as the calling role, which needs SELECT, INSERT and UPDATE on it; the rows that follow them (links, validations) are written as the table's owner."
            ),
            table,
            privilege,
            role,
        },
    })
}

/// A role that may not take the lock of loads is refused before anything is read (None: the
/// objects of a version before 0.3.0, which has no such lock).
pub(super) fn check_lock_privilege() -> LoadResult<()> {
    match has_privilege("sinp_import.load_lock", "UPDATE")? {
        Some(false) => Err(LoadError::PrivilegeMissing {
            object: "sinp_import.load_lock",
            privilege: "UPDATE",
        }),
        _ => Ok(()),
    }
}

/// Loads (and validations, which stage and merge like a load) are serialised by a lock on
/// sinp_import.load_lock, held until the transaction ends. Only a role that may UPDATE that table
/// can take the lock: a reader, which can take ACCESS SHARE at most (it does not conflict), cannot
/// keep loads waiting, as it could with an advisory lock.
pub(super) fn serialise_loads() -> LoadResult<()> {
    // NULL: the extension's objects are those of a version before 0.3.0 (the library was
    // installed, ALTER EXTENSION sinp_import UPDATE not run yet): the old advisory lock, said.
    let Some(may) = has_privilege("sinp_import.load_lock", "UPDATE")? else {
        pgrx::notice!("sinp_import: this database has the objects of an older version; run ALTER EXTENSION sinp_import UPDATE");
        return Spi::run(
            "SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('sinp_import.load'))",
        )
        .map_err(spi_error);
    };
    if !may {
        return Err(LoadError::PrivilegeMissing {
            object: "sinp_import.load_lock",
            privilege: "UPDATE",
        });
    }
    Spi::run("LOCK TABLE sinp_import.load_lock IN EXCLUSIVE MODE").map_err(spi_error)
}

/// Whether the current user has the privilege on the extension's table or sequence (None: it
/// does not exist, an older version's objects).
fn has_privilege(object: &str, privilege: &str) -> LoadResult<Option<bool>> {
    Spi::get_one_with_args::<bool>(
        "SELECT (SELECT CASE WHEN c.relkind = 'S'
                             THEN pg_catalog.has_sequence_privilege(c.oid, $2)
                             ELSE pg_catalog.has_table_privilege(c.oid, $2) END
                   FROM pg_catalog.pg_class AS c
                  WHERE c.oid = pg_catalog.to_regclass($1))",
        &[object.into(), privilege.into()],
    )
    .map_err(spi_error)
}

/// What a load writes of the extension's own tables, as the caller: the journal rows of problems
/// go through the COPY machinery, which checks no privilege itself, so all are checked here,
/// before anything is read.
const JOURNAL_PRIVILEGES: [(&str, &str); 6] = [
    ("sinp_import.imports", "INSERT"),
    ("sinp_import.imports", "UPDATE"),
    ("sinp_import.imports_import_id_seq", "USAGE"),
    ("sinp_import.import_errors", "INSERT"),
    ("sinp_import.additional_fields", "INSERT"),
    ("sinp_import.additional_fields", "UPDATE"),
];

pub(super) fn check_journal_privileges() -> LoadResult<()> {
    for (object, privilege) in JOURNAL_PRIVILEGES {
        if has_privilege(object, privilege)? == Some(false) {
            return Err(LoadError::PrivilegeMissing { object, privilege });
        }
    }
    Ok(())
}

/// The D rows of a staged file the caller may not delete: refused (42501) or set aside as
/// DELETE_NOT_PERMITTED problems, before any delete runs.
pub fn check_deletes(ctx: &mut LoadContext, staged: &mut StagedEntity) -> LoadResult<()> {
    let entity = staged.entity;
    let stage = stage_table(entity);
    let table = entity.qualified_table();
    let key = quote_ident(entity.key_column());
    let may = Spi::get_one_with_args::<bool>(
        "SELECT pg_catalog.has_table_privilege($1::regclass, 'DELETE')",
        &[table.as_str().into()],
    )
    .map_err(spi_error)?
    .unwrap_or(false);
    if may {
        return Ok(());
    }
    let deletes: Vec<(i64, Option<String>)> = Spi::connect(|client| {
        client
            .select(
                &format!(
                    "SELECT s._line, s.{key}::text FROM {stage} AS s WHERE s._action = 'D' ORDER BY s._line"
                ),
                None,
                &[],
            )
            .map_err(spi_error)?
            .map(|row| {
                Ok((
                    row.get::<i64>(1).map_err(spi_error)?.unwrap_or(0),
                    row.get::<String>(2).map_err(spi_error)?,
                ))
            })
            .collect::<LoadResult<Vec<_>>>()
    })?;
    let Some((first, _)) = deletes.first() else {
        return Ok(());
    };
    let role = current_role()?;
    if ctx.unprivileged_deletes == UnprivilegedDeletes::Refuse {
        return Err(LoadError::TargetPrivilegeMissing {
            reason: format!(
                "{} has {} D row(s) (the first on line {first}): deleting them needs DELETE on {table}; nothing was applied.",
                entity.file,
                deletes.len()
            ),
            hint: format!(
                "GRANT DELETE ON {table} TO {role}; or load in lenient mode: the D rows are then set aside (DELETE_NOT_PERMITTED) and the other rows applied."
            ),
            table,
            privilege: "DELETE",
            role,
        });
    }
    for (line, value) in deletes {
        let mut problem = Problem::error(
            entity.file,
            "DELETE_NOT_PERMITTED",
            format!(
                "this {} is not deleted: role {role} may not DELETE on {table}",
                entity.name
            ),
        )
        .at_line(line as u64)
        .in_column(entity.key_field().name);
        if let Some(value) = value {
            problem = problem.with_value(&value);
        }
        ctx.problems.push(problem);
    }
    super::entity::set_aside_invalid(ctx, staged)
}
