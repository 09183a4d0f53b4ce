//! The one lock helper of the pure modules: the archive's counters and a reader's raw log are
//! shared between the reading thread and the backend, but only touched by one of them at a time.

use std::sync::{Mutex, MutexGuard};

/// Locks `value`; a lock poisoned by a panic still holds a consistent value (every update under
/// these locks is a single assignment or append).
pub fn locked<T>(value: &Mutex<T>) -> MutexGuard<'_, T> {
    value
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
