//! The bytes as an archive member in the TSV dialect: the header, then every record, every field
//! decoded and the raw record rebuilt, as the loader reads them. Problems are fine; a panic, a hang
//! or unbounded memory is a bug, and so is a problem or raw record the journal cannot store.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sinp_core::tsv::{decode_field, field_count_mismatch, TsvReader};
use sinp_core_fuzz::assert_journalable;

fuzz_target!(|data: &[u8]| {
    let mut reader = match TsvReader::new("synthese.csv", data) {
        Ok(reader) => reader,
        Err(problem) => return assert_journalable(&problem),
    };
    let columns = reader.header().len();
    let mut previous_line = 0;
    // A record that cannot be read ends the file for the loader too.
    loop {
        match reader.next_record() {
            Ok(true) => {}
            Ok(false) => break,
            Err(problem) => return assert_journalable(&problem),
        }
        assert!(reader.line() >= previous_line, "lines never go back");
        previous_line = reader.line();
        let _ = field_count_mismatch(reader.field_count(), columns);
        for i in 0..reader.field_count() {
            let _ = decode_field(reader.raw_field(i));
        }
        assert!(!reader.raw_record().contains('\0'));
    }
});
