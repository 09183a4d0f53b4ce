//! The staged rows of an entity written into the target with the statements of sql/merge.sql:
//! I and U rows by batches, the post-work of the triggers the loader replaces, then D rows.

use pgrx::prelude::*;

use super::batches::{for_stage_batches, for_written_batches};
use super::entity::{stage_table, StagedEntity};
use super::indexes::{load_doubles, SetAsideIndexes};
use super::keys::{
    check_link_keys, in_replica_mode, inserted_table, unchecked_link_tables, unchecked_own_table,
};
use super::owner::{as_owner_of, written_table};
use super::spi_error;
use super::sql::{render, statement, statements_for};
use super::LoadContext;
use crate::error::{LoadError, LoadResult, Problem};
use crate::spec::staging::{quote_ident, StagingLayout};
use crate::spec::{Entity, Role};

/// Writes the staged I and U rows into the target, then its link rows and post-work.
pub fn merge(ctx: &mut LoadContext, staged: &mut StagedEntity) -> LoadResult<()> {
    let entity = staged.entity;
    let stage = stage_table(entity);
    let layout = StagingLayout::for_entity(entity);
    let exists = |c: &str| staged.target_columns.contains(c);

    // Columns written: the ones the file has (absent ones keep the target's default), plus keys,
    // nomenclatures (their defaults are resolved) and what the entity's source statement derives.
    let mut written: Vec<(String, String)> = Vec::new();
    for (i, field) in entity.fields.iter().enumerate() {
        let in_file = staged.plan.field_position[i].is_some();
        if staged.plan.demoted[i] {
            continue;
        }
        let always = matches!(field.role, Role::Key(_) | Role::Nomenclature { .. });
        if !(in_file || always) {
            continue;
        }
        match field.role {
            Role::Action(Some(column)) if exists(column) => {
                written.push((column.to_string(), "s._action".to_string()));
            }
            _ => {
                if let (Some(slot), Some(column)) = (layout.slots[i].primary, field.target_column())
                {
                    if let Some(staged_as) = layout.columns[slot].target {
                        if exists(column) {
                            written.push((
                                quote_ident(column),
                                format!("s.{}", quote_ident(staged_as)),
                            ));
                        }
                    }
                }
            }
        }
    }
    for column in entity.derived_columns {
        if exists(column) {
            written.push((quote_ident(column), format!("s.{}", quote_ident(column))));
        }
    }
    // An additional_data that only extra columns fill is written even without its own column.
    if let Some(column) = entity.additional_data_column() {
        let quoted = quote_ident(column);
        if exists(column)
            && !staged.plan.extras.is_empty()
            && !written.iter().any(|(c, _)| *c == quoted)
        {
            written.push((quoted.clone(), format!("s.{quoted}")));
        }
    }

    let key = quote_ident(entity.key_column());
    let update_set: Vec<String> = written
        .iter()
        .filter(|(c, _)| *c != key)
        .map(|(c, v)| format!("{c} = {v}"))
        .collect();
    let newer = match entity.update_date_column() {
        Some(c) if exists(c) => {
            let c = quote_ident(c);
            format!("t.{c} IS NULL OR t.{c} < s.{c}")
        }
        _ => "true".to_string(),
    };
    let table = entity.qualified_table();
    let id = quote_ident(entity.id_column);
    let insert_columns: Vec<&str> = written.iter().map(|(c, _)| c.as_str()).collect();
    let insert_values: Vec<&str> = written.iter().map(|(_, v)| v.as_str()).collect();
    // The rows of one batch of the staging table, read by TID range, as the source reads them.
    let source_of = |batch: &str| {
        let rows = format!("(SELECT * FROM {stage} AS s WHERE {batch})");
        match statement(&format!("source {}", entity.name)) {
            Some(body) => format!(
                "({})",
                render(
                    body,
                    &[
                        ("stage", &rows),
                        ("local_srid", &ctx.local_srid.to_string()),
                    ]
                )
            ),
            None => rows,
        }
    };
    let relink = statement(&format!("relink {}", entity.name)).unwrap_or("true");
    let upsert_of = |source: &str| {
        render(
            statement("upsert").expect("sql/merge.sql has upsert"),
            &[
                ("update_set", &update_set.join(",\n           ")),
                ("insert_columns", &insert_columns.join(", ")),
                ("insert_values", &insert_values.join(", ")),
                ("newer", &newer),
                ("relink", relink),
                ("source", source),
                ("table", &table),
                ("key", &key),
                ("id", &id),
                ("entity", entity.name),
            ],
        )
    };
    super::progress::step(&format!("writing {}", entity.name));
    // sinp_import.rebuild_indexes: a load that at least doubles the table drops its plain indexes,
    // and those of the tables its post-work fills, and builds them once after the post-work.
    let mut set_aside = SetAsideIndexes::default();
    if crate::settings::rebuild_indexes() && load_doubles(&table, &stage)? {
        set_aside.set_aside(&table)?;
        for (_, body) in statements_for("post", entity.name) {
            if let Some(linked) = inserted_table(body) {
                set_aside.set_aside(linked)?;
            }
        }
    }
    // The table's own foreign keys (GeoNature's synthese has 28: a query per written row and key)
    // are checked once per referenced row after the writes when the role may, as for link rows.
    let unchecked_rows = unchecked_own_table(entity)?;
    // By batches of the staging table, as the post-work: a statement keeps one foreign-key check
    // event per written row queued until its end, and one INSERT of 3 000 000 observations held
    // 170 MB of them.
    for_stage_batches(&stage, "rows", |batch| {
        // The source statement's one value ($1, the archive's taxref_version) is passed, never
        // spliced into the text.
        let sql = upsert_of(&source_of(batch));
        let write = || {
            if sql.contains("$1") {
                Spi::run_with_args(&sql, &[ctx.taxref_version.as_deref().into()])
            } else {
                Spi::run(&sql)
            }
            .map_err(spi_error)
        };
        if unchecked_rows.is_some() {
            in_replica_mode(write)
        } else {
            write()
        }
    })?;
    Spi::run("ANALYZE sinp_written").map_err(spi_error)?;
    if ctx.apply_sensitivity_rules {
        apply_sensitivity_rules(ctx, entity)?;
    }

    let vars = [("stage", stage.as_str()), ("entity", entity.name)];
    let entity_table = entity.qualified_table();
    let unchecked = unchecked_link_tables(entity)?;
    for (words, body) in statements_for("post", entity.name) {
        let body = render(body, &vars);
        let without_checks =
            inserted_table(&body).is_some_and(|table| unchecked.iter().any(|t| t.table == table));
        super::progress::step(&format!(
            "{} of {}{}",
            words.join(" "),
            entity.name,
            if without_checks {
                " (foreign keys checked once per referenced row)"
            } else {
                ""
            }
        ));
        let run_once = |placeholder: &str, batch: &str| {
            Spi::run(&render(&body, &[(placeholder, batch)])).map_err(spi_error)
        };
        let run = || {
            if body.contains("{batch}") {
                for_written_batches(entity.name, "rows", |batch| run_once("batch", batch))
            } else if body.contains("{stage_batch}") {
                for_stage_batches(&stage, "rows", |batch| run_once("stage_batch", batch))
            } else {
                run_once("", "")
            }
        };
        let work = || {
            if without_checks {
                in_replica_mode(run)
            } else {
                run()
            }
        };
        // The rows that follow the entity's (links) are written as their table's owner for a
        // caller that does not own it, as GeoNature's triggers write them; never in replica mode
        // then ("unchecked links" asks for ownership).
        match written_table(&body).filter(|t| *t != entity_table) {
            Some(table) => as_owner_of(table, &[&stage, "sinp_written"], work)?,
            None => work()?,
        }
    }
    if let Some(body) = validations_statement(entity.name, "")? {
        super::progress::step(&format!("validations of {}", entity.name));
        as_owner_of(VALIDATIONS_TABLE, &[&stage, "sinp_written"], || {
            Spi::run(body).map_err(spi_error)
        })?;
    }
    set_aside.rebuild()?;
    for links in unchecked_rows.iter().chain(&unchecked) {
        super::progress::step(&format!(
            "checking the foreign keys of the new rows of {}",
            links.table
        ));
        check_link_keys(links)?;
    }
    for (words, body) in statements_for("links", entity.name) {
        // Link rows are replaced only when the file has the column.
        let field = words.first().copied().unwrap_or_default();
        let present = entity
            .fields
            .iter()
            .position(|f| f.name == field)
            .is_some_and(|i| staged.plan.field_position[i].is_some());
        if present {
            let body = render(body, &vars);
            let run = || Spi::run(&body).map_err(spi_error);
            match written_table(&body) {
                Some(table) => as_owner_of(table, &[&stage, "sinp_written"], run)?,
                None => run()?,
            }
        }
    }

    let (inserted, updated, upserts) = Spi::connect(|client| {
        let row = client
            .select(
                &format!(
                    "SELECT (SELECT count(*) FROM sinp_written WHERE entity = $1 AND inserted),
                            (SELECT count(*) FROM sinp_written WHERE entity = $1 AND NOT inserted),
                            (SELECT count(*) FROM {stage} WHERE _action IN ('I', 'U'))"
                ),
                None,
                &[entity.name.into()],
            )
            .map_err(spi_error)?
            .first();
        Ok::<_, LoadError>((
            row.get::<i64>(1).map_err(spi_error)?.unwrap_or(0),
            row.get::<i64>(2).map_err(spi_error)?.unwrap_or(0),
            row.get::<i64>(3).map_err(spi_error)?.unwrap_or(0),
        ))
    })?;
    staged.counts.inserted = inserted;
    staged.counts.updated = updated;
    staged.counts.unchanged = upserts - inserted - updated;
    Ok(())
}

/// GeoNature's validations of observations, written after them.
const VALIDATIONS_TABLE: &str = "gn_commons.t_validations";

/// GeoNature's sensitivity rules applied to the written observations (sql/merge.sql "sensitivity
/// synthese"), the stricter of their result and the archive's value kept: a warning counts the
/// observations the rules made more restricted.
fn apply_sensitivity_rules(ctx: &mut LoadContext, entity: &Entity) -> LoadResult<()> {
    let Some(body) = statement(&format!("sensitivity {}", entity.name)) else {
        return Ok(());
    };
    super::progress::step(&format!("sensitivity rules of {}", entity.name));
    let raised = Spi::get_one::<i64>(body).map_err(spi_error)?.unwrap_or(0);
    if raised > 0 {
        ctx.problems.push(
            Problem::warning(
                entity.file,
                "SENSITIVITY_RAISED",
                format!(
                    "{raised} observations are more sensitive by the rules of gn_sensitivity than the archive says: the stricter sensitivity is stored"
                ),
            )
            .in_column("code_nomenclature_sensitivity"),
        );
    }
    Ok(())
}

/// Applies the D rows of a staged entity (called in reverse entity order).
pub fn delete(staged: &mut StagedEntity) -> LoadResult<()> {
    let entity = staged.entity;
    let stage = stage_table(entity);
    let body = statement(&format!("delete {}", entity.name))
        .or_else(|| statement("delete"))
        .expect("sql/merge.sql has delete");
    let sql = render(
        body,
        &[
            ("stage", &stage),
            ("table", &entity.qualified_table()),
            ("key", &quote_ident(entity.key_column())),
        ],
    );
    let delete_rows =
        Spi::get_one::<i64>(&format!("SELECT count(*) FROM {stage} WHERE _action = 'D'"))
            .map_err(spi_error)?
            .unwrap_or(0);
    // A DELETE statement needs the privilege even when it deletes nothing.
    if delete_rows == 0 {
        return Ok(());
    }
    // As the caller, who needs DELETE on the table (privileges::check_deletes): the keys of the
    // deleted rows, as text.
    let deleted_keys: Vec<Option<String>> = Spi::connect_mut(|client| {
        client
            .update(&sql, None, &[])
            .map_err(spi_error)?
            .map(|row| row.get::<String>(1).map_err(spi_error))
            .collect::<LoadResult<Vec<_>>>()
    })?;
    let deleted = deleted_keys.len() as i64;
    staged.counts.deleted = deleted;
    staged.counts.unchanged += delete_rows - deleted;
    if let Some(body) = statement(&format!("log deletes {}", entity.name)) {
        // GeoNature's deletion log, written as its owner (the work of its trigger).
        let log = written_table(body).expect("the deletion log statement inserts into a table");
        as_owner_of(log, &[], || {
            Spi::run_with_args(body, &[deleted_keys.clone().into()]).map_err(spi_error)
        })?;
    }
    for links in ["areas", "observers"] {
        if let Some(body) = statement(&format!("unlink deletes {} {links}", entity.name)) {
            let table = written_table(body).expect("the unlink statement deletes from a table");
            as_owner_of(table, &[], || {
                Spi::run_with_args(body, &[deleted_keys.clone().into()]).map_err(spi_error)
            })?;
        }
    }
    if let Some(body) = validations_statement(entity.name, " deleted")? {
        as_owner_of(VALIDATIONS_TABLE, &[&stage, "sinp_written"], || {
            Spi::run(&render(body, &[("stage", &stage)])).map_err(spi_error)
        })?;
    }
    Ok(())
}

/// "validations <entity><suffix>" of sql/merge.sql, where the database has GeoNature's
/// gn_commons.t_validations (a target without it gets none).
fn validations_statement(entity: &str, suffix: &str) -> LoadResult<Option<&'static str>> {
    let Some(body) = statement(&format!("validations {entity}{suffix}")) else {
        return Ok(None);
    };
    let exists = Spi::get_one::<bool>(
        "SELECT pg_catalog.to_regclass('gn_commons.t_validations') IS NOT NULL",
    )
    .map_err(spi_error)?
    .unwrap_or(false);
    Ok(exists.then_some(body))
}

/// The change log's record of what this load wrote (sql/merge.sql "log written"), when
/// log_changes() installed it: its write triggers were disabled with the others. As the log's
/// owner: a loader is granted nothing of it.
pub fn log_written() -> LoadResult<()> {
    const LOG: &str = "sinp_import.changed_rows";
    // A library newer than the extension's objects (before ALTER EXTENSION ... UPDATE) still loads.
    let installed = Spi::get_one::<bool>(
        "SELECT pg_catalog.to_regclass('sinp_import.logged_tables') IS NOT NULL
            AND pg_catalog.to_regclass('sinp_import.changed_rows') IS NOT NULL",
    )
    .map_err(spi_error)?
    .unwrap_or(false);
    if !installed {
        return Ok(());
    }
    let synthese_stage = stage_table(&crate::spec::SYNTHESE);
    let staged_synthese = Spi::get_one_with_args::<bool>(
        "SELECT pg_catalog.to_regclass($1) IS NOT NULL",
        &[synthese_stage.as_str().into()],
    )
    .map_err(spi_error)?
    .unwrap_or(false);
    let restricted = super::differential::stored_restricted_condition()?;
    let mut reads = vec!["sinp_written"];
    if staged_synthese {
        reads.push(&synthese_stage);
    }
    as_owner_of(LOG, &reads, || {
        let logging = Spi::get_one::<bool>("SELECT EXISTS (SELECT FROM sinp_import.logged_tables)")
            .map_err(spi_error)?
            .unwrap_or(false);
        if logging {
            Spi::run(statement("log written").expect("sql/merge.sql has log written"))
                .map_err(spi_error)?;
            if staged_synthese {
                Spi::run(&render(
                    statement("log withdrawn").expect("sql/merge.sql has log withdrawn"),
                    &[("stage", &synthese_stage), ("restricted", &restricted)],
                ))
                .map_err(spi_error)?;
            }
        }
        Ok(())
    })
}
