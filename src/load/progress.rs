//! What a running load or validation says of itself: a NOTICE per step for its caller, and the
//! backend's activity text (pg_stat_activity.query), which other sessions read, directly or
//! through the view sinp_import.progress (sql/progress.sql parses the text this module writes).
//!
//! The text is `sinp_import.<function>: <step>[: <done>[ / <total>] <unit>] (import <id> since
//! <start> of <archive>)`; a validation has no import id. The import's journal row is not visible
//! to other sessions until the load commits, so the text itself carries the import and archive.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use pgrx::pg_sys;

/// The counts move at most this often: writing the activity text is a copy into shared memory,
/// but a chunk of rows is read every few hundred microseconds.
const COUNT_INTERVAL: Duration = Duration::from_millis(250);

/// Archive names are cut to this many characters in the text (track_activity_query_size is 1 kB
/// by default, and the text must keep its end, which the view reads).
const ARCHIVE_NAME_CHARS: usize = 200;

struct Running {
    function: &'static str,
    import_id: Option<i64>,
    archive: String,
    started: String,
    step: String,
    last_count: Option<Instant>,
}

thread_local! {
    static RUNNING: RefCell<Option<Running>> = const { RefCell::new(None) };
}

/// The load or validation in progress in this backend; its end (also by an ERROR unwinding)
/// forgets it.
#[must_use]
pub struct Tracking(());

impl Drop for Tracking {
    fn drop(&mut self) {
        RUNNING.with(|running| running.borrow_mut().take());
        // The activity text is the client's statement again (in load_inbox, its CALL), so that
        // sinp_import.progress no longer lists a load that has ended.
        // SAFETY: debug_query_string is the statement being executed (or NULL), kept by
        // PostgreSQL until the statement ends; reporting it copies it.
        unsafe {
            if !pg_sys::debug_query_string.is_null() {
                pg_sys::pgstat_report_activity(
                    pg_sys::BackendState::STATE_RUNNING,
                    pg_sys::debug_query_string,
                );
            }
        }
    }
}

/// Starts reporting the steps of `function` (load_archive, validate_archive) on `archive`;
/// `started` is the time the call began, as PostgreSQL writes a timestamptz in UTC.
pub fn track(
    function: &'static str,
    import_id: Option<i64>,
    archive: &str,
    started: String,
) -> Tracking {
    let archive: String = archive
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(ARCHIVE_NAME_CHARS)
        .collect();
    RUNNING.with(|running| {
        *running.borrow_mut() = Some(Running {
            function,
            import_id,
            archive,
            started,
            step: String::new(),
            last_count: None,
        })
    });
    Tracking(())
}

/// A new step: a NOTICE, and the activity text without counts.
pub fn step(step: &str) {
    pgrx::notice!("sinp_import: {step}");
    RUNNING.with(|running| {
        let mut running = running.borrow_mut();
        match running.as_mut() {
            Some(r) => {
                r.step = step.to_string();
                r.last_count = None;
                report(&activity_text(r, None));
            }
            None => report(&format!("sinp_import.load_archive: {step}")),
        }
    });
}

/// How far the current step is: `done` of `total` (when known) `unit`. Cheap enough to call per
/// chunk of rows: the text is written at most every COUNT_INTERVAL, unless `force`.
pub fn count(done: i64, total: Option<i64>, unit: &str, force: bool) {
    RUNNING.with(|running| {
        let mut running = running.borrow_mut();
        let Some(r) = running.as_mut() else {
            return;
        };
        let now = Instant::now();
        if !force && r.last_count.is_some_and(|at| now - at < COUNT_INTERVAL) {
            return;
        }
        r.last_count = Some(now);
        report(&activity_text(r, Some((done, total, unit))));
    });
}

fn activity_text(r: &Running, counts: Option<(i64, Option<i64>, &str)>) -> String {
    let counts = match counts {
        Some((done, Some(total), unit)) => format!(": {done} / {total} {unit}"),
        Some((done, None, unit)) => format!(": {done} {unit}"),
        None => String::new(),
    };
    let import = r
        .import_id
        .map(|id| format!("import {id} "))
        .unwrap_or_default();
    format!(
        "sinp_import.{}: {}{counts} ({import}since {} of {})",
        r.function, r.step, r.started, r.archive
    )
}

fn report(text: &str) {
    if let Ok(text) = std::ffi::CString::new(text) {
        // SAFETY: PostgreSQL copies the text into its own shared-memory slot; it raises no error,
        // so this may run inside COPY's data callback.
        unsafe {
            pg_sys::pgstat_report_activity(pg_sys::BackendState::STATE_RUNNING, text.as_ptr());
        }
    }
}

#[cfg(test)]
mod progress_tests {
    use super::{activity_text, Running};

    fn running(import_id: Option<i64>) -> Running {
        Running {
            function: "load_archive",
            import_id,
            archive: "2020-08-26_sinp_paca_cbna.zip".into(),
            started: "2026-12-01 15:00:01.25+00".into(),
            step: "writing synthese".into(),
            last_count: None,
        }
    }

    #[test]
    fn the_text_carries_the_step_the_counts_and_the_import() {
        assert_eq!(
            activity_text(&running(Some(12)), Some((350_000, Some(1_000_000), "rows"))),
            "sinp_import.load_archive: writing synthese: 350000 / 1000000 rows \
             (import 12 since 2026-12-01 15:00:01.25+00 of 2020-08-26_sinp_paca_cbna.zip)"
        );
        assert_eq!(
            activity_text(&running(None), Some((20, None, "rows"))),
            "sinp_import.load_archive: writing synthese: 20 rows \
             (since 2026-12-01 15:00:01.25+00 of 2020-08-26_sinp_paca_cbna.zip)"
        );
        assert_eq!(
            activity_text(&running(Some(3)), None),
            "sinp_import.load_archive: writing synthese \
             (import 3 since 2026-12-01 15:00:01.25+00 of 2020-08-26_sinp_paca_cbna.zip)"
        );
    }
}
