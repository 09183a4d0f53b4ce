//! An internal subtransaction around the load's work, so that a rejected archive or a dry run
//! leaves the targets untouched while the journal row, written outside it, is kept.

use std::panic::AssertUnwindSafe;

use pgrx::pg_sys;
use pgrx::pg_sys::panic::CaughtError;
use pgrx::PgTryBuilder;

use crate::error::{LoadError, LoadResult};

/// Restores the caller's memory context and resource owner after the subtransaction ends.
unsafe fn restore(context: pg_sys::MemoryContext, owner: pg_sys::ResourceOwner) {
    unsafe {
        pg_sys::MemoryContextSwitchTo(context);
        pg_sys::CurrentResourceOwner = owner;
    }
}

/// The five characters of a SQLSTATE packed by PostgreSQL's MAKE_SQLSTATE (six bits each).
pub(crate) fn sqlstate_text(code: i64) -> String {
    (0..5)
        .map(|i| char::from(b'0' + ((code >> (6 * i)) & 0x3F) as u8))
        .collect()
}

/// Whether PostgreSQL refused the data itself: integrity constraints (class 23: foreign keys,
/// checks, NOT NULL, unique), data exceptions (class 22) and a plpgsql RAISE (P0001, e.g.
/// GeoNature's check_nomenclature_type_by_mnemonique). Cancels, timeouts, lock and resource
/// errors stay ERRORs.
fn is_data_refusal(sqlstate: &str) -> bool {
    sqlstate.starts_with("23") || sqlstate.starts_with("22") || sqlstate == "P0001"
}

/// Runs `body` in a subtransaction; its work is kept when `keep` says so, rolled back otherwise.
/// A PostgreSQL ERROR raised by `body` rolls the subtransaction back; one that refuses the data
/// is returned as `LoadError::TargetRefused` (the caller journals it), any other is raised again.
pub fn run<T>(
    body: impl FnOnce() -> LoadResult<T>,
    keep: impl FnOnce(&LoadResult<T>) -> bool,
) -> LoadResult<T> {
    // SAFETY: the same sequence as PL/pgSQL's exception blocks (pl_exec.c).
    let (context, owner) = unsafe {
        let context = pg_sys::CurrentMemoryContext;
        let owner = pg_sys::CurrentResourceOwner;
        pg_sys::BeginInternalSubTransaction(std::ptr::null());
        pg_sys::MemoryContextSwitchTo(context);
        // pgrx runs SPI reads read-only (with the statement's old snapshot) while the current
        // (sub)transaction has no xid: assigning one makes every statement see the latest writes.
        pg_sys::GetCurrentTransactionId();
        (context, owner)
    };
    let rolled_back = AssertUnwindSafe(std::cell::Cell::new(false));
    let result = PgTryBuilder::new(AssertUnwindSafe(body))
        .catch_others(|error| {
            // SAFETY: we are still inside the subtransaction begun above.
            unsafe {
                pg_sys::RollbackAndReleaseCurrentSubTransaction();
                restore(context, owner);
            }
            rolled_back.set(true);
            match error {
                CaughtError::PostgresError(ref report)
                    if is_data_refusal(&sqlstate_text(report.sql_error_code() as i64)) =>
                {
                    Err(LoadError::TargetRefused {
                        sqlstate: sqlstate_text(report.sql_error_code() as i64),
                        message: report.message().to_string(),
                        detail: report.detail().map(str::to_string),
                    })
                }
                other => other.rethrow(),
            }
        })
        .execute();
    if rolled_back.get() {
        return result;
    }
    // SAFETY: the subtransaction begun above is the current one.
    unsafe {
        if keep(&result) {
            pg_sys::ReleaseCurrentSubTransaction();
        } else {
            pg_sys::RollbackAndReleaseCurrentSubTransaction();
        }
        restore(context, owner);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_unpack_and_data_refusals_are_told_apart() {
        let pack = |s: &str| -> i64 {
            s.bytes()
                .enumerate()
                .map(|(i, b)| (((b - b'0') & 0x3F) as i64) << (6 * i))
                .sum()
        };
        for code in ["23503", "22P02", "57014", "P0001", "XX000"] {
            assert_eq!(sqlstate_text(pack(code)), code);
        }
        assert_eq!(
            sqlstate_text(pgrx::PgSqlErrorCode::ERRCODE_FOREIGN_KEY_VIOLATION as i64),
            "23503"
        );
        assert!(is_data_refusal("23503") && is_data_refusal("23514") && is_data_refusal("P0001"));
        assert!(
            !is_data_refusal("57014") && !is_data_refusal("40P01") && !is_data_refusal("53200")
        );
    }
}
