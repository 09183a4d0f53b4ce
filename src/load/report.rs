//! sinp_import.report(import_id): what a DBA sends a provider about an import. Per file and code,
//! how many problems, the first lines with their column and value, and what to do (the last column
//! of docs/errors.md, the one description of every code); for an applied import, the rows written
//! per entity and action (those that did something). The statements are those of sql/report.sql.

use std::collections::HashMap;
use std::sync::OnceLock;

use pgrx::prelude::*;

use super::spi_error;
use super::sql::parse_named;
use crate::error::{LoadError, LoadResult};
use crate::spec::ENTITIES;

static REPORT_SQL: &str = include_str!("../../sql/report.sql");
static ERRORS_MD: &str = include_str!("../../docs/errors.md");

fn statement(name: &str) -> &'static str {
    static PARSED: OnceLock<Vec<(String, String)>> = OnceLock::new();
    PARSED
        .get_or_init(|| parse_named(REPORT_SQL))
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, body)| body.as_str())
        .expect("sql/report.sql has the statement")
}

/// The cells of a Markdown table row, `\|` kept inside a cell.
fn cells(row: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut chars = row.trim().trim_start_matches('|').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                chars.next();
                cells.last_mut().expect("one cell").push('|');
            }
            '|' => cells.push(String::new()),
            _ => cells.last_mut().expect("one cell").push(c),
        }
    }
    cells.into_iter().map(|c| c.trim().to_string()).collect()
}

/// What to do, by code: the last column of every row of docs/errors.md whose first cell is a code
/// (`CODE`), without its Markdown backticks.
pub fn what_to_do() -> &'static HashMap<String, String> {
    static FIXES: OnceLock<HashMap<String, String>> = OnceLock::new();
    FIXES.get_or_init(|| {
        ERRORS_MD
            .lines()
            .filter(|l| l.starts_with("| `"))
            .filter_map(|l| {
                let cells: Vec<String> = cells(l).into_iter().filter(|c| !c.is_empty()).collect();
                let code = cells.first()?.trim_matches('`').to_string();
                let fix = cells.last()?.replace('`', "");
                (cells.len() >= 3 && code.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
                    .then_some((code, fix))
            })
            .collect()
    })
}

/// One line of the report.
pub struct ReportRow {
    /// `problem` or `written`.
    pub section: &'static str,
    /// The archive's file (a problem) or the entity (rows written).
    pub file: String,
    /// The problem's code, or the action (inserted, updated, deleted, unchanged, rejected).
    pub code: String,
    pub severity: Option<String>,
    pub count: i64,
    pub examples: Option<String>,
    pub what_to_do: Option<String>,
}

const ACTIONS: [&str; 5] = ["inserted", "updated", "deleted", "unchanged", "rejected"];

pub fn report(import_id: i64) -> LoadResult<Vec<ReportRow>> {
    Spi::connect(|client| {
        let mut status: Option<(String, bool)> = None;
        let mut written = Vec::new();
        for row in client
            .select(statement("report import"), None, &[import_id.into()])
            .map_err(spi_error)?
        {
            let text = |i: usize| -> LoadResult<Option<String>> { row.get(i).map_err(spi_error) };
            status = Some((
                text(1)?.unwrap_or_default(),
                row.get::<bool>(2).map_err(spi_error)?.unwrap_or(false),
            ));
            if let (Some(entity), Some(action), Some(n)) =
                (text(3)?, text(4)?, row.get::<i64>(5).map_err(spi_error)?)
            {
                written.push((entity, action, n));
            }
        }
        let Some((status, dry_run)) = status else {
            return Err(LoadError::ImportNotFound { import_id });
        };
        let mut rows = Vec::new();
        for row in client
            .select(statement("report problems"), None, &[import_id.into()])
            .map_err(spi_error)?
        {
            let text = |i: usize| -> LoadResult<Option<String>> { row.get(i).map_err(spi_error) };
            let code = text(3)?.unwrap_or_default();
            rows.push(ReportRow {
                section: "problem",
                file: text(1)?.unwrap_or_default(),
                severity: text(2)?,
                count: row.get::<i64>(4).map_err(spi_error)?.unwrap_or(0),
                examples: text(5)?.filter(|e| !e.is_empty()),
                what_to_do: what_to_do().get(&code).cloned(),
                code,
            });
        }
        // What an applied import wrote, entities in processing order.
        if matches!(status.as_str(), "applied" | "applied_with_errors") && !dry_run {
            let order = |entity: &str, action: &str| {
                (
                    ENTITIES.iter().position(|e| e.name == entity),
                    ACTIONS.iter().position(|a| *a == action),
                )
            };
            written.retain(|(_, _, n)| *n > 0);
            written.sort_by_key(|(entity, action, _)| order(entity, action));
            rows.extend(written.into_iter().map(|(entity, action, n)| ReportRow {
                section: "written",
                file: entity,
                code: action,
                severity: None,
                count: n,
                examples: None,
                what_to_do: None,
            }));
        }
        Ok(rows)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_to_do_is_read_from_the_last_column_of_docs_errors_md() {
        let fixes = what_to_do();
        assert_eq!(
            fixes.get("CD_NOM_NOT_FOUND").map(String::as_str),
            Some("update taxref or the code")
        );
        assert!(fixes.len() > 40, "{}", fixes.len());
        assert_eq!(
            cells("| `A` | x \\| y | fix |"),
            ["`A`", "x | y", "fix", ""]
        );
    }
}
