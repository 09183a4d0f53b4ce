//! Small shared helpers: the PRNG, calendar arithmetic, the TSV dialect and ZIP options.

use std::fmt::Write as _;
use std::io::{self, Write};

/// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough for test data.
/// Every draw is a pure function of the seed, so archives are byte-for-byte reproducible.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// An independent stream for item `i` of kind `stream` (e.g. synthese row i): random access,
    /// O(1), no state shared between items.
    pub fn for_item(seed: u64, stream: u64, i: u64) -> Self {
        let mut a = Rng(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        let k = a.next_u64();
        let mut b = Rng(k ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        // one extra round so neighbouring items do not start from correlated states
        let s = b.next_u64();
        Rng(s)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0); the modulo bias is irrelevant here.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        self.next_u64() % n
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        assert!(lo <= hi, "empty range {lo}..={hi}");
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// True with probability `pct` percent.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }

    /// A uniformly chosen element (by value).
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// A uniformly chosen element (by reference).
    pub fn pick_ref<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// How a timestamp is spelled in the file (all accepted by FORMAT.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// `YYYY-MM-DD`
    Date,
    /// `YYYY-MM-DD HH:MM`
    Minutes,
    /// `YYYY-MM-DD HH:MM:SS`
    Seconds,
    /// `YYYY-MM-DDTHH:MM:SS`
    SecondsT,
    /// `YYYY-MM-DD HH:MM:SS.ffffff`
    Micros(u32),
}

/// Appends `days` (since 1970-01-01) + `secs` (in the day) to `out` in the given spelling.
pub fn push_stamp(out: &mut String, days: i64, secs: i64, style: Stamp) {
    let (y, m, d) = civil_from_days(days);
    push_digits(out, y, 4);
    out.push('-');
    push_digits(out, m, 2);
    out.push('-');
    push_digits(out, d, 2);
    let (hh, mm, ss) = (secs / 3600, (secs / 60) % 60, secs % 60);
    let (sep, seconds, micros) = match style {
        Stamp::Date => return,
        Stamp::Minutes => (' ', false, None),
        Stamp::Seconds => (' ', true, None),
        Stamp::SecondsT => ('T', true, None),
        Stamp::Micros(us) => (' ', true, Some(us)),
    };
    out.push(sep);
    push_digits(out, hh, 2);
    out.push(':');
    push_digits(out, mm, 2);
    if seconds {
        out.push(':');
        push_digits(out, ss, 2);
    }
    if let Some(us) = micros {
        out.push('.');
        push_digits(out, i64::from(us), 6);
    }
}

/// Appends a non-negative number zero-padded to exactly `width` digits (the hot path of the
/// timestamps; `write!` is several times slower).
fn push_digits(out: &mut String, v: i64, width: usize) {
    debug_assert!(v >= 0 && v < 10i64.pow(width as u32));
    let mut buf = [b'0'; 8];
    let mut v = v;
    for k in (0..width).rev() {
        buf[k] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.push_str(std::str::from_utf8(&buf[..width]).expect("ascii digits"));
}

/// The value of a field after the escape decoding of FORMAT.md §3: `\t` `\n` `\r` `\v` `\\` become
/// TAB, LF, CR, VT and backslash; any other backslash is kept as it is. (NULL, the exact field
/// `\N`, is handled by the caller.)
pub fn decode_escapes(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let decoded = match chars.peek() {
            Some('t') => Some('\t'),
            Some('n') => Some('\n'),
            Some('r') => Some('\r'),
            Some('v') => Some('\u{0B}'),
            Some('\\') => Some('\\'),
            _ => None,
        };
        match decoded {
            Some(d) => {
                out.push(d);
                chars.next();
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Encodes a logical text for the file: every backslash doubled (used for JSON values, whose
/// own escapes contain backslashes). Control characters are expected to be escaped already.
pub fn escape_backslashes(logical: &str) -> String {
    logical.replace('\\', "\\\\")
}

/// The writer of the archives' TSV dialect: tab, `"` quoting only where needed (`""` doubling),
/// LF record ends. `\N` is written by the callers as the two characters, unquoted.
pub fn tsv_writer<W: Write>(w: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .delimiter(b'\t')
        .quote(b'"')
        .double_quote(true)
        .quote_style(csv::QuoteStyle::Necessary)
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(1 << 16)
        .from_writer(w)
}

/// Writes a whole (small) TSV member: header, then the rows.
pub fn write_tsv<W: Write, R: AsRef<[u8]>>(
    w: W,
    header: &[&str],
    rows: &[Vec<R>],
) -> io::Result<()> {
    let mut t = tsv_writer(w);
    t.write_record(header)?;
    for r in rows {
        assert_eq!(r.len(), header.len(), "row width differs from header");
        t.write_record(r)?;
    }
    t.flush()?;
    Ok(())
}

/// ZIP member options: deflate, fixed timestamp (reproducible bytes), rw-r--r--.
pub fn zip_options(level: i64, large: bool, stamp: zip::DateTime) -> zip::write::SimpleFileOptions {
    zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(level))
        .last_modified_time(stamp)
        .unix_permissions(0o644)
        .large_file(large)
}

/// The ZIP timestamp of an export date `YYYY-MM-DD HH:MM` (1980-01-01 if unparsable).
pub fn zip_stamp(export_date: &str) -> zip::DateTime {
    let num = |a: usize, b: usize| export_date.get(a..b).and_then(|s| s.parse::<u16>().ok());
    match (num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16)) {
        (Some(y), Some(mo), Some(d), Some(h), Some(mi)) => {
            zip::DateTime::from_date_and_time(y, mo as u8, d as u8, h as u8, mi as u8, 0)
                .unwrap_or_default()
        }
        (Some(y), Some(mo), Some(d), _, _) => {
            zip::DateTime::from_date_and_time(y, mo as u8, d as u8, 0, 0, 0).unwrap_or_default()
        }
        _ => zip::DateTime::default(),
    }
}

/// How a geometry value is spelled, per FORMAT.md §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeomSpelling {
    Ewkt,
    Ewkb,
    BareWkt,
}

/// Classifies a (non-NULL) geometry text.
pub fn classify_geom(text: &str) -> GeomSpelling {
    let t = text.trim();
    if t.len() >= 5 && t[..5].eq_ignore_ascii_case("SRID=") {
        GeomSpelling::Ewkt
    } else if !t.is_empty() && t.len().is_multiple_of(2) && t.bytes().all(|b| b.is_ascii_hexdigit())
    {
        GeomSpelling::Ewkb
    } else {
        GeomSpelling::BareWkt
    }
}

/// Upper-case hex of bytes (as PostGIS prints EWKB).
pub fn to_hex_upper(bytes: &[u8], out: &mut String) {
    for b in bytes {
        let _ = write!(out, "{b:02X}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trip() {
        for d in [-1000i64, 0, 7305, 18_500, 20_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(days_from_civil(2020, 2, 29)), (2020, 2, 29));
        let mut s = String::new();
        let d = days_from_civil(2019, 3, 7);
        push_stamp(&mut s, d, 12 * 3600 + 9 * 60 + 14, Stamp::Micros(451_907));
        assert_eq!(s, "2019-03-07 12:09:14.451907");
        s.clear();
        push_stamp(&mut s, d, 5 * 3600 + 7, Stamp::SecondsT);
        assert_eq!(s, "2019-03-07T05:00:07");
        s.clear();
        push_stamp(&mut s, d, 5 * 3600 + 7, Stamp::Minutes);
        assert_eq!(s, "2019-03-07 05:00");
        s.clear();
        push_stamp(&mut s, d, 0, Stamp::Date);
        assert_eq!(s, "2019-03-07");
    }

    #[test]
    fn escapes() {
        assert_eq!(decode_escapes(r"a\tb"), "a\tb");
        assert_eq!(decode_escapes(r"a\nb\rc\vd"), "a\nb\rc\u{0B}d");
        assert_eq!(decode_escapes(r"C:\\temp"), r"C:\temp");
        assert_eq!(decode_escapes(r"\d+ \x"), r"\d+ \x");
        assert_eq!(decode_escapes(r"end\"), r"end\");
        assert_eq!(decode_escapes(r"\\n"), r"\n");
        assert_eq!(
            escape_backslashes(r#"{"a":"x\"y\\z"}"#),
            r#"{"a":"x\\"y\\\\z"}"#
        );
    }

    #[test]
    fn geom_classes() {
        assert_eq!(classify_geom("SRID=2154;POINT(1 2)"), GeomSpelling::Ewkt);
        assert_eq!(classify_geom("0101000020E6100000"), GeomSpelling::Ewkb);
        assert_eq!(classify_geom("POINT(1 2)"), GeomSpelling::BareWkt);
    }
}
