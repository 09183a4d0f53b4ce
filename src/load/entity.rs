//! One entity file: streamed from the archive through the row converter into its staging table by
//! COPY and checked set-based (src/load/merge.rs then writes it into the target).

use std::collections::HashSet;
use std::io::Read;
use std::sync::mpsc;

use pgrx::pg_sys;
use pgrx::prelude::*;

use super::copy::{copy_into, relation_oid, RowSource};
use super::spi_error;
use super::sql::{render, statements_for};
use super::{EntityCounts, LoadContext};
use crate::error::{LoadError, LoadResult, Problem};
use crate::spec::staging::{quote_ident, StagingLayout};
use crate::spec::Entity;
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
    /// Records read so far, valid or not.
    read: i64,
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
                Ok(true) => {
                    self.read += 1;
                    if self.converter.convert(&self.tsv, self.problems).is_some() {
                        self.converter.write_row(out);
                        return true;
                    }
                    self.rejected += 1;
                    let keys = self.converter.keys_of(&self.tsv);
                    self.rejected_keys.extend(keys);
                }
            }
        }
    }
}

/// The reading thread's stack.
const READER_STACK_BYTES: usize = 16 << 20;

/// COPY text chunks handed from the staging thread to the backend, and how many may wait.
const CHUNK_BYTES: usize = 64 * 1024;
const CHUNKS_IN_FLIGHT: usize = 8;

/// The backend's side of the channel: each chunk is handed to COPY as it is, and the records
/// read so far (sent with it) are reported.
struct Chunks {
    receiver: mpsc::Receiver<(Vec<u8>, i64)>,
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
                Ok((chunk, read)) => {
                    super::progress::count(read, None, "rows", false);
                    break chunk;
                }
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
    super::progress::step(&format!("reading {}", entity.file));

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
        let (sender, receiver) = mpsc::sync_channel::<(Vec<u8>, i64)>(CHUNKS_IN_FLIGHT);
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
                    read: 0,
                    rejected_keys: Vec::new(),
                };
                let mut more = true;
                while more {
                    let mut chunk = Vec::with_capacity(CHUNK_BYTES + 16 * 1024);
                    while more && chunk.len() < CHUNK_BYTES {
                        more = rows.fill(&mut chunk);
                    }
                    // A closed channel means the COPY stopped (an ERROR): nothing more to do.
                    if !chunk.is_empty() && sender.send((chunk, rows.read)).is_err() {
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
    super::progress::step(&format!(
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
    let total = checks.len() as i64;
    for (done, (query, code, column, own_message)) in checks.into_iter().enumerate() {
        super::progress::count(done as i64, Some(total), "checks", true);
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
