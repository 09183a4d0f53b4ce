//! An internal subtransaction around the load's work, so that a rejected archive or a dry run
//! leaves the targets untouched while the journal row, written outside it, is kept.

use std::panic::AssertUnwindSafe;

use pgrx::pg_sys;
use pgrx::PgTryBuilder;

/// Restores the caller's memory context and resource owner after the subtransaction ends.
unsafe fn restore(context: pg_sys::MemoryContext, owner: pg_sys::ResourceOwner) {
    unsafe {
        pg_sys::MemoryContextSwitchTo(context);
        pg_sys::CurrentResourceOwner = owner;
    }
}

/// Runs `body` in a subtransaction; its work is kept when `keep` says so, rolled back otherwise.
/// A PostgreSQL ERROR raised by `body` rolls the subtransaction back and is raised again.
pub fn run<T>(body: impl FnOnce() -> T, keep: impl FnOnce(&T) -> bool) -> T {
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
    let result = PgTryBuilder::new(AssertUnwindSafe(body))
        .catch_others(move |error| {
            // SAFETY: we are still inside the subtransaction begun above.
            unsafe {
                pg_sys::RollbackAndReleaseCurrentSubTransaction();
                restore(context, owner);
            }
            error.rethrow()
        })
        .execute();
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
