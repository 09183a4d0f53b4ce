//! Work done as the owner of a target table for a caller that may write the entity rows of an
//! archive without owning the tables (privileges.rs): disabling and enabling the table's known
//! triggers, which only its owner may do, and writing the rows that follow the entity rows (links,
//! validations, the deletion log), as GeoNature's triggers would have. Only fixed statements of
//! the loader run so; the identity is the table's owner, never more (a table owner's own triggers,
//! defaults and checks then run with the rights they always have), and the operation is
//! security-restricted, as PostgreSQL runs maintenance for a table's owner.

use std::ffi::c_int;

use pgrx::pg_sys;
use pgrx::prelude::*;

use super::spi_error;
use crate::error::LoadResult;

/// The table's owner, when the current user does not have its privileges (not the owner, not a
/// member of it, not a superuser).
fn foreign_owner(table: &str) -> LoadResult<Option<pg_sys::Oid>> {
    let owner = Spi::get_one_with_args::<pg_sys::Oid>(
        "SELECT (SELECT c.relowner FROM pg_catalog.pg_class AS c WHERE c.oid = pg_catalog.to_regclass($1))",
        &[table.into()],
    )
    .map_err(spi_error)?;
    Ok(owner.filter(|&owner| {
        // SAFETY: a catalog lookup of the current user's memberships, in a transaction.
        !unsafe { pg_sys::has_privs_of_role(pg_sys::GetUserId(), owner) }
    }))
}

/// The user and security context to come back to; dropped (also when an ERROR unwinds through
/// it) it restores them. PostgreSQL's (sub)transaction abort restores them too.
struct Identity {
    user: pg_sys::Oid,
    context: c_int,
}

impl Identity {
    fn become_owner(owner: pg_sys::Oid) -> Identity {
        let mut user = pg_sys::InvalidOid;
        let mut context: c_int = 0;
        // SAFETY: PostgreSQL's own way to run work as a table's owner (as VACUUM, CREATE INDEX and
        // REFRESH MATERIALIZED VIEW do): local to this work, security-restricted.
        unsafe {
            pg_sys::GetUserIdAndSecContext(&mut user, &mut context);
            pg_sys::SetUserIdAndSecContext(
                owner,
                context
                    | pg_sys::SECURITY_LOCAL_USERID_CHANGE as c_int
                    | pg_sys::SECURITY_RESTRICTED_OPERATION as c_int,
            );
        }
        Identity { user, context }
    }
}

impl Drop for Identity {
    fn drop(&mut self) {
        // SAFETY: the values GetUserIdAndSecContext gave.
        unsafe { pg_sys::SetUserIdAndSecContext(self.user, self.context) }
    }
}

/// Runs `work` as the owner of `table` when the caller is not it; `reads` are the load's TEMP
/// tables the work reads (the caller owns them: the owner is granted SELECT on them, for the rest
/// of this transaction, in which they are dropped).
pub(super) fn as_owner_of<T>(
    table: &str,
    reads: &[&str],
    work: impl FnOnce() -> LoadResult<T>,
) -> LoadResult<T> {
    let Some(owner) = foreign_owner(table)? else {
        return work();
    };
    for temp in reads {
        let grant = Spi::get_one_with_args::<String>(
            "SELECT (SELECT pg_catalog.format('GRANT SELECT ON %s TO %I', c.oid::pg_catalog.regclass, r.rolname)
                       FROM pg_catalog.pg_class AS c, pg_catalog.pg_roles AS r
                      WHERE c.oid = pg_catalog.to_regclass($1) AND r.oid = $2
                        AND NOT pg_catalog.has_table_privilege(r.oid, c.oid, 'SELECT'))",
            &[(*temp).into(), owner.into()],
        )
        .map_err(spi_error)?;
        if let Some(grant) = grant {
            Spi::run(&grant).map_err(spi_error)?;
        }
    }
    let identity = Identity::become_owner(owner);
    let result = work();
    drop(identity);
    result
}

/// The target table a statement of sql/merge.sql writes: the first qualified table after
/// `INSERT INTO`, `DELETE FROM` or `UPDATE` (the load's TEMP tables are not qualified).
pub(super) fn written_table(body: &str) -> Option<&str> {
    let words: Vec<&str> = body
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .flat_map(str::split_whitespace)
        .collect();
    words.iter().enumerate().find_map(|(i, word)| {
        let table = match (*word, words.get(i + 1)) {
            ("INSERT", Some(&"INTO")) | ("DELETE", Some(&"FROM")) => words.get(i + 2),
            ("UPDATE", _) => words.get(i + 1),
            _ => None,
        }?;
        (table.contains('.') && !table.starts_with('{')).then_some(*table)
    })
}

#[cfg(test)]
mod owner_tests {
    use super::written_table;

    #[test]
    fn the_written_table_is_the_first_qualified_one() {
        assert_eq!(
            written_table("DELETE FROM gn_synthese.cor_area_synthese AS c WHERE true"),
            Some("gn_synthese.cor_area_synthese")
        );
        assert_eq!(
            written_table(
                "-- UPDATE x.y in a comment\nWITH r AS (DELETE FROM gn_commons.t_validations AS v)\nINSERT INTO gn_commons.t_validations (a) SELECT 1"
            ),
            Some("gn_commons.t_validations")
        );
        assert_eq!(
            written_table("UPDATE {stage} AS s SET a = 1; UPDATE gn_meta.t_datasets SET b = 2"),
            Some("gn_meta.t_datasets")
        );
        assert_eq!(written_table("INSERT INTO sinp_written SELECT 1"), None);
    }
}
