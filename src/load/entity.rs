//! One entity file: streamed from the archive through the row converter into its staging table by
//! COPY, checked set-based, then merged into the target with the statements of sql/merge.sql.

use std::collections::HashSet;
use std::io::Read;
use std::sync::mpsc;

use pgrx::datum::DatumWithOid;
use pgrx::pg_sys;
use pgrx::prelude::*;

use super::catalog::{foreign_keys, Direction, ForeignKey};
use super::copy::{copy_into, relation_oid, RowSource};
use super::indexes::{load_doubles, SetAsideIndexes};
use super::spi_error;
use super::sql::{render, statement, statements_for};
use super::{EntityCounts, LoadContext};
use crate::error::{LoadError, LoadResult, Problem};
use crate::spec::staging::{quote_ident, StagingLayout};
use crate::spec::{Entity, Role};
use crate::tsv::TsvReader;
use crate::validate::row::{HeaderPlan, RowConverter};

pub fn stage_table(entity: &Entity) -> String {
    format!("pg_temp.sinp_stage_{}", entity.name)
}

/// Feeds COPY with the converted rows of one file; invalid rows are counted and left out.
struct EntityRows<'a, R: Read> {
    tsv: TsvReader<R>,
    converter: RowConverter<'a>,
    problems: &'a mut Vec<Problem>,
    rejected: i64,
    /// Keys of the rows set aside, for NO_PARENT_ENTITY in the entities that link to them.
    rejected_keys: Vec<String>,
}

impl<R: Read> RowSource for EntityRows<'_, R> {
    fn fill(&mut self, out: &mut Vec<u8>) -> bool {
        loop {
            match self.tsv.next_record() {
                Ok(false) => return false,
                Err(problem) => {
                    // The rest of the file cannot be read reliably.
                    self.problems.push(problem);
                    return false;
                }
                Ok(true) => match self.converter.convert(&self.tsv, self.problems) {
                    Some(_) => {
                        self.converter.write_row(out);
                        return true;
                    }
                    None => {
                        self.rejected += 1;
                        let keys = self.converter.keys_of(&self.tsv);
                        self.rejected_keys.extend(keys);
                    }
                },
            }
        }
    }
}

/// The reading thread's stack.
const READER_STACK_BYTES: usize = 16 << 20;

/// COPY text chunks handed from the staging thread to the backend, and how many may wait.
const CHUNK_BYTES: usize = 64 * 1024;
const CHUNKS_IN_FLIGHT: usize = 8;

/// The backend's side of the channel: each chunk is handed to COPY as it is.
struct Chunks {
    receiver: mpsc::Receiver<Vec<u8>>,
}

impl RowSource for Chunks {
    fn fill(&mut self, out: &mut Vec<u8>) -> bool {
        // A closed channel is the end of the rows (or a failed thread, reported by its join).
        // Waiting for the reading thread, the backend still notices a cancel or a
        // statement_timeout: the rows end here, and the interrupt is processed once COPY has
        // returned (never inside COPY's data callback, where an ERROR left the session's
        // transaction state aborted). The thread stops at its next send.
        let chunk = loop {
            match self
                .receiver
                .recv_timeout(std::time::Duration::from_millis(100))
            {
                Ok(chunk) => break chunk,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    // SAFETY: a flag the signal handlers set; only read here.
                    if unsafe { pg_sys::InterruptPending } != 0 {
                        return false;
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return false,
            }
        };
        if out.is_empty() {
            *out = chunk;
        } else {
            out.extend_from_slice(&chunk);
        }
        true
    }
}

/// What the staging thread hands back with its last chunk.
struct Produced {
    rejected: i64,
    without_srid: u64,
    z_or_m: u64,
    rejected_keys: Vec<String>,
}

/// What the header said about this file, needed again when merging.
pub struct StagedEntity {
    pub entity: &'static Entity,
    pub plan: HeaderPlan,
    pub target_columns: HashSet<String>,
    pub counts: EntityCounts,
}

/// Parses, validates and stages the file; the returned problems include header problems. A
/// validation (`check_only`) stages only the columns its set-based checks read.
pub fn stage<R: Read + Send>(
    ctx: &mut LoadContext,
    entity: &'static Entity,
    input: R,
    check_only: bool,
) -> LoadResult<Option<StagedEntity>> {
    let target = entity.qualified_table();
    let target_columns = super::resolver::table_columns(&target)?
        .ok_or(LoadError::TargetMissing { table: target })?;
    let tsv = match TsvReader::with_max_record_bytes(
        entity.file,
        input,
        crate::settings::max_record_bytes(),
    ) {
        Ok(tsv) => tsv,
        Err(problem) => {
            ctx.problems.push(problem);
            return Ok(None);
        }
    };
    let (plan, header_problems) = HeaderPlan::new(entity, tsv.header(), Some(&target_columns));
    let header_failed = HeaderPlan::has_errors(&header_problems);
    ctx.problems.extend(header_problems);
    if header_failed {
        return Ok(None);
    }

    let layout = StagingLayout::for_entity(entity);
    let staged_columns = if check_only {
        // The key and the legacy key are read by the duplicate check and register_staged_keys.
        let legacy = entity
            .linked_as
            .and_then(|(_, field)| entity.field(field))
            .and_then(|field| field.target_column());
        let names: Vec<&str> = [Some(entity.key_column()), legacy]
            .into_iter()
            .flatten()
            .collect();
        let checks: Vec<&str> = statements_for("check", entity.name)
            .into_iter()
            .chain(statements_for("prepare", entity.name))
            .map(|(_, body)| body)
            .collect();
        let key_columns: Vec<String> =
            super::constraints::value_key_checks(entity, &stage_table(entity))?
                .into_iter()
                .chain(super::constraints::check_constraint_checks(
                    entity,
                    &stage_table(entity),
                )?)
                .flat_map(|check| check.staged)
                .collect();
        let names: Vec<&str> = names
            .into_iter()
            .chain(key_columns.iter().map(String::as_str))
            .collect();
        layout.columns_read_by(&names, &checks)
    } else {
        layout.all_columns()
    };
    let stage = stage_table(entity);
    drop_stage(entity)?;
    Spi::run(&layout.create_table_sql(&stage, &staged_columns)).map_err(spi_error)?;
    super::progress(&format!("reading {}", entity.file));

    // The file is read, checked and converted on a thread of its own while the backend runs the
    // COPY that consumes it: the two halves of staging then share the machine's cores. The
    // thread only reads the archive and the resolver's maps (PostgreSQL is never called from
    // it); the channel holds a few chunks, so memory stays bounded.
    let columns = layout.column_names(&staged_columns);
    let relation = relation_oid(&stage);
    let resolver = &ctx.resolver;
    let problems = &mut ctx.problems;
    let now = ctx.now;
    let (staged, produced) = std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::sync_channel::<Vec<u8>>(CHUNKS_IN_FLIGHT);
        let layout = &layout;
        let plan = &plan;
        let staged_columns = &staged_columns;
        // The backend's own stack is 8 MB; the reading thread gets as much again (its parsers
        // recurse boundedly: geometries to MAX_NESTING levels, JSON to serde_json's 128).
        let producer = std::thread::Builder::new()
            .name("sinp_import reader".to_string())
            .stack_size(READER_STACK_BYTES)
            .spawn_scoped(scope, move || {
                let mut converter = RowConverter::new(entity, layout, plan, resolver, now);
                if check_only {
                    converter.stage_only(staged_columns);
                }
                let mut rows = EntityRows {
                    tsv,
                    converter,
                    problems,
                    rejected: 0,
                    rejected_keys: Vec::new(),
                };
                let mut more = true;
                while more {
                    let mut chunk = Vec::with_capacity(CHUNK_BYTES + 16 * 1024);
                    while more && chunk.len() < CHUNK_BYTES {
                        more = rows.fill(&mut chunk);
                    }
                    // A closed channel means the COPY stopped (an ERROR): nothing more to do.
                    if !chunk.is_empty() && sender.send(chunk).is_err() {
                        break;
                    }
                }
                Produced {
                    rejected: rows.rejected,
                    without_srid: rows.converter.geometries_without_srid,
                    z_or_m: rows.converter.geometries_z_or_m,
                    rejected_keys: rows.rejected_keys,
                }
            });
        let producer = match producer {
            Ok(producer) => producer,
            Err(e) => return Err(LoadError::internal(format!("no reading thread: {e}"))),
        };
        let mut chunks = Chunks { receiver };
        let staged = copy_into(relation, &columns, &mut chunks);
        drop(chunks);
        Ok((staged, producer.join()))
    })?;
    // A cancel noticed while waiting for the reading thread ended the rows early: raised now.
    pgrx::check_for_interrupts!();
    let Produced {
        rejected,
        without_srid,
        z_or_m,
        rejected_keys,
    } = produced.map_err(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        LoadError::internal(format!("reading {} failed: {what}", entity.file))
    })?;
    if let Some((kind, _)) = entity.linked_as {
        for key in rejected_keys {
            ctx.resolver.reject(kind, &key);
        }
    }
    if without_srid > 0 {
        ctx.problems.push(
            Problem::warning(
                entity.file,
                "GEOMETRY_WITHOUT_SRID",
                format!(
                    "{without_srid} geometries have no SRID: the local SRID {} is assumed",
                    ctx.local_srid
                ),
            )
            .in_column("geom"),
        );
    }
    if z_or_m > 0 {
        ctx.problems.push(
            Problem::warning(
                entity.file,
                "GEOMETRY_Z_OR_M_DROPPED",
                format!(
                    "{z_or_m} geometries have Z or M coordinates: only X and Y are written (the geometry columns are 2D)"
                ),
            )
            .in_column("geom"),
        );
    }
    // The key is looked up per batch by the post-work, and the planner needs the row counts.
    // Statistics of the key and the action only: the checks and merges join on the key and filter
    // on the action, and analyzing every column of a wide staging table took a quarter of a
    // validation (perf, 100 000 rows).
    let key = quote_ident(entity.key_column());
    Spi::run(&format!(
        "CREATE INDEX ON {stage} ({key}); ANALYZE {stage} ({key}, _action)"
    ))
    .map_err(spi_error)?;
    super::progress(&format!(
        "{staged} rows of {} staged, checking them",
        entity.file
    ));

    super::differential::classify(entity)?;
    run_checks(ctx, entity, &stage)?;
    super::differential::report_out_of_step(ctx, entity)?;
    Ok(Some(StagedEntity {
        entity,
        plan,
        target_columns,
        counts: EntityCounts {
            entity: entity.name,
            rejected,
            ..EntityCounts::default()
        },
    }))
}

/// The set-based checks of sql/merge.sql (`check <entity> <CODE> <column>`), plus duplicate keys.
fn run_checks(ctx: &mut LoadContext, entity: &'static Entity, stage: &str) -> LoadResult<()> {
    let key = quote_ident(entity.key_column());
    let duplicates = format!(
        "SELECT s._line, s.{key}::text,
                'also on line(s) ' || (SELECT string_agg(o._line::text, ', ' ORDER BY o._line)
                                         FROM {stage} AS o WHERE o.{key} = s.{key} AND o._line <> s._line)
           FROM {stage} AS s
          WHERE s.{key} IN (SELECT {key} FROM {stage} GROUP BY {key} HAVING count(*) > 1)
          ORDER BY s._line"
    );
    let key_field = entity.key_field().name;
    // (query, code, column, the message when the check has its own)
    let mut checks: Vec<(String, &'static str, String, Option<String>)> =
        vec![(duplicates, "DUPLICATE_UUID", key_field.to_string(), None)];
    let local_srid = ctx.local_srid.to_string();
    for (words, body) in statements_for("check", entity.name) {
        let (Some(code), Some(column)) = (words.first(), words.get(1)) else {
            continue;
        };
        let vars = [("stage", stage), ("local_srid", local_srid.as_str())];
        checks.push((render(body, &vars), code, column.to_string(), None));
    }
    // The target's foreign keys and CHECK constraints on values the archive gives as they are
    // (cd_nom, cd_hab, date_max >= date_min...).
    for check in super::constraints::value_key_checks(entity, stage)?
        .into_iter()
        .chain(super::constraints::check_constraint_checks(entity, stage)?)
    {
        checks.push((
            check.sql,
            check.code,
            check.column.to_string(),
            Some(check.message),
        ));
    }
    for (query, code, column, own_message) in checks {
        let found: Vec<(i64, Option<String>, Option<String>)> = Spi::connect(|client| {
            let mut found = Vec::new();
            for row in client.select(&query, None, &[]).map_err(spi_error)? {
                let line: Option<i64> = row.get(1).map_err(spi_error)?;
                let value: Option<String> = row.get(2).map_err(spi_error)?;
                let detail: Option<String> = if row.columns() > 2 {
                    row.get(3).map_err(spi_error)?
                } else {
                    None
                };
                found.push((line.unwrap_or(0), value, detail));
            }
            Ok::<_, LoadError>(found)
        })?;
        for (line, value, detail) in found {
            let message = match (code, detail) {
                _ if own_message.is_some() => own_message.clone().unwrap_or_default(),
                ("DUPLICATE_UUID", Some(d)) => {
                    format!("the key {column} appears more than once: {d}")
                }
                ("INVALID_ATTACHMENT_CODE", _) => {
                    "no area with this TYPE.CODE in ref_geo.l_areas".into()
                }
                ("CD_NOM_NOT_FOUND", _) => "cd_nom is not in taxonomie.taxref".into(),
                ("PARENT_NOT_FOUND", _) => {
                    "no acquisition framework with this UUID or name in the archive or the database"
                        .into()
                }
                (_, d) => d.unwrap_or_default(),
            };
            let mut p = Problem::error(entity.file, code, message)
                .at_line(line as u64)
                .in_column(&column);
            if let Some(v) = value {
                p = p.with_value(&v);
            }
            ctx.problems.push(p);
        }
    }
    Ok(())
}

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
    super::progress(&format!("writing {}", entity.name));
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
    for batch in stage_batches(&stage)? {
        // The source statement's one value ($1, the archive's taxref_version) is passed, never
        // spliced into the text.
        let sql = upsert_of(&source_of(&batch));
        let write = || {
            if sql.contains("$1") {
                Spi::run_with_args(&sql, &[ctx.taxref_version.as_deref().into()])
            } else {
                Spi::run(&sql)
            }
            .map_err(spi_error)
        };
        if unchecked_rows.is_some() {
            in_replica_mode(write)?;
        } else {
            write()?;
        }
    }
    Spi::run("ANALYZE sinp_written").map_err(spi_error)?;
    if ctx.apply_sensitivity_rules {
        apply_sensitivity_rules(ctx, entity)?;
    }

    let vars = [("stage", stage.as_str()), ("entity", entity.name)];
    let unchecked = unchecked_link_tables(entity)?;
    for (words, body) in statements_for("post", entity.name) {
        let body = render(body, &vars);
        let without_checks =
            inserted_table(&body).is_some_and(|table| unchecked.iter().any(|t| t.table == table));
        super::progress(&format!(
            "{} of {}{}",
            words.join(" "),
            entity.name,
            if without_checks {
                " (foreign keys checked once per referenced row)"
            } else {
                ""
            }
        ));
        let (placeholder, batches) = if body.contains("{batch}") {
            ("batch", written_batches(entity.name)?)
        } else if body.contains("{stage_batch}") {
            ("stage_batch", stage_batches(&stage)?)
        } else {
            ("", vec![String::new()])
        };
        let run = || {
            for batch in &batches {
                Spi::run(&render(&body, &[(placeholder, batch)])).map_err(spi_error)?;
            }
            Ok(())
        };
        if without_checks {
            in_replica_mode(run)?;
        } else {
            run()?;
        }
    }
    if let Some(body) = validations_statement(entity.name, "")? {
        super::progress(&format!("validations of {}", entity.name));
        Spi::run(body).map_err(spi_error)?;
    }
    set_aside.rebuild()?;
    for links in unchecked_rows.iter().chain(&unchecked) {
        super::progress(&format!(
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
            Spi::run(&render(body, &vars)).map_err(spi_error)?;
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

/// GeoNature's sensitivity rules applied to the written observations (sql/merge.sql "sensitivity
/// synthese"), the stricter of their result and the archive's value kept: a warning counts the
/// observations the rules made more restricted.
fn apply_sensitivity_rules(ctx: &mut LoadContext, entity: &Entity) -> LoadResult<()> {
    let Some(body) = statement(&format!("sensitivity {}", entity.name)) else {
        return Ok(());
    };
    super::progress(&format!("sensitivity rules of {}", entity.name));
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

/// A link table of the entity's post-work filled without PostgreSQL's per-row foreign-key checks,
/// with the statements that check its keys afterwards, one per foreign key.
pub(crate) struct UncheckedLinks {
    pub table: String,
    pub key_checks: Vec<String>,
}

/// The tables the entity's post-work inserts into that may be filled unchecked ("unchecked links"
/// in sql/merge.sql): those with a foreign key to the entity's written rows, by which the new
/// link rows are found, and whose other foreign keys are then checked by "link keys".
pub(crate) fn unchecked_link_tables(entity: &Entity) -> LoadResult<Vec<UncheckedLinks>> {
    let allowed = statement("unchecked links").expect("sql/merge.sql has unchecked links");
    let entity_table = entity.qualified_table();
    let mut tables: Vec<UncheckedLinks> = Vec::new();
    for (_, body) in statements_for("post", entity.name) {
        let Some(table) = inserted_table(body) else {
            continue;
        };
        if tables.iter().any(|t| t.table == table) {
            continue;
        }
        let may = Spi::get_one::<bool>(&render(allowed, &[("table", table)]))
            .map_err(spi_error)?
            .unwrap_or(false);
        if !may {
            continue;
        }
        let keys = foreign_keys(table, Direction::From)?;
        // The new link rows are found by their one-column key to the written rows; every other
        // foreign key is checked.
        let Some(owner_key) = keys
            .iter()
            .position(|k| k.other_table == entity_table && k.columns.len() == 1)
        else {
            continue;
        };
        let owner = &keys[owner_key].columns[0];
        let key_checks = keys
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != owner_key)
            .map(|(_, key)| link_key_check(entity.name, table, owner, key))
            .collect();
        tables.push(UncheckedLinks {
            table: table.to_string(),
            key_checks,
        });
    }
    Ok(tables)
}

/// The entity's own table, when its rows may be written without PostgreSQL's per-row foreign-key
/// checks ("unchecked links" of sql/merge.sql: the role may, and no enabled trigger but the
/// foreign keys' would be skipped): every one of its foreign keys is then checked by "link keys",
/// once per referenced row, over the rows this load wrote. The values were resolved from the
/// referenced tables or checked against them before writing ("foreign key values"), so only a
/// row another transaction deleted meanwhile can be missing.
fn unchecked_own_table(entity: &Entity) -> LoadResult<Option<UncheckedLinks>> {
    let table = entity.qualified_table();
    let allowed = statement("unchecked links").expect("sql/merge.sql has unchecked links");
    let may = Spi::get_one::<bool>(&render(allowed, &[("table", &table)]))
        .map_err(spi_error)?
        .unwrap_or(false);
    if !may {
        return Ok(None);
    }
    let id = quote_ident(entity.id_column);
    let key_checks = foreign_keys(&table, Direction::From)?
        .iter()
        .map(|key| link_key_check(entity.name, &table, &id, key))
        .collect();
    Ok(Some(UncheckedLinks { table, key_checks }))
}

/// "link keys" of sql/merge.sql for one foreign key of a link table.
fn link_key_check(entity: &str, table: &str, owner: &str, key: &ForeignKey) -> String {
    let (referenced, columns, referenced_columns) =
        (&key.other_table, &key.columns, &key.referenced_columns);
    let joined = |separator: &str, item: &dyn Fn(&String, &String) -> String| {
        columns
            .iter()
            .zip(referenced_columns)
            .map(|(c, r)| item(c, r))
            .collect::<Vec<_>>()
            .join(separator)
    };
    render(
        statement("link keys").expect("sql/merge.sql has link keys"),
        &[
            ("used_columns", &joined(", ", &|c, _| format!("used.{c}"))),
            ("columns", &joined(", ", &|c, _| format!("c.{c}"))),
            (
                "not_null",
                &joined(" AND ", &|c, _| format!("c.{c} IS NOT NULL")),
            ),
            (
                "matches",
                &joined(" AND ", &|c, r| format!("r.{r} = used.{c}")),
            ),
            ("table", table),
            ("owner", owner),
            ("referenced", referenced),
            ("entity", entity),
        ],
    )
}

/// The table a statement inserts into (its first `INSERT INTO`).
fn inserted_table(body: &str) -> Option<&str> {
    let (_, rest) = body.split_once("INSERT INTO ")?;
    rest.split_whitespace().next()
}

/// Runs `work` with session_replication_role = replica: row triggers of origin, foreign-key checks
/// among them, do not fire. The previous value comes back after it; after an ERROR the
/// (sub)transaction's rollback restores it.
fn in_replica_mode(work: impl FnOnce() -> LoadResult<()>) -> LoadResult<()> {
    let previous = Spi::get_one::<String>("SELECT current_setting('session_replication_role')")
        .map_err(spi_error)?
        .unwrap_or_else(|| "origin".to_string());
    Spi::run("SELECT set_config('session_replication_role', 'replica', true)")
        .map_err(spi_error)?;
    work()?;
    Spi::run_with_args(
        "SELECT set_config('session_replication_role', $1, true)",
        &[previous.as_str().into()],
    )
    .map_err(spi_error)
}

/// Checks (and locks, as a foreign-key check does) the rows the new link rows reference, once
/// each: a row deleted by another transaction during the load fails the load.
pub(crate) fn check_link_keys(links: &UncheckedLinks) -> LoadResult<()> {
    for check in &links.key_checks {
        let (missing, example) = Spi::connect(|client| {
            let row = client.select(check, None, &[]).map_err(spi_error)?.first();
            Ok::<_, LoadError>((
                row.get::<i64>(1).map_err(spi_error)?.unwrap_or(0),
                row.get::<String>(2).map_err(spi_error)?.unwrap_or_default(),
            ))
        })?;
        if missing > 0 {
            return Err(LoadError::ReferencedRowsDeleted {
                table: links.table.clone(),
                count: missing,
                example,
            });
        }
    }
    Ok(())
}

/// For a validation, which writes nothing to the targets: the keys of the staged rows become
/// findable by the entities that link to them, as if they had been written.
pub fn register_staged_keys(ctx: &mut LoadContext, staged: &StagedEntity) -> LoadResult<()> {
    let entity = staged.entity;
    let Some((kind, legacy_field)) = entity.linked_as else {
        return Ok(());
    };
    let legacy = entity
        .field(legacy_field)
        .and_then(|f| f.target_column())
        .map(quote_ident)
        .unwrap_or_else(|| "NULL".to_string());
    let key = quote_ident(entity.key_column());
    let stage = stage_table(entity);
    let keys: Vec<(Option<String>, Option<String>)> = Spi::connect(|client| {
        let rows = client
            .select(
                &format!("SELECT {key}::text, {legacy}::text FROM {stage} WHERE _action <> 'D'"),
                None,
                &[],
            )
            .map_err(spi_error)?;
        rows.map(|r| {
            Ok((
                r.get::<String>(1).map_err(spi_error)?,
                r.get::<String>(2).map_err(spi_error)?,
            ))
        })
        .collect::<LoadResult<Vec<_>>>()
    })?;
    for (key, name) in keys {
        ctx.resolver
            .stage_key(kind, key.as_deref(), name.as_deref());
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

/// `w.id` ranges covering the ids this load wrote for the entity, `sinp_import.batch_rows` written
/// rows each (not as many ids: the rows a differential updates are spread over the whole table,
/// and a batch per id range would split a few thousand rows into many statements, each computing
/// again the areas of the geometries they share).
fn written_batches(entity: &str) -> LoadResult<Vec<String>> {
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
fn stage_batches(stage: &str) -> LoadResult<Vec<String>> {
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
    let deleted = Spi::connect_mut(|client| {
        Ok::<_, LoadError>(client.update(&sql, None, &[]).map_err(spi_error)?.len() as i64)
    })?;
    let delete_rows =
        Spi::get_one::<i64>(&format!("SELECT count(*) FROM {stage} WHERE _action = 'D'"))
            .map_err(spi_error)?
            .unwrap_or(0);
    staged.counts.deleted = deleted;
    staged.counts.unchanged += delete_rows - deleted;
    if let Some(body) = validations_statement(entity.name, " deleted")? {
        Spi::run(&render(body, &[("stage", &stage)])).map_err(spi_error)?;
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

/// Removes from the staging table the rows the set-based checks found invalid, so that only valid
/// rows are merged (lenient mode keeps that work; strict mode rolls it back).
pub fn set_aside_invalid(ctx: &mut LoadContext, staged: &mut StagedEntity) -> LoadResult<()> {
    let lines: Vec<i64> = ctx
        .problems
        .iter()
        .filter(|p| p.is_error() && p.file == staged.entity.file)
        .filter_map(|p| p.line.map(|l| l as i64))
        .filter(|&l| l > 1)
        .collect();
    if lines.is_empty() {
        return Ok(());
    }
    let stage = stage_table(staged.entity);
    let key = quote_ident(staged.entity.key_column());
    let removed: Vec<Option<String>> = Spi::connect_mut(|client| {
        let rows = client
            .update(
                &format!("DELETE FROM {stage} WHERE _line = ANY($1) RETURNING {key}::text"),
                None,
                &[lines.into()],
            )
            .map_err(spi_error)?;
        rows.map(|r| r.get::<String>(1).map_err(spi_error))
            .collect::<LoadResult<Vec<_>>>()
    })?;
    staged.counts.rejected += removed.len() as i64;
    if let Some((kind, _)) = staged.entity.linked_as {
        for key in removed.into_iter().flatten() {
            ctx.resolver.reject(kind, &key);
        }
    }
    Ok(())
}

pub fn drop_stage(entity: &Entity) -> LoadResult<()> {
    super::drop_temp_table(&stage_table(entity))
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
