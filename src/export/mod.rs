//! sinp_import.export_archive_bytes: the target's rows written as an archive of format 1.0 in the
//! dialect load_archive reads (docs/export.md). Each file's rows are written into the archive as
//! the executor makes them (export/rows.rs): memory holds one row, not the export.

pub mod output;
pub mod pipeline;
pub mod rows;
pub mod select;

use std::io::{Cursor, Write};

use crate::archive::write::{meta_archive_ini, ArchiveFormat, ArchiveWriter};
use crate::error::{LoadError, LoadResult};
use crate::load::{drop_temp_table, spi_error};
use crate::spec::ENTITIES;
use crate::tsv::write::TsvWriter;
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;

/// The order the TEMP tables of exported ids are made in: each reads those before it.
const EXPORTED_ORDER: [&str; 6] = [
    "synthese",
    "dataset",
    "acquisition_framework",
    "user",
    "organism",
    "source",
];

fn entity_by_name(name: &str) -> &'static crate::spec::Entity {
    ENTITIES
        .iter()
        .copied()
        .find(|e| e.name == name)
        .expect("the field tables describe every exported entity")
}

/// The description of the additional fields (FORMAT.md §6).
const ADDITIONAL_FIELDS_FILE: &str = "meta_additional_data.csv";

/// What goes out.
pub struct ExportOptions {
    pub since: Option<pgrx::datum::TimestampWithTimeZone>,
    pub sources: Option<Vec<String>>,
    pub datasets: Option<Vec<pgrx::Uuid>>,
    pub include_restricted: bool,
    pub format: String,
}

/// The rows written of one file.
pub struct ExportedEntity {
    pub entity: &'static str,
    pub inserted: i64,
    pub updated: i64,
    pub deleted: i64,
}

fn io_error(what: &str) -> impl Fn(std::io::Error) -> LoadError + '_ {
    move |e| LoadError::Io {
        what: what.to_string(),
        detail: e.to_string(),
    }
}

pub(crate) fn check_options(options: &ExportOptions) -> LoadResult<()> {
    match ArchiveFormat::parse(&options.format) {
        Some(_) => Ok(()),
        None => Err(LoadError::InvalidArgument {
            argument: "format",
            value: options.format.clone(),
            expected: "'zip' or 'tar.bz2'",
        }),
    }
}

/// A differential export needs the change log on every table, begun before `since`.
fn check_change_log(since: pgrx::datum::TimestampWithTimeZone) -> LoadResult<()> {
    let (missing, start, before) = Spi::connect(|client| {
        let row = client
            .select(
                select::statement("change log start"),
                Some(1),
                &[since.into()],
            )
            .map_err(spi_error)?
            .first();
        Ok::<_, LoadError>((
            row.get::<i64>(1).map_err(spi_error)?.unwrap_or(0),
            row.get::<String>(2).map_err(spi_error)?,
            row.get::<bool>(3).map_err(spi_error)?.unwrap_or(false),
        ))
    })?;
    if missing > 0 {
        return Err(LoadError::ChangeLog {
            message: "a differential export (since) needs the change log, which is not installed".into(),
            detail: format!("{missing} of the tables whose rows go out have no change log: what changed there since that time is not known."),
            hint: "Install it as the tables' owner (SELECT sinp_import.log_changes();), export fully once, then differentially from that export's next_since.".into(),
            before_start: false,
        });
    }
    if before {
        return Err(LoadError::ChangeLog {
            message: "since is earlier than the change log's start".into(),
            detail: format!(
                "The change log records changes since {}: what changed before is not known.",
                start.unwrap_or_default()
            ),
            hint: "Export fully (since => NULL), or since a later time (an export's next_since in sinp_import.exports).".into(),
            before_start: true,
        });
    }
    Ok(())
}

impl ExportOptions {
    pub(crate) fn archive_format(&self) -> ArchiveFormat {
        ArchiveFormat::parse(&self.format).unwrap_or(ArchiveFormat::Zip)
    }
}

/// The export as the bytes of an archive, and its row counts per file.
pub fn export_bytes(options: &ExportOptions) -> LoadResult<(Vec<u8>, Vec<ExportedEntity>)> {
    check_options(options)?;
    let mut zip = ArchiveWriter::with_format(Cursor::new(Vec::new()), options.archive_format());
    let counts = pipeline::with_writing_thread(&mut zip, |out| write_archive(out, options))?;
    let bytes = zip
        .finish()
        .map_err(io_error("the export's ZIP"))?
        .into_inner();
    Ok((bytes, counts))
}

/// The statements' parameters (sql/export.sql): $1 sources, $2 datasets, $3 whether restricted
/// observations go out, $4 since, $5 the entity.
fn arguments(options: &ExportOptions, entity: &str) -> Vec<DatumWithOid<'static>> {
    vec![
        options.sources.clone().into(),
        options.datasets.clone().into(),
        options.include_restricted.into(),
        options.since.into(),
        entity.to_string().into(),
    ]
}

pub(crate) fn write_archive(
    zip: &mut pipeline::Pipeline,
    options: &ExportOptions,
) -> LoadResult<Vec<ExportedEntity>> {
    // The export's statements are costed high (60 text columns a row) and would be compiled by
    // JIT first, for seconds; they run without it, as COPY would.
    let caller_jit = Spi::get_one::<String>("SELECT current_setting('jit')")
        .map_err(spi_error)?
        .unwrap_or_else(|| "on".into());
    Spi::run("SELECT set_config('jit', 'off', true)").map_err(spi_error)?;
    let restricted = Spi::get_one::<String>("SELECT sinp_import.restricted_condition('t')")
        .map_err(spi_error)?
        .unwrap_or_else(|| "true".into());
    if let Some(since) = options.since {
        check_change_log(since)?;
    }
    let differential = options.since.is_some();
    for entity in EXPORTED_ORDER {
        drop_temp_table(&select::exported_table(entity_by_name(entity)))?;
        drop_temp_table(&select::scope_table(entity_by_name(entity)))?;
    }
    // The ids of the rows a full export carries, entity by entity: the observations first, then
    // what they name (sql/export.sql).
    for entity in EXPORTED_ORDER {
        Spi::run_with_args(
            &crate::load::sql::render(
                select::statement(&format!("exported {entity}")),
                &[("restricted", &restricted)],
            ),
            &arguments(options, entity),
        )
        .map_err(spi_error)?;
    }
    // A differential's: of those, what changed since, and what that names.
    if differential {
        for entity in EXPORTED_ORDER {
            let entity = entity_by_name(entity);
            Spi::run(&crate::load::sql::render(
                select::statement("scope"),
                &[
                    ("exported", &select::exported_table(entity)),
                    ("scope", &select::scope_table(entity)),
                ],
            ))
            .map_err(spi_error)?;
        }
        for entity in EXPORTED_ORDER {
            Spi::run_with_args(
                &select::differential_statement(entity_by_name(entity), &restricted),
                &arguments(options, entity),
            )
            .map_err(spi_error)?;
        }
    }

    let export_date = Spi::get_one::<String>("SELECT to_char(now(), 'YYYY-MM-DD HH24:MI:SS')")
        .map_err(spi_error)?
        .unwrap_or_default();
    let taxref = Spi::get_one::<String>(select::statement("taxref version"))
        .map_err(spi_error)?
        .unwrap_or_default();
    let editor = crate::settings::export_editor().unwrap_or_default();
    let contact = crate::settings::export_contact().unwrap_or_default();
    let since_text = match options.since {
        Some(since) => Spi::get_one_with_args::<String>(
            "SELECT to_char($1, 'YYYY-MM-DD HH24:MI:SS.US TZH:TZM')",
            &[since.into()],
        )
        .map_err(spi_error)?
        .unwrap_or_default(),
        None => String::new(),
    };
    let kind = if differential {
        format!("differential export of the changes since {since_text}")
    } else {
        "full export".to_string()
    };
    let notes = format!(
        "Exported by sinp_import {} ({kind}{}).",
        env!("CARGO_PKG_VERSION"),
        if options.include_restricted {
            ", restricted observations included"
        } else {
            ", restricted observations left out"
        }
    );
    let mut meta = vec![
        ("format_version", "1.0"),
        ("export_date", export_date.as_str()),
    ];
    if !taxref.is_empty() {
        meta.push(("taxref_version", taxref.as_str()));
    }
    if !editor.is_empty() {
        meta.push(("editor", editor.as_str()));
    }
    if !contact.is_empty() {
        meta.push(("contact", contact.as_str()));
    }
    meta.push(("notes", notes.as_str()));
    zip.start_member(crate::archive::META_FILE)
        .map_err(io_error("the export's ZIP"))?;
    zip.write_all(meta_archive_ini(&meta).as_bytes())
        .map_err(io_error("meta_archive.ini"))?;

    let mut counts = Vec::new();
    for entity in ENTITIES {
        zip.start_member(entity.file)
            .map_err(io_error("the export's ZIP"))?;
        let header = select::header(entity);
        let target_columns = crate::load::resolver::table_columns(&entity.qualified_table())?
            .ok_or_else(|| LoadError::TargetMissing {
                table: entity.qualified_table(),
            })?;
        let action = entity
            .fields
            .iter()
            .position(|f| matches!(f.role, crate::spec::Role::Action(_)));
        let mut tsv = TsvWriter::new(&mut *zip, &header).map_err(io_error(entity.file))?;
        let mut written = ActionCounts::default();
        let query = select::rows_query(entity, &target_columns, differential);
        write_rows(&mut tsv, entity.file, &query, &[], action, &mut written)?;
        if differential {
            // Its D rows, after the I and U rows.
            let mut queries = vec![select::deleted_query(entity, "deleted rows")];
            if entity.name == "synthese" {
                queries.push(select::deleted_query(entity, "withdrawn rows"));
            }
            for query in queries {
                let args = arguments(options, entity.name);
                write_rows(&mut tsv, entity.file, &query, &args, action, &mut written)?;
            }
        }
        counts.push(ExportedEntity {
            entity: entity.name,
            inserted: written.inserted,
            updated: written.updated,
            deleted: written.deleted,
        });
    }
    // What the additional fields mean, when the providers said it (FORMAT.md §6).
    let described = Spi::get_one::<i64>("SELECT count(*) FROM sinp_import.additional_fields")
        .map_err(spi_error)?
        .unwrap_or(0);
    if described > 0 {
        zip.start_member(ADDITIONAL_FIELDS_FILE)
            .map_err(io_error("the export's ZIP"))?;
        let mut tsv = TsvWriter::new(
            &mut *zip,
            &["resource", "name", "desc", "keyword", "type", "unity"],
        )
        .map_err(io_error(ADDITIONAL_FIELDS_FILE))?;
        write_rows(
            &mut tsv,
            ADDITIONAL_FIELDS_FILE,
            select::statement("additional fields"),
            &[],
            None,
            &mut ActionCounts::default(),
        )?;
    }
    for entity in EXPORTED_ORDER {
        drop_temp_table(&select::exported_table(entity_by_name(entity)))?;
        drop_temp_table(&select::scope_table(entity_by_name(entity)))?;
    }
    Spi::run_with_args(
        "SELECT set_config('jit', $1, true)",
        &[caller_jit.as_str().into()],
    )
    .map_err(spi_error)?;
    Ok(counts)
}

/// The records written of one file, per action.
#[derive(Default)]
struct ActionCounts {
    inserted: i64,
    updated: i64,
    deleted: i64,
}

/// Writes the rows of `query` (every column text, in the file's order) to `tsv`, counting them
/// by the action in column `action`. The executor hands each row over as it makes it
/// (export/rows.rs): memory holds one row.
fn write_rows<W: Write>(
    tsv: &mut TsvWriter<W>,
    file: &str,
    query: &str,
    args: &[DatumWithOid],
    action: Option<usize>,
    counts: &mut ActionCounts,
) -> LoadResult<()> {
    let mut sink = |values: &[Option<&[u8]>]| -> std::io::Result<()> {
        match action.and_then(|i| values.get(i).copied().flatten()) {
            Some(b"D") => counts.deleted += 1,
            Some(b"U") => counts.updated += 1,
            _ => counts.inserted += 1,
        }
        tsv.write_record_bytes(values.iter().copied())
    };
    rows::send_rows(query, args, file, &mut sink)
}
