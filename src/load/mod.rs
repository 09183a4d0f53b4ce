//! The load of one archive, in one transaction: open, journal, stage and merge every entity file
//! in order, apply deletes in reverse order, redo the replaced triggers' work, journal the outcome.

mod batches;
mod catalog;
mod constraints;
pub mod copy;
mod differential;
pub(crate) mod entity;
pub mod inbox;
pub(crate) mod indexes;
mod input;
mod journal;
pub(crate) mod keys;
mod merge;
mod owner;
mod privileges;
mod progress;
pub mod report;
pub(crate) mod resolver;
pub mod sql;
mod subxact;
pub mod target;
mod triggers;

use pgrx::prelude::*;

use crate::archive::{
    parse_archive_name, parse_meta, Archive, ArchiveName, MetaArchive, ADDITIONAL_DATA_FILES,
    META_FILE, SYNTHESE_FILE,
};
use crate::error::{LoadError, LoadResult, Problem};
use crate::spec::{entity_by_file, Entity, ENTITIES};
use crate::validate::additional_fields::{parse_additional_fields, AdditionalField};
use crate::validate::resolve::Resolver;
use crate::validate::{parse_datetime, DateTime};
use input::{may_read_server_path, open_input, read_denied, ArchiveDigest};
use privileges::{check_journal_privileges, check_lock_privilege, serialise_loads};

/// What to do with invalid rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Any error: nothing is applied.
    Strict,
    /// Invalid rows, and rows that depend on them, are set aside; the rest is applied.
    Lenient,
}

impl Mode {
    pub fn parse(text: &str) -> LoadResult<Mode> {
        match text.trim().to_ascii_lowercase().as_str() {
            "strict" => Ok(Mode::Strict),
            "lenient" => Ok(Mode::Lenient),
            _ => Err(LoadError::InvalidMode {
                mode: text.to_string(),
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Strict => "strict",
            Mode::Lenient => "lenient",
        }
    }
}

/// Where the archive comes from.
pub enum ArchiveInput<'a> {
    /// A file on the database server.
    Path(&'a str),
    /// The archive's bytes, e.g. sent by a client.
    Bytes(&'a [u8]),
}

/// One row of load_archive's result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntityCounts {
    pub entity: &'static str,
    pub inserted: i64,
    pub updated: i64,
    pub deleted: i64,
    pub unchanged: i64,
    pub rejected: i64,
}

#[derive(Debug)]
pub struct LoadOutcome {
    pub import_id: i64,
    pub status: &'static str,
    pub entities: Vec<EntityCounts>,
}

/// State shared by the steps of one load.
pub struct LoadContext {
    pub resolver: Resolver,
    pub problems: Vec<Problem>,
    /// The transaction's timestamp: empty meta dates take it; later dates are in the future.
    pub now: DateTime,
    pub local_srid: i32,
    pub taxref_version: Option<String>,
    /// The file being staged, written or deleted: a refusal of PostgreSQL is reported on it.
    pub current_file: &'static str,
    /// GeoNature's sensitivity triggers were disabled for the load: its rules are applied by the
    /// loader to the written observations.
    pub apply_sensitivity_rules: bool,
    /// D rows the caller may not delete: refused, or set aside as row problems.
    pub unprivileged_deletes: privileges::UnprivilegedDeletes,
    /// The lines of synthese.csv with problems whose observation is known not to be restricted
    /// (import_errors.restricted false); the other lines' raw records are kept from public roles.
    pub unrestricted_lines: std::collections::HashSet<u64>,
}

/// Every SPI failure of a load: an internal error (XX000) naming the failed call.
pub(crate) fn spi_error(e: pgrx::spi::SpiError) -> LoadError {
    LoadError::internal(format!("SPI: {e}"))
}

fn synthese_entity() -> &'static Entity {
    entity_by_file(SYNTHESE_FILE).expect("the field tables describe synthese.csv")
}

/// Drops a TEMP table of this session if it exists (without the NOTICE of DROP ... IF EXISTS). The
/// load's TEMP tables are read as a target table's owner (owner.rs): one the caller made before
/// the load under the same name, a view say, is refused rather than used.
pub fn drop_temp_table(name: &str) -> LoadResult<()> {
    let kind = Spi::get_one_with_args::<String>(
        "SELECT (SELECT c.relkind::text FROM pg_catalog.pg_class AS c
                  WHERE c.oid = pg_catalog.to_regclass($1)
                    AND c.relnamespace = pg_catalog.pg_my_temp_schema())",
        &[name.into()],
    )
    .map_err(spi_error)?;
    match kind.as_deref() {
        None => Ok(()),
        Some("r") => Spi::run(&format!("DROP TABLE {name}")).map_err(spi_error),
        Some(_) => Err(LoadError::internal(format!(
            "this session has a TEMP object {name} that is not a table: drop it, then load again"
        ))),
    }
}

/// Now, in UTC, as sinp_import.progress reads it: when the load (within load_inbox, this
/// archive's load) began, give or take the journal's first write.
fn call_started() -> LoadResult<String> {
    Spi::get_one::<String>(
        "SELECT pg_catalog.to_char(pg_catalog.clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'",
    )
    .map_err(spi_error)
    .map(Option::unwrap_or_default)
}

/// The transaction timestamp, as the archives write dates.
fn transaction_now() -> LoadResult<DateTime> {
    let text = Spi::get_one::<String>("SELECT to_char(localtimestamp, 'YYYY-MM-DD HH24:MI:SS.US')")
        .map_err(spi_error)?
        .unwrap_or_default();
    parse_datetime(&text).map_err(|e| LoadError::internal(format!("now(): {}", e.message)))
}

fn local_srid() -> LoadResult<i32> {
    Spi::get_one::<i32>("SELECT public.Find_SRID('gn_synthese', 'synthese', 'the_geom_local')")
        .map_err(|_| LoadError::TargetMissing {
            table: "gn_synthese.synthese".into(),
        })?
        .ok_or(LoadError::TargetMissing {
            table: "gn_synthese.synthese".into(),
        })
}

/// An archive opened and its archive-level checks done.
struct Opened<'a> {
    archive: Archive<'a>,
    sha256: String,
    size: i64,
    meta: MetaArchive,
    name: Option<ArchiveName>,
    problems: Vec<Problem>,
    /// Entity files present, in processing order.
    present: Vec<&'static Entity>,
    /// The valid rows of meta_additional_data.csv, and the problems of the others: row problems,
    /// which do not stop the entities' load as the archive's own problems do.
    additional_fields: (Vec<AdditionalField>, Vec<Problem>),
}

/// Opens the archive (usage errors are errors) and checks what can be checked without the
/// database: members, meta_archive.ini, the archive's name (data problems are problems).
fn open_archive<'a>(
    input: &ArchiveInput<'a>,
    archive_name: &str,
    digest: ArchiveDigest,
) -> LoadResult<Opened<'a>> {
    let (reader, sha256, size) = open_input(input, digest)?;
    let mut archive = Archive::open(archive_name, reader, crate::settings::archive_limits())?;
    let mut problems = Vec::new();
    for required in [META_FILE, SYNTHESE_FILE] {
        if !archive.has(required) {
            problems.push(Problem::error(
                required,
                "MISSING_FILE",
                format!("the archive has no {required}; every SINP archive must contain it"),
            ));
        }
    }
    let known = |m: &str| {
        m == META_FILE || entity_by_file(m).is_some() || ADDITIONAL_DATA_FILES.contains(&m)
    };
    for member in archive.member_names() {
        if !known(member) {
            problems.push(
                Problem::warning(
                    archive_name,
                    "UNKNOWN_FILE",
                    format!("member \"{member}\" is not part of the format; ignored"),
                )
                .with_value(member),
            );
        }
    }
    let meta = match archive.read_member_text(META_FILE)? {
        Some(text) => {
            let (meta, meta_problems) = parse_meta(&text);
            problems.extend(meta_problems);
            meta
        }
        None => MetaArchive::default(),
    };
    let additional_fields = read_additional_fields(&mut archive)?;
    let name = parse_archive_name(archive_name);
    if name.is_none() {
        problems.push(Problem::warning(
            archive_name,
            "ARCHIVE_NAME_NONSTANDARD",
            "the name does not follow YYYY-MM-DD_sinp_<region>_<provider>.zip; date, region and provider are not recorded",
        ));
    }
    let present = ENTITIES
        .iter()
        .copied()
        .filter(|e| archive.has(e.file))
        .collect();
    Ok(Opened {
        archive,
        sha256,
        size,
        meta,
        name,
        problems,
        present,
        additional_fields,
    })
}

/// The description of additional fields, streamed from the first of its two names the archive
/// has; a second one is reported and ignored.
fn read_additional_fields(
    archive: &mut Archive,
) -> LoadResult<(Vec<AdditionalField>, Vec<Problem>)> {
    let mut present = ADDITIONAL_DATA_FILES.iter().filter(|m| archive.has(m));
    let Some(file) = present.next() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let mut problems = Vec::new();
    for ignored in present {
        problems.push(
            Problem::warning(
                ignored,
                "DUPLICATE_FILE",
                format!(
                    "the archive also has {file}, which is the one read; this member is ignored"
                ),
            )
            .with_value(ignored),
        );
    }
    let tripwire = archive.tripwire();
    let member = archive
        .open_member(file)?
        .expect("present members can be opened");
    let (fields, file_problems) = parse_additional_fields(file, member);
    if let Some(limit) = crate::sync::locked(&tripwire).take() {
        return Err(limit);
    }
    problems.extend(file_problems);
    Ok((fields, problems))
}

/// Stores the archive's description of additional fields, keyed by its provider.
fn store_additional_fields(
    fields: &[AdditionalField],
    provider: &str,
    import_id: i64,
) -> LoadResult<()> {
    if fields.is_empty() {
        return Ok(());
    }
    progress::step(&format!("{} additional field(s) described", fields.len()));
    let json = serde_json::to_string(fields)
        .map_err(|e| LoadError::internal(format!("additional fields: {e}")))?;
    Spi::run_with_args(
        sql::statement("additional fields").expect("sql/merge.sql has additional fields"),
        &[provider.into(), import_id.into(), json.as_str().into()],
    )
    .map_err(spi_error)
}

fn new_context(
    problems: Vec<Problem>,
    meta: &MetaArchive,
    unprivileged_deletes: privileges::UnprivilegedDeletes,
) -> LoadResult<LoadContext> {
    Ok(LoadContext {
        resolver: Resolver::default(),
        problems,
        now: transaction_now()?,
        local_srid: local_srid()?,
        taxref_version: meta.get("taxref_version").map(str::to_string),
        current_file: SYNTHESE_FILE,
        apply_sensitivity_rules: false,
        unprivileged_deletes,
        unrestricted_lines: Default::default(),
    })
}

/// Checks an archive completely, as a load would, and undoes everything: the problems found.
pub fn validate_archive(input: ArchiveInput, archive_name: &str) -> LoadResult<Vec<Problem>> {
    let Opened {
        mut archive,
        meta,
        problems,
        present,
        additional_fields: (_, description_problems),
        ..
    } = open_archive(&input, archive_name, ArchiveDigest::None)?;
    // A validation stages and merges like a load (then rolls back): it waits for running loads.
    serialise_loads()?;
    let _tracking = progress::track("validate_archive", None, archive_name, call_started()?);
    let mut ctx = new_context(problems, &meta, privileges::UnprivilegedDeletes::SetAside)?;
    let archive_failed = ctx.problems.iter().any(Problem::is_error);
    ctx.problems.extend(description_problems);
    let outcome = subxact::run(
        || {
            if !archive_failed {
                apply(&mut ctx, &mut archive, &present, Apply::CheckOnly)?;
            }
            Ok(())
        },
        |_: &LoadResult<()>| false,
    );
    match outcome {
        Err(refused @ LoadError::TargetRefused { .. }) => ctx
            .problems
            .push(differential::refusal_problem(&refused, ctx.current_file)),
        other => other?,
    }
    Ok(ctx.problems)
}

/// Loads an archive; see DESIGN.md §1 for the contract.
pub fn load_archive(
    input: ArchiveInput,
    archive_name: &str,
    mode: &str,
    dry_run: bool,
) -> LoadResult<LoadOutcome> {
    let mode = Mode::parse(mode)?;
    // Who may do what, before anything is read: the server file, the extension's lock and
    // journal, and the observations every archive writes (a role that may only read is refused
    // here); the tables of the archive's other files once its members are known.
    if let ArchiveInput::Path(path) = &input {
        if !may_read_server_path(path)? {
            return Err(read_denied(path));
        }
    }
    check_lock_privilege()?;
    check_journal_privileges()?;
    privileges::check_writer(&[synthese_entity()])?;
    let Opened {
        mut archive,
        sha256,
        size,
        meta,
        name,
        problems,
        present,
        additional_fields: (additional_fields, description_problems),
    } = open_archive(&input, archive_name, ArchiveDigest::Sha256)?;
    // Loads are serialised; readers of the targets are never blocked.
    serialise_loads()?;
    privileges::check_writer(&present)?;

    let already = Spi::get_one_with_args::<i64>(
        "SELECT (SELECT import_id FROM sinp_import.imports
                  WHERE sha256 = $1 AND status IN ('applied', 'applied_with_errors')
                  ORDER BY import_id LIMIT 1)",
        &[sha256.as_str().into()],
    )
    .map_err(spi_error)?;

    let import_id = journal::start(&journal::ImportStart {
        archive_name,
        sha256: &sha256,
        size_bytes: size,
        name: name.as_ref(),
        meta: &meta,
        mode: mode.as_str(),
        dry_run,
    })?;
    let _tracking = progress::track(
        "load_archive",
        Some(import_id),
        archive_name,
        call_started()?,
    );
    if let Some(previous) = already {
        pgrx::notice!("sinp_import: archive already applied by import {previous}; nothing done");
        let counts: Vec<EntityCounts> = present
            .iter()
            .map(|e| EntityCounts {
                entity: e.name,
                ..EntityCounts::default()
            })
            .collect();
        journal::finish(
            import_id,
            "already_loaded",
            &counts,
            &[],
            &Default::default(),
        )?;
        return Ok(LoadOutcome {
            import_id,
            status: "already_loaded",
            entities: counts,
        });
    }
    let unprivileged_deletes = match mode {
        Mode::Strict => privileges::UnprivilegedDeletes::Refuse,
        Mode::Lenient => privileges::UnprivilegedDeletes::SetAside,
    };
    let mut ctx = new_context(problems, &meta, unprivileged_deletes)?;
    // The archive's own problems (a member missing, meta_archive.ini) stop the load of every
    // entity: rejected in any mode.
    let archive_failed = ctx.problems.iter().any(Problem::is_error);
    ctx.problems.extend(description_problems);
    // The work runs in a subtransaction: kept when applied, rolled back for a dry run or a
    // strict rejection, while the journal row above stays.
    let outcome = subxact::run(
        || {
            if archive_failed {
                let counts = present
                    .iter()
                    .map(|e| EntityCounts {
                        entity: e.name,
                        ..EntityCounts::default()
                    })
                    .collect();
                return Ok((counts, true));
            }
            let counts = apply(&mut ctx, &mut archive, &present, Apply::Write)?;
            let provider = name.as_ref().map_or(archive_name, |n| n.provider.as_str());
            store_additional_fields(&additional_fields, provider, import_id)?;
            Ok((counts, ctx.problems.iter().any(Problem::is_error)))
        },
        |result: &LoadResult<(Vec<EntityCounts>, bool)>| match result {
            Ok((_, errors)) => !(dry_run || (mode == Mode::Strict && *errors)),
            Err(_) => false,
        },
    );
    // A write PostgreSQL refused (a constraint the checks did not foresee) undid the whole
    // archive: journaled as a problem of the file being written, rejected in any mode.
    let (mut counts, errors, refused) = match outcome {
        Err(refused @ LoadError::TargetRefused { .. }) => {
            ctx.problems
                .push(differential::refusal_problem(&refused, ctx.current_file));
            let counts = present
                .iter()
                .map(|e| EntityCounts {
                    entity: e.name,
                    ..EntityCounts::default()
                })
                .collect();
            (counts, true, true)
        }
        other => {
            let (counts, errors) = other?;
            (counts, errors, false)
        }
    };
    let status = match (dry_run, errors, mode) {
        (_, _, _) if refused => "rejected",
        (true, _, _) => "dry_run",
        (false, false, _) => "applied",
        (false, true, Mode::Lenient) if !archive_failed => "applied_with_errors",
        (false, true, _) => "rejected",
    };
    if status == "rejected" {
        // Nothing was applied: only the rows found invalid are counted.
        for c in &mut counts {
            *c = EntityCounts {
                entity: c.entity,
                rejected: c.rejected,
                ..EntityCounts::default()
            };
        }
    }
    journal::finish(
        import_id,
        status,
        &counts,
        &ctx.problems,
        &ctx.unrestricted_lines,
    )?;
    summarise(import_id, status, &ctx.problems);
    Ok(LoadOutcome {
        import_id,
        status,
        entities: counts,
    })
}

/// Whether the staged rows are written to the targets (a load, a dry run) or only checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Apply {
    Write,
    CheckOnly,
}

/// Stages (and, to write, merges) every entity in order, then applies the deletes in reverse order.
fn apply(
    ctx: &mut LoadContext,
    archive: &mut Archive,
    present: &[&'static Entity],
    how: Apply,
) -> LoadResult<Vec<EntityCounts>> {
    resolver::load_nomenclatures(&mut ctx.resolver)?;
    // JIT compiles the large statements for nothing: 5 % of a load's time in the profile
    // (docs/benchmarks.md). The caller's setting comes back at the end of the load.
    let caller_jit = Spi::get_one::<String>("SELECT current_setting('jit')")
        .map_err(spi_error)?
        .unwrap_or_else(|| "on".to_string());
    Spi::run("SELECT set_config('jit', 'off', true)").map_err(spi_error)?;
    let disabled = match how {
        Apply::Write => Some(triggers::disable()?),
        Apply::CheckOnly => None,
    };
    ctx.apply_sensitivity_rules = disabled.as_ref().is_some_and(|d| {
        triggers::SENSITIVITY_TRIGGERS
            .iter()
            .any(|name| d.includes(name))
    });
    // GeoNature's triggers give an observation that no rule covers code 0 ("not sensitive"); in
    // their place, one the archive leaves without sensitivity is staged with it, unless the
    // database has a default of its own.
    if ctx.apply_sensitivity_rules && !ctx.resolver.synthese_defaults.contains_key("SENSIBILITE") {
        if let Ok(not_sensitive) = ctx.resolver.nomenclature("SENSIBILITE", "0") {
            ctx.resolver
                .synthese_defaults
                .insert("SENSIBILITE".to_string(), not_sensitive);
        }
    }
    // Made afresh by each load: nothing of it is the caller's (it is read as tables' owners).
    drop_temp_table("pg_temp.sinp_written")?;
    Spi::run(sql::statement("written").expect("sql/merge.sql has written")).map_err(spi_error)?;
    let mut staged_entities = Vec::new();
    let mut counts = Vec::new();
    for entity in present.iter().copied() {
        ctx.current_file = entity.file;
        resolver::refresh_links(&mut ctx.resolver)?;
        let tripwire = archive.tripwire();
        let member = archive
            .open_member(entity.file)?
            .expect("present members can be opened");
        let staged = entity::stage(ctx, entity, member, how == Apply::CheckOnly)?;
        if let Some(limit) = crate::sync::locked(&tripwire).take() {
            return Err(limit);
        }
        attach_raw_records(archive, entity.file, &mut ctx.problems)?;
        match staged {
            Some(mut staged) => {
                // Before the invalid rows leave the staging table: which of them are not
                // restricted observations (their problems' raw records may be shown).
                note_unrestricted_lines(ctx, &staged, how)?;
                entity::set_aside_invalid(ctx, &mut staged)?;
                match how {
                    Apply::Write => merge::merge(ctx, &mut staged)?,
                    Apply::CheckOnly => entity::register_staged_keys(ctx, &staged)?,
                }
                staged_entities.push(staged);
            }
            // The file's header is unusable: reported, nothing of it staged.
            None => counts.push(EntityCounts {
                entity: entity.name,
                ..EntityCounts::default()
            }),
        }
    }
    // D rows in reverse entity order, those of rows still referenced refused first; a validation
    // only checks them.
    for staged in staged_entities.iter_mut().rev() {
        ctx.current_file = staged.entity.file;
        privileges::check_deletes(ctx, staged)?;
        differential::refuse_referenced_deletes(ctx, staged)?;
        if how == Apply::Write {
            merge::delete(staged)?;
        }
    }
    for staged in &staged_entities {
        attach_raw_records(archive, staged.entity.file, &mut ctx.problems)?;
        note_unrestricted_lines(ctx, staged, how)?;
    }
    if let Some(disabled) = disabled {
        merge::log_written()?;
        disabled.enable()?;
    }
    for staged in &staged_entities {
        entity::drop_stage(staged.entity)?;
    }
    // Dropped, not kept for the session: the next load may run as another role (SET ROLE), which
    // could neither read nor drop a table of this one.
    drop_temp_table("pg_temp.sinp_written")?;
    Spi::run_with_args(
        "SELECT set_config('jit', $1, true)",
        &[caller_jit.as_str().into()],
    )
    .map_err(spi_error)?;
    counts.extend(staged_entities.into_iter().map(|s| s.counts));
    // Results in processing order.
    counts.sort_by_key(|c| ENTITIES.iter().position(|e| e.name == c.entity));
    Ok(counts)
}

/// Adds to ctx.unrestricted_lines the lines of synthese.csv with problems, still staged, whose
/// observation is not restricted (a load journals them; a validation does not).
fn note_unrestricted_lines(
    ctx: &mut LoadContext,
    staged: &entity::StagedEntity,
    how: Apply,
) -> LoadResult<()> {
    if staged.entity.file != SYNTHESE_FILE || how != Apply::Write {
        return Ok(());
    }
    let lines = journal::unrestricted_lines(staged.entity, &ctx.problems, &ctx.unrestricted_lines)?;
    ctx.unrestricted_lines.extend(lines);
    Ok(())
}

/// Problems found set-based (on the staging table) know their line but not the record's text: one
/// more streaming pass over the file, only when there are such problems, attaches it.
fn attach_raw_records(
    archive: &mut Archive,
    file: &str,
    problems: &mut [Problem],
) -> LoadResult<()> {
    let mut wanted: Vec<u64> = problems
        .iter()
        .filter(|p| p.file == file && p.raw_record.is_none())
        .filter_map(|p| p.line.filter(|&l| l > 1))
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    wanted.sort_unstable();
    wanted.dedup();
    let Some(member) = archive.open_member(file)? else {
        return Ok(());
    };
    let Ok(mut tsv) = crate::tsv::TsvReader::with_max_record_bytes(
        file,
        member,
        crate::settings::max_record_bytes(),
    ) else {
        return Ok(());
    };
    let mut raw = std::collections::HashMap::new();
    while let Ok(true) = tsv.next_record() {
        // One more pass over a file that may be large: a cancel must not wait for its end.
        pgrx::check_for_interrupts!();
        if wanted.binary_search(&tsv.line()).is_ok() {
            raw.insert(tsv.line(), tsv.raw_record());
            if raw.len() == wanted.len() {
                break;
            }
        }
    }
    for p in problems
        .iter_mut()
        .filter(|p| p.file == file && p.raw_record.is_none())
    {
        if let Some(text) = p.line.and_then(|l| raw.get(&l)) {
            p.raw_record = Some(crate::error::bounded(text));
        }
    }
    Ok(())
}

/// One WARNING with the number of problems and the first ones (all are in import_errors).
fn summarise(import_id: i64, status: &str, problems: &[Problem]) {
    if problems.is_empty() {
        return;
    }
    let errors = problems.iter().filter(|p| p.is_error()).count();
    let warnings = problems.len() - errors;
    let first: Vec<String> = problems
        .iter()
        .filter(|p| p.is_error() || errors == 0)
        .take(3)
        .map(|p| format!("  {p}"))
        .collect();
    pgrx::warning!(
        "sinp_import: import {import_id} {status}: {errors} error(s), {warnings} warning(s); see sinp_import.import_errors\n{}",
        first.join("\n")
    );
}

#[cfg(test)]
mod problem_codes {
    /// Every code the code base can report is explained in docs/errors.md.
    #[test]
    fn every_problem_code_is_documented() {
        let docs = include_str!("../../docs/errors.md");
        let nomenclature_types = include_str!("../../data/nomenclatures/nomenclature_types.tsv");
        let sources = [
            include_str!("../../core/src/validate/mod.rs"),
            include_str!("../../core/src/validate/row.rs"),
            include_str!("../../core/src/validate/resolve.rs"),
            include_str!("../../core/src/validate/geometry.rs"),
            include_str!("../../core/src/validate/array.rs"),
            include_str!("../../core/src/tsv/mod.rs"),
            include_str!("../../core/src/archive/meta.rs"),
            include_str!("../../core/src/archive/mod.rs"),
            include_str!("../../core/src/validate/additional_fields.rs"),
            include_str!("mod.rs"),
            include_str!("entity.rs"),
            include_str!("differential.rs"),
            include_str!("constraints.rs"),
            include_str!("privileges.rs"),
            include_str!("../../core/src/spec/mod.rs"),
        ];
        let mut codes = std::collections::BTreeSet::new();
        for source in sources {
            // Codes are string literals of capitals and underscores: "INVALID_UUID" (tests aside).
            let code = source.split("#[cfg(test)]").next().unwrap();
            for (i, literal) in code.split('"').enumerate() {
                let is_code = i % 2 == 1
                    && literal.len() >= 8
                    && literal.contains('_')
                    && literal.chars().all(|c| c.is_ascii_uppercase() || c == '_');
                let is_nomenclature_type = nomenclature_types
                    .lines()
                    .any(|l| l.split('\t').nth(1) == Some(literal));
                if is_code && !is_nomenclature_type {
                    codes.insert(literal.to_string());
                }
            }
        }
        for line in include_str!("../../sql/merge.sql").lines() {
            if let Some(check) = line.strip_prefix("-- name: check ") {
                codes.insert(check.split_whitespace().nth(1).unwrap().to_string());
            }
        }
        assert!(codes.len() > 40, "{codes:?}");
        let missing: Vec<_> = codes
            .iter()
            .filter(|c| !docs.contains(&format!("`{c}`")))
            .collect();
        assert!(missing.is_empty(), "not in docs/errors.md: {missing:?}");
    }
}
