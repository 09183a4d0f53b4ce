//! The value parsers of FORMAT.md §4, the first byte picking which one reads the rest (as text:
//! the TSV reader only hands them valid UTF-8). Refusals are fine; a panic, a hang or unbounded
//! memory is a bug, and so is a date that does not read back as itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sinp_core::spec::staging::escape_copy_text;
use sinp_core::tsv::decode_escapes;
use sinp_core::validate::{self, geometry::check_geometry};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    if selector % 12 == 11 {
        // A geometry as hex EWKB: the rest's bytes, hex-encoded.
        let hex: String = rest.iter().map(|b| format!("{b:02X}")).collect();
        let _ = check_geometry(&hex);
        return;
    }
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match selector % 12 {
        0 => {
            let _ = check_geometry(text);
        }
        1 => {
            let _ = validate::parse_text_array(text);
        }
        2 => {
            let _ = validate::parse_text_array2(text);
        }
        3 => {
            let _ = validate::parse_json_object(text);
        }
        4 => {
            let _ = validate::parse_json_array(text);
        }
        5 => {
            if let Ok(date) = validate::parse_date(text) {
                let _ = date.next_day();
                assert_eq!(validate::parse_date(&date.to_string()[..10]), Ok(date));
            }
        }
        6 => {
            if let Ok(time) = validate::parse_datetime(text) {
                let _ = time.next_day();
                assert_eq!(validate::parse_datetime(&time.to_string()), Ok(time));
            }
        }
        7 => {
            let _ = validate::parse_uuid(text);
            let _ = validate::parse_int(text);
            let _ = validate::parse_real(text);
            let _ = validate::parse_bool(text);
            let _ = validate::parse_action(text);
        }
        8 => {
            let _ = validate::check_length(text, 255);
            let _ = validate::observer_uuids(text);
        }
        9 => {
            let (a, b) = text.split_once('\t').unwrap_or((text, ""));
            let _ = validate::synthese_uuid(a, b);
        }
        _ => {
            let decoded = decode_escapes(text);
            let mut out = String::new();
            escape_copy_text(&decoded, &mut out);
        }
    }
});
