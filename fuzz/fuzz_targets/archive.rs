//! The bytes as an archive (ZIP, tar.bz2, tar.gz), opened as the loader opens one, with the
//! default limits: every member listed, meta_archive.ini read as text, every member streamed to
//! its end. Errors are fine; a panic, a hang or unbounded memory is a bug.
#![no_main]

use std::io::{Cursor, Read};

use libfuzzer_sys::fuzz_target;
use sinp_core::archive::{parse_meta, Archive, Limits, META_FILE};

fuzz_target!(|data: &[u8]| {
    let Ok(mut archive) = Archive::open("fuzz.zip", Box::new(Cursor::new(data)), Limits::default())
    else {
        return;
    };
    let members: Vec<String> = archive.member_names().map(str::to_string).collect();
    for member in &members {
        assert!(archive.has(member));
    }
    if let Ok(Some(text)) = archive.read_member_text(META_FILE) {
        let _ = parse_meta(&text);
    }
    let mut buf = vec![0u8; 64 * 1024];
    for member in &members {
        let Ok(Some(mut reader)) = archive.open_member(member) else {
            continue;
        };
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
    }
    let _ = archive.tripwire();
});
