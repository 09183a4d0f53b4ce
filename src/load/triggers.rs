//! Target triggers the loader replaces (sinp_import.managed_triggers): disabled with transactional
//! DDL for the load, so a rollback re-enables them, and enabled again when the load ends.

use pgrx::prelude::*;

use super::owner::as_owner_of;
use super::spi_error;
use crate::error::{LoadError, LoadResult};

/// GeoNature's sensitivity triggers on gn_synthese.synthese: when the load disabled one of them,
/// it applies the rules itself ("sensitivity synthese" in sql/merge.sql).
pub const SENSITIVITY_TRIGGERS: [&str; 2] = [
    "tri_insert_calculate_sensitivity",
    "tri_update_calculate_sensitivity",
];

/// The triggers disabled by this load: (qualified table, trigger name) both already quoted, and
/// the trigger's name as it is.
pub struct DisabledTriggers(Vec<(String, String, String)>);

/// Disables every enabled trigger of the registry that exists on a target table.
pub fn disable() -> LoadResult<DisabledTriggers> {
    let found: Vec<(String, String, String)> = Spi::connect(|client| {
        let rows = client
            .select(
                "SELECT format('%I.%I', n.nspname, c.relname), quote_ident(t.tgname::text),
                        t.tgname::text
                   FROM sinp_import.managed_triggers AS m
                   JOIN pg_trigger AS t
                     ON t.tgrelid = to_regclass(m.table_name) AND t.tgname = m.trigger_name
                   JOIN pg_class AS c ON c.oid = t.tgrelid
                   JOIN pg_namespace AS n ON n.oid = c.relnamespace
                  WHERE t.tgenabled <> 'D' AND NOT t.tgisinternal
                  ORDER BY 1, 2",
                None,
                &[],
            )
            .map_err(spi_error)?;
        let mut found = Vec::new();
        for row in rows {
            if let (Some(table), Some(trigger), Some(name)) = (
                row.get::<String>(1).map_err(spi_error)?,
                row.get::<String>(2).map_err(spi_error)?,
                row.get::<String>(3).map_err(spi_error)?,
            ) {
                found.push((table, trigger, name));
            }
        }
        Ok::<_, LoadError>(found)
    })?;
    // Only a table's owner may; done as the owner for a caller that may write it without owning
    // it (the privileges were checked before).
    for (table, trigger, _) in &found {
        as_owner_of(table, &[], || {
            Spi::run(&format!("ALTER TABLE {table} DISABLE TRIGGER {trigger}")).map_err(spi_error)
        })?;
    }
    Ok(DisabledTriggers(found))
}

impl DisabledTriggers {
    /// Whether this load disabled a trigger of that name (on gn_synthese.synthese for the ones
    /// the loader asks about).
    pub fn includes(&self, name: &str) -> bool {
        self.0
            .iter()
            .any(|(table, _, n)| n == name && table == "gn_synthese.synthese")
    }

    pub fn enable(self) -> LoadResult<()> {
        for (table, trigger, _) in &self.0 {
            as_owner_of(table, &[], || {
                Spi::run(&format!("ALTER TABLE {table} ENABLE TRIGGER {trigger}"))
                    .map_err(spi_error)
            })?;
        }
        Ok(())
    }
}
