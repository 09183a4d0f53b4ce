//! The bytes as meta_archive.ini (read lossily as text, as the loader reads it), and as an
//! archive's file name. Problems are fine; a panic, a hang or unbounded memory is a bug, and so is
//! a value or problem the journal cannot store (U+0000).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sinp_core::archive::{archive_extension, parse_archive_name, parse_meta};
use sinp_core_fuzz::assert_journalable;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (meta, problems) = parse_meta(&text);
    problems.iter().for_each(assert_journalable);
    for (key, value) in &meta.values {
        assert!(
            !key.contains('\0') && !value.contains('\0'),
            "U+0000 in {key:?} = {value:?}"
        );
    }
    let _ = meta.get("format_version");
    let _ = meta.to_json();
    let _ = parse_archive_name(&text);
    let _ = archive_extension(&text);
});
