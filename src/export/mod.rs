//! sinp_import.export_archive_bytes: the target's rows written as an archive of format 1.0 in the
//! dialect load_archive reads (docs/export.md). Each file is read through a cursor, a batch at a
//! time, and written into the ZIP as it comes: memory holds one batch, not the export.

pub mod output;
pub mod select;

use std::io::{Cursor, Seek, Write};

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

/// Rows fetched from a cursor at a time.
const BATCH: i64 = 10_000;

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
    if options.since.is_some() {
        return Err(LoadError::NotSupported {
            what: "a differential export (since)".into(),
            detail: "Its D rows need the change log that keeps the keys of deleted rows, which this version does not have yet.".into(),
            hint: "Export fully (since => NULL): the receiver's load applies every row as new or as an update.".into(),
        });
    }
    match ArchiveFormat::parse(&options.format) {
        Some(_) => Ok(()),
        None => Err(LoadError::InvalidArgument {
            argument: "format",
            value: options.format.clone(),
            expected: "'zip' or 'tar.bz2'",
        }),
    }
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
    let counts = write_archive(&mut zip, options)?;
    let bytes = zip
        .finish()
        .map_err(io_error("the export's ZIP"))?
        .into_inner();
    Ok((bytes, counts))
}

fn arguments(options: &ExportOptions) -> Vec<DatumWithOid<'static>> {
    vec![
        options.sources.clone().into(),
        options.datasets.clone().into(),
        options.include_restricted.into(),
    ]
}

pub(crate) fn write_archive<W: Write + Seek>(
    zip: &mut ArchiveWriter<W>,
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
    // The ids of the rows that go out, entity by entity: the observations first, then what they
    // name (sql/export.sql).
    for entity in EXPORTED_ORDER {
        let table = select::exported_table(entity_by_name(entity));
        drop_temp_table(&table)?;
        Spi::run_with_args(
            &crate::load::sql::render(
                select::statement(&format!("exported {entity}")),
                &[("restricted", &restricted)],
            ),
            &arguments(options),
        )
        .map_err(spi_error)?;
    }

    let export_date = Spi::get_one::<String>("SELECT to_char(now(), 'YYYY-MM-DD HH24:MI:SS')")
        .map_err(spi_error)?
        .unwrap_or_default();
    let taxref = Spi::get_one::<String>(select::statement("taxref version"))
        .map_err(spi_error)?
        .unwrap_or_default();
    let editor = crate::settings::export_editor().unwrap_or_default();
    let contact = crate::settings::export_contact().unwrap_or_default();
    let notes = format!(
        "Exported by sinp_import {} (full export{}).",
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
        let query = select::rows_query(entity, &target_columns);
        let written = write_rows(&mut *zip, entity.file, &header, &query)?;
        counts.push(ExportedEntity {
            entity: entity.name,
            inserted: written,
            updated: 0,
            deleted: 0,
        });
    }
    // What the additional fields mean, when the providers said it (FORMAT.md §6).
    let described = Spi::get_one::<i64>("SELECT count(*) FROM sinp_import.additional_fields")
        .map_err(spi_error)?
        .unwrap_or(0);
    if described > 0 {
        zip.start_member(ADDITIONAL_FIELDS_FILE)
            .map_err(io_error("the export's ZIP"))?;
        write_rows(
            &mut *zip,
            ADDITIONAL_FIELDS_FILE,
            &["resource", "name", "desc", "keyword", "type", "unity"],
            select::statement("additional fields"),
        )?;
    }
    for entity in EXPORTED_ORDER {
        drop_temp_table(&select::exported_table(entity_by_name(entity)))?;
    }
    Spi::run_with_args(
        "SELECT set_config('jit', $1, true)",
        &[caller_jit.as_str().into()],
    )
    .map_err(spi_error)?;
    Ok(counts)
}

/// Writes the header and the rows of `query` (every column text) to `out`; the rows written.
fn write_rows<W: Write>(out: W, file: &str, header: &[&str], query: &str) -> LoadResult<i64> {
    let mut tsv = TsvWriter::new(out, header).map_err(io_error(file))?;
    let columns = header.len();
    Spi::connect(|client| -> LoadResult<()> {
        let mut cursor = client.try_open_cursor(query, &[]).map_err(spi_error)?;
        loop {
            let batch = cursor.fetch(BATCH).map_err(spi_error)?;
            if batch.is_empty() {
                break;
            }
            let mut values: Vec<Option<String>> = Vec::with_capacity(columns);
            for row in batch {
                values.clear();
                for i in 1..=columns {
                    values.push(row.get::<String>(i).map_err(spi_error)?);
                }
                tsv.write_record(values.iter().map(|v| v.as_deref()))
                    .map_err(io_error(file))?;
            }
            // The batch's tuples are freed now, not when the export ends.
            unsafe { pg_sys::SPI_freetuptable(pg_sys::SPI_tuptable) };
        }
        Ok(())
    })?;
    Ok(tsv.records() as i64)
}
