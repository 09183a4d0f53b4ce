//! Rows written without PostgreSQL's per-row foreign-key checks, where the role may and nothing
//! else would be skipped, and their keys checked afterwards once per referenced row.

use pgrx::prelude::*;

use super::catalog::{foreign_keys, Direction, ForeignKey};
use super::spi_error;
use super::sql::{render, statement, statements_for};
use crate::error::{LoadError, LoadResult};
use crate::spec::staging::quote_ident;
use crate::spec::Entity;

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
pub(super) fn unchecked_own_table(entity: &Entity) -> LoadResult<Option<UncheckedLinks>> {
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
pub(super) fn inserted_table(body: &str) -> Option<&str> {
    let (_, rest) = body.split_once("INSERT INTO ")?;
    rest.split_whitespace().next()
}

/// Runs `work` with session_replication_role = replica: row triggers of origin, foreign-key checks
/// among them, do not fire. The previous value comes back after it; after an ERROR the
/// (sub)transaction's rollback restores it.
pub(super) fn in_replica_mode(work: impl FnOnce() -> LoadResult<()>) -> LoadResult<()> {
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
