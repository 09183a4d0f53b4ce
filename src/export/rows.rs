//! An exported file's rows, handed by the executor straight to the archive. The query runs
//! through SPI with a DestReceiver of its own, as COPY TO runs its query: each row's text values
//! are read where the executor made them, with no tuple copied into an SPI table and no value
//! into a Rust String. The plan is made for the whole result (a cursor's would favour the first
//! rows), and one row's memory is freed before the next.

use std::ffi::{CStr, CString};
use std::io;

use pgrx::datum::DatumWithOid;
use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::error::{LoadError, LoadResult};

/// What receives each row: its values in the query's column order, NULL as None, text as UTF-8.
pub type RowSink<'a> = dyn FnMut(&[Option<&[u8]>]) -> io::Result<()> + 'a;

/// PostgreSQL sees the first field; the others are the export's.
#[repr(C)]
struct Receiver<'s, 'a> {
    dest: pg_sys::DestReceiver,
    sink: &'s mut RowSink<'a>,
    /// Freed after each row: what detoasting allocated.
    row_context: pg_sys::MemoryContext,
    /// Why the sink stopped the query, if it did.
    failed: Option<io::Error>,
    /// A column the export cannot read as text, found when the query starts.
    not_text: Option<String>,
}

fn text_like(type_oid: pg_sys::Oid) -> bool {
    [pg_sys::TEXTOID, pg_sys::VARCHAROID, pg_sys::BPCHAROID].contains(&type_oid)
}

#[pg_guard]
unsafe extern "C-unwind" fn startup(
    dest: *mut pg_sys::DestReceiver,
    _operation: std::ffi::c_int,
    typeinfo: pg_sys::TupleDesc,
) {
    // SAFETY: dest is the Receiver's first field; typeinfo describes the query's columns.
    let receiver = &mut *(dest as *mut Receiver);
    let natts = (*typeinfo).natts as usize;
    let attributes = (*typeinfo).attrs.as_slice(natts);
    if let Some((i, a)) = attributes
        .iter()
        .enumerate()
        .find(|(_, a)| !text_like(a.atttypid))
    {
        receiver.not_text = Some(format!("column {} is of type oid {}", i + 1, a.atttypid));
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn receive_slot(
    slot: *mut pg_sys::TupleTableSlot,
    dest: *mut pg_sys::DestReceiver,
) -> bool {
    // SAFETY: dest is the Receiver's first field; the slot holds one row of the query, whose
    // values stay valid until this returns.
    let receiver = &mut *(dest as *mut Receiver);
    if receiver.not_text.is_some() {
        return false;
    }
    pg_sys::slot_getallattrs(slot);
    let natts = (*(*slot).tts_tupleDescriptor).natts as usize;
    let values = std::slice::from_raw_parts((*slot).tts_values, natts);
    let nulls = std::slice::from_raw_parts((*slot).tts_isnull, natts);
    let caller_context = pg_sys::MemoryContextSwitchTo(receiver.row_context);
    let mut fields: Vec<Option<&[u8]>> = Vec::with_capacity(natts);
    for (value, null) in values.iter().zip(nulls) {
        if *null {
            fields.push(None);
            continue;
        }
        let text = pg_sys::pg_detoast_datum_packed(value.cast_mut_ptr());
        let data = pgrx::varlena::vardata_any(text);
        let len = pgrx::varlena::varsize_any_exhdr(text);
        // The database is UTF8 (the extension is installed in no other, sql/journal.sql).
        fields.push(Some(std::slice::from_raw_parts(data as *const u8, len)));
    }
    let sent = (receiver.sink)(&fields);
    drop(fields);
    pg_sys::MemoryContextSwitchTo(caller_context);
    pg_sys::MemoryContextReset(receiver.row_context);
    match sent {
        Ok(()) => true,
        Err(e) => {
            // The executor stops at false; the error is answered once the query has returned.
            receiver.failed = Some(e);
            false
        }
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn nothing(_dest: *mut pg_sys::DestReceiver) {}

/// Runs `query` with `args` (every column text) and hands each row to `sink`, in order. An error
/// of the sink stops the query and is returned as a failure to write `file`.
pub fn send_rows(
    query: &str,
    args: &[DatumWithOid],
    file: &str,
    sink: &mut RowSink,
) -> LoadResult<()> {
    let query = CString::new(query).expect("the export's statements hold no NUL");
    Spi::connect(|_client| {
        // SAFETY: SPI is connected for the closure; the plan, parameter list and memory context
        // are PostgreSQL's, made and freed here (or with the transaction, on an ERROR); the
        // receiver outlives the query that calls it.
        unsafe {
            let mut types: Vec<pg_sys::Oid> = args.iter().map(|a| a.oid()).collect();
            let plan = pg_sys::SPI_prepare(query.as_ptr(), types.len() as i32, types.as_mut_ptr());
            if plan.is_null() {
                return Err(LoadError::internal(format!(
                    "the export's statement was not prepared: {}",
                    spi_result()
                )));
            }
            let params = pg_sys::makeParamList(args.len() as i32);
            let slots = (*params).params.as_mut_slice(args.len());
            for (slot, arg) in slots.iter_mut().zip(args) {
                let datum = arg.datum();
                *slot = pg_sys::ParamExternData {
                    isnull: datum.is_none(),
                    value: datum
                        .map(|d| d.sans_lifetime())
                        .unwrap_or(pg_sys::Datum::from(0)),
                    pflags: pg_sys::PARAM_FLAG_CONST as u16,
                    ptype: arg.oid(),
                };
            }
            let row_context = pg_sys::AllocSetContextCreateInternal(
                pg_sys::CurrentMemoryContext,
                c"sinp_import export row".as_ptr(),
                0,
                8 * 1024,
                8 * 1024 * 1024,
            );
            let mut receiver = Receiver {
                dest: pg_sys::DestReceiver {
                    receiveSlot: Some(receive_slot),
                    rStartup: Some(startup),
                    rShutdown: Some(nothing),
                    rDestroy: Some(nothing),
                    mydest: pg_sys::CommandDest::DestNone,
                },
                sink,
                row_context,
                failed: None,
                not_text: None,
            };
            let options = pg_sys::SPIExecuteOptions {
                params,
                read_only: false,
                allow_nonatomic: false,
                must_return_tuples: false,
                tcount: 0,
                dest: &mut receiver.dest,
                owner: std::ptr::null_mut(),
            };
            let code = pg_sys::SPI_execute_plan_extended(plan, &options);
            pg_sys::SPI_freeplan(plan);
            pg_sys::MemoryContextDelete(row_context);
            if code < 0 {
                return Err(LoadError::internal(format!(
                    "the export's statement failed: {}",
                    CStr::from_ptr(pg_sys::SPI_result_code_string(code)).to_string_lossy()
                )));
            }
            if let Some(column) = receiver.not_text {
                return Err(LoadError::internal(format!(
                    "the export's statement returns a value that is not text: {column}"
                )));
            }
            match receiver.failed {
                Some(e) => Err(LoadError::Io {
                    what: file.to_string(),
                    detail: e.to_string(),
                }),
                None => Ok(()),
            }
        }
    })
}

fn spi_result() -> String {
    // SAFETY: SPI_result is set by the SPI call that just failed.
    unsafe {
        CStr::from_ptr(pg_sys::SPI_result_code_string(pg_sys::SPI_result))
            .to_string_lossy()
            .into_owned()
    }
}
