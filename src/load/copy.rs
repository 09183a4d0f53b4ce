//! Rows from Rust into a table through PostgreSQL's own COPY machinery (`BeginCopyFrom` with a
//! data-source callback, then `CopyFrom`), as COPY FROM STDIN would: batched multi-inserts, flat
//! memory, constraints and indexes maintained by PostgreSQL. See BULKLOAD.md for the measurements.

use std::cell::Cell;
use std::ffi::{c_int, c_void, CString};
use std::ptr;

use pgrx::pg_sys;
use pgrx::prelude::*;

/// Produces rows in COPY text format.
pub trait RowSource {
    /// Appends one or more complete rows (each ending with `\n`) to `out`; false at the end.
    fn fill(&mut self, out: &mut Vec<u8>) -> bool;
}

/// The source being read by the COPY in progress, and what it has produced but COPY not yet read.
struct Feed<'a> {
    source: &'a mut dyn RowSource,
    buffer: Vec<u8>,
    position: usize,
    finished: bool,
}

impl Feed<'_> {
    /// Copies up to `max` bytes into `out`, refilling from the source; 0 at the end of the data.
    fn read(&mut self, out: &mut [u8]) -> usize {
        while self.position >= self.buffer.len() && !self.finished {
            self.buffer.clear();
            self.position = 0;
            while self.buffer.len() < 64 * 1024 {
                if !self.source.fill(&mut self.buffer) {
                    self.finished = true;
                    break;
                }
            }
        }
        let n = out.len().min(self.buffer.len() - self.position);
        out[..n].copy_from_slice(&self.buffer[self.position..self.position + n]);
        self.position += n;
        n
    }
}

thread_local! {
    /// The callback has no user-data argument: the active feed is kept here while COPY runs.
    static ACTIVE_FEED: Cell<*mut Feed<'static>> = const { Cell::new(ptr::null_mut()) };
}

/// Installs a feed for the duration of one COPY and restores the previous one on drop, also when
/// an ERROR unwinds through it.
struct FeedGuard {
    previous: *mut Feed<'static>,
}

impl FeedGuard {
    fn install(feed: &mut Feed<'_>) -> FeedGuard {
        // The pointer never outlives `feed`: the guard is dropped before it.
        let raw = (feed as *mut Feed<'_>).cast::<Feed<'static>>();
        FeedGuard {
            previous: ACTIVE_FEED.with(|slot| slot.replace(raw)),
        }
    }
}

impl Drop for FeedGuard {
    fn drop(&mut self) {
        ACTIVE_FEED.with(|slot| slot.set(self.previous));
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn read_from_active_feed(
    outbuf: *mut c_void,
    _minread: c_int,
    maxread: c_int,
) -> c_int {
    let feed = ACTIVE_FEED.with(Cell::get);
    if feed.is_null() || maxread <= 0 {
        return 0;
    }
    // SAFETY: COPY gives a buffer of `maxread` bytes; the feed is alive while its guard is.
    let out = unsafe { std::slice::from_raw_parts_mut(outbuf as *mut u8, maxread as usize) };
    unsafe { (*feed).read(out) as c_int }
}

fn pg_string(s: &str) -> *mut pg_sys::Node {
    let c = CString::new(s).expect("identifiers have no NUL");
    // SAFETY: pstrdup copies into the current memory context; makeString keeps the pointer.
    unsafe { pg_sys::makeString(pg_sys::pstrdup(c.as_ptr())) as *mut pg_sys::Node }
}

fn def_elem(name: &str, value: &str) -> *mut c_void {
    let c = CString::new(name).expect("option names have no NUL");
    // SAFETY: as above.
    unsafe { pg_sys::makeDefElem(pg_sys::pstrdup(c.as_ptr()), pg_string(value), -1) as *mut c_void }
}

/// COPYs the rows of `source` (text format, UTF-8) into `columns` of the relation `relation`.
/// Returns the number of rows COPY inserted.
pub fn copy_into(relation: pg_sys::Oid, columns: &[&str], source: &mut dyn RowSource) -> u64 {
    let mut feed = Feed {
        source,
        buffer: Vec::with_capacity(80 * 1024),
        position: 0,
        finished: false,
    };
    let _guard = FeedGuard::install(&mut feed);
    // SAFETY: the calls follow PostgreSQL's DoCopy for COPY FROM with a callback source; the
    // relation stays locked (RowExclusiveLock) until the end of the transaction.
    unsafe {
        let lock = pg_sys::RowExclusiveLock as pg_sys::LOCKMODE;
        let rel = pg_sys::table_open(relation, lock);
        let pstate = pg_sys::make_parsestate(ptr::null_mut());
        // CopyFrom reads its target from the range table of the parse state.
        pg_sys::addRangeTableEntryForRelation(
            pstate,
            rel,
            lock as c_int,
            ptr::null_mut(),
            false,
            false,
        );
        let mut attnames: *mut pg_sys::List = ptr::null_mut();
        for column in columns {
            attnames = pg_sys::lappend(attnames, pg_string(column) as *mut c_void);
        }
        let mut options: *mut pg_sys::List = ptr::null_mut();
        options = pg_sys::lappend(options, def_elem("format", "text"));
        options = pg_sys::lappend(options, def_elem("encoding", "UTF8"));
        let cstate = pg_sys::BeginCopyFrom(
            pstate,
            rel,
            ptr::null_mut(),
            ptr::null(),
            false,
            Some(read_from_active_feed),
            attnames,
            options,
        );
        let rows = pg_sys::CopyFrom(cstate);
        pg_sys::EndCopyFrom(cstate);
        pg_sys::table_close(rel, pg_sys::NoLock as pg_sys::LOCKMODE);
        pg_sys::free_parsestate(pstate);
        pg_sys::CommandCounterIncrement();
        rows
    }
}

/// The OID of a relation by name (`pg_temp.x`, `schema.table`).
pub fn relation_oid(name: &str) -> pg_sys::Oid {
    Spi::get_one_with_args::<pg_sys::Oid>("SELECT $1::regclass::oid", &[name.into()])
        .expect("relation lookup")
        .expect("relation exists")
}
