//! The import journal: sinp_import.imports (one row per call) and sinp_import.import_errors.

use pgrx::prelude::*;

use std::collections::HashSet;

use super::copy::{copy_into, relation_oid, RowSource};
use super::entity::stage_table;
use super::spi_error;
use super::EntityCounts;
use crate::archive::{ArchiveName, MetaArchive, SYNTHESE_FILE};
use crate::error::{LoadError, LoadResult, Problem};
use crate::spec::staging::escape_copy_text;
use crate::spec::Entity;

pub struct ImportStart<'a> {
    pub archive_name: &'a str,
    pub sha256: &'a str,
    pub size_bytes: i64,
    pub name: Option<&'a ArchiveName>,
    pub meta: &'a MetaArchive,
    pub mode: &'a str,
    pub dry_run: bool,
}

/// Inserts the journal row of this call; returns its import_id.
pub fn start(s: &ImportStart) -> LoadResult<i64> {
    let meta = |k: &str| s.meta.get(k).map(str::to_string);
    Spi::get_one_with_args::<i64>(
        "INSERT INTO sinp_import.imports
             (archive_name, sha256, size_bytes, archive_date, region, provider,
              format_version, export_date, taxref_version, habref_version, editor, contact, notes,
              meta, mode, dry_run)
         VALUES ($1, $2, $3, $4::date, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15, $16)
         RETURNING import_id",
        &[
            s.archive_name.into(),
            s.sha256.into(),
            s.size_bytes.into(),
            s.name.map(|n| n.date.clone()).into(),
            s.name.map(|n| n.region.clone()).into(),
            s.name.map(|n| n.provider.clone()).into(),
            meta("format_version").into(),
            meta("export_date").into(),
            meta("taxref_version").into(),
            meta("habref_version").into(),
            meta("editor").into(),
            meta("contact").into(),
            meta("notes").into(),
            s.meta.to_json().to_string().into(),
            s.mode.into(),
            s.dry_run.into(),
        ],
    )
    .map_err(spi_error)?
    .ok_or_else(|| LoadError::internal("the journal row was not created"))
}

/// Records the outcome, the counts and every problem.
pub fn finish(
    import_id: i64,
    status: &str,
    counts: &[EntityCounts],
    problems: &[Problem],
    unrestricted_lines: &HashSet<u64>,
) -> LoadResult<()> {
    let total = |f: fn(&EntityCounts) -> i64| counts.iter().map(f).sum::<i64>();
    let per_entity: serde_json::Map<String, serde_json::Value> = counts
        .iter()
        .map(|c| {
            (
                c.entity.to_string(),
                serde_json::json!({
                    "inserted": c.inserted, "updated": c.updated, "deleted": c.deleted,
                    "unchanged": c.unchanged, "rejected": c.rejected
                }),
            )
        })
        .collect();
    let errors = problems.iter().filter(|p| p.is_error()).count() as i64;
    let warnings = problems.len() as i64 - errors;
    Spi::run_with_args(
        "UPDATE sinp_import.imports
            SET status = $2, inserted = $3, updated = $4, deleted = $5, unchanged = $6,
                rejected = $7, entity_counts = $8::jsonb, error_count = $9, warning_count = $10,
                finished_at = clock_timestamp()
          WHERE import_id = $1",
        &[
            import_id.into(),
            status.into(),
            total(|c| c.inserted).into(),
            total(|c| c.updated).into(),
            total(|c| c.deleted).into(),
            total(|c| c.unchanged).into(),
            total(|c| c.rejected).into(),
            serde_json::Value::Object(per_entity).to_string().into(),
            errors.into(),
            warnings.into(),
        ],
    )
    .map_err(spi_error)?;
    if !problems.is_empty() {
        let mut rows = ProblemRows {
            import_id,
            problems: problems.iter(),
            unrestricted_lines,
        };
        copy_into(
            relation_oid("sinp_import.import_errors"),
            &[
                "import_id",
                "file",
                "line",
                "column_name",
                "severity",
                "code",
                "message",
                "value",
                "raw_record",
                "restricted",
            ],
            &mut rows,
        );
    }
    Ok(())
}

/// The lines of synthese.csv with problems whose row is not a restricted observation, by the one
/// definition (sinp_import.restricted_condition): as staged, and as stored (the sensitivity rules
/// may have raised it). A row that was not staged (it could not be read) is not among them.
pub fn unrestricted_lines(
    entity: &Entity,
    problems: &[Problem],
    known: &HashSet<u64>,
) -> LoadResult<HashSet<u64>> {
    let lines: Vec<i64> = problems
        .iter()
        .filter(|p| p.file == SYNTHESE_FILE)
        .filter_map(|p| p.line)
        .filter(|&l| l > 1 && !known.contains(&l))
        .map(|l| l as i64)
        .collect();
    if lines.is_empty() {
        return Ok(HashSet::new());
    }
    let staged = Spi::get_one::<String>("SELECT sinp_import.restricted_condition('s')")
        .map_err(spi_error)?
        .unwrap_or_else(|| "true".to_string());
    let stored = Spi::get_one::<String>("SELECT sinp_import.restricted_condition('t')")
        .map_err(spi_error)?
        .unwrap_or_else(|| "true".to_string());
    let stage = stage_table(entity);
    Spi::connect(|client| {
        client
            .select(
                &format!(
                    "SELECT s._line FROM {stage} AS s
                      WHERE s._line = ANY ($1) AND NOT {staged}
                        AND NOT EXISTS (SELECT FROM gn_synthese.synthese AS t
                                         WHERE t.unique_id_sinp = s.unique_id_sinp AND {stored})"
                ),
                None,
                &[lines.into()],
            )
            .map_err(spi_error)?
            .map(|row| Ok(row.get::<i64>(1).map_err(spi_error)?.unwrap_or(0) as u64))
            .collect()
    })
}

/// Problems as COPY rows (there may be many: they go in bulk like everything else).
struct ProblemRows<'a> {
    import_id: i64,
    problems: std::slice::Iter<'a, Problem>,
    unrestricted_lines: &'a HashSet<u64>,
}

impl RowSource for ProblemRows<'_> {
    fn fill(&mut self, out: &mut Vec<u8>) -> bool {
        let Some(p) = self.problems.next() else {
            return false;
        };
        let mut row = String::new();
        let mut field = |value: Option<&str>, last: bool| {
            match value {
                Some(v) => escape_copy_text(v, &mut row),
                None => row.push_str("\\N"),
            }
            row.push(if last { '\n' } else { '\t' });
        };
        field(Some(&self.import_id.to_string()), false);
        field(Some(&p.file), false);
        field(p.line.map(|l| l.to_string()).as_deref(), false);
        field(p.column.as_deref(), false);
        field(Some(p.severity.as_str()), false);
        field(Some(p.code), false);
        field(Some(&p.message), false);
        field(p.value.as_deref(), false);
        field(p.raw_record.as_deref(), false);
        // A row of synthese.csv is taken for a restricted observation unless known otherwise.
        let restricted = matches!(p.line, Some(line) if p.file == SYNTHESE_FILE
            && line > 1 && !self.unrestricted_lines.contains(&line));
        field(Some(if restricted { "t" } else { "f" }), true);
        out.extend_from_slice(row.as_bytes());
        true
    }
}
