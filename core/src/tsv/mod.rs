//! The TSV dialect of the archives (FORMAT.md §3): tab separated, `"` quoting with `""`, `\N` for
//! NULL, the escapes `\t \n \r \v \\` decoded, UTF-8 with an optional BOM, LF or CRLF.
//!
//! Records are read with the csv crate, streaming. The reader also keeps the exact bytes of the
//! current record (not more), so a problem can be journaled with the record as it was written.

// A Problem is returned at most once per file: its size does not matter.
#![allow(clippy::result_large_err)]

use std::borrow::Cow;
use std::io::Read;
use std::sync::{Arc, Mutex};

use crate::error::Problem;
use crate::sync::locked;

pub mod write;

/// The longest record read by default (sinp_import.max_record_size): one record is held in memory
/// twice (the csv crate's buffer and its exact bytes), so this bounds a file's memory whatever its
/// lines hold.
pub const DEFAULT_MAX_RECORD_BYTES: u64 = 16 << 20;

/// The bytes read from the input that the current record may still need.
#[derive(Default)]
struct RawLog {
    /// Absolute offset in the input of `bytes[0]`.
    start: u64,
    bytes: Vec<u8>,
    /// The input has reported its end.
    eof: bool,
    /// Where the last complete record ended: what was read since belongs to the next one.
    record_end: u64,
    max_record_bytes: u64,
    /// The input was cut short because a record grew past `max_record_bytes`.
    too_long: bool,
}

impl RawLog {
    /// Forget the bytes before `offset`, in large steps so the cost stays linear.
    fn release_before(&mut self, offset: u64) {
        let drop = (offset.saturating_sub(self.start)) as usize;
        if drop >= 64 * 1024 && drop <= self.bytes.len() {
            self.bytes.drain(..drop);
            self.start = offset;
        }
    }

    fn slice(&self, from: u64, to: u64) -> &[u8] {
        let a = (from.saturating_sub(self.start) as usize).min(self.bytes.len());
        let b = (to.saturating_sub(self.start) as usize).min(self.bytes.len());
        &self.bytes[a..b.max(a)]
    }
}

/// A reader that records what passes through it into a shared `RawLog`.
struct Recording<R> {
    inner: R,
    log: Arc<Mutex<RawLog>>,
}

impl<R: Read> Read for Recording<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        {
            let mut log = locked(&self.log);
            let read = log.start + log.bytes.len() as u64;
            if read.saturating_sub(log.record_end) > log.max_record_bytes {
                // The record (or a line without end) is longer than allowed: the input ends
                // here, before it costs more memory.
                log.too_long = true;
                return Err(std::io::Error::other("record too long"));
            }
        }
        let n = self.inner.read(buf)?;
        let mut log = locked(&self.log);
        log.bytes.extend_from_slice(&buf[..n]);
        log.eof |= n == 0 && !buf.is_empty();
        Ok(n)
    }
}

/// Streaming reader of one archive member.
pub struct TsvReader<R: Read> {
    file: String,
    reader: csv::Reader<Recording<R>>,
    log: Arc<Mutex<RawLog>>,
    header: Vec<String>,
    record: csv::ByteRecord,
    record_start: u64,
    record_end: u64,
    /// Physical line where the current record starts.
    line: u64,
    /// Line number at byte `record_end` (lines are counted from the bytes, so blank lines and
    /// line breaks inside quoted fields all count).
    line_at_end: u64,
}

impl<R: Read> TsvReader<R> {
    /// Opens the member and reads its header line.
    pub fn new(file: &str, input: R) -> Result<TsvReader<R>, Problem> {
        Self::with_max_record_bytes(file, input, DEFAULT_MAX_RECORD_BYTES)
    }

    /// Opens the member and reads its header line; a record longer than `max_record_bytes`
    /// (RECORD_TOO_LONG) ends the file.
    pub fn with_max_record_bytes(
        file: &str,
        input: R,
        max_record_bytes: u64,
    ) -> Result<TsvReader<R>, Problem> {
        let log = Arc::new(Mutex::new(RawLog {
            max_record_bytes,
            ..RawLog::default()
        }));
        let reader = csv::ReaderBuilder::new()
            .delimiter(b'\t')
            .quote(b'"')
            .double_quote(true)
            .escape(None)
            .has_headers(false)
            .flexible(true)
            .from_reader(Recording {
                inner: input,
                log: Arc::clone(&log),
            });
        let mut tsv = TsvReader {
            file: file.to_string(),
            reader,
            log,
            header: Vec::new(),
            record: csv::ByteRecord::new(),
            record_start: 0,
            record_end: 0,
            line: 0,
            line_at_end: 1,
        };
        if !tsv.next_record()? {
            return Err(Problem::error(
                file,
                "EMPTY_FILE",
                "the file is empty: it has no header line",
            ));
        }
        let mut header = Vec::with_capacity(tsv.record.len());
        for i in 0..tsv.record.len() {
            let name = match decode_field(&tsv.record[i]) {
                Err(e) => {
                    return Err(Problem::error(
                        file,
                        "ENCODING_ERROR",
                        format!("{} (in the header)", e.message()),
                    )
                    .at_line(1))
                }
                // The header's names are taken as written: no NULL, no escapes.
                Ok(_) => std::str::from_utf8(&tsv.record[i]).unwrap_or_default(),
            };
            header.push(name.trim().to_string());
        }
        tsv.header = header;
        Ok(tsv)
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Advances to the next record; false at the end of the file. Blank lines are skipped.
    pub fn next_record(&mut self) -> Result<bool, Problem> {
        {
            let mut log = locked(&self.log);
            log.release_before(self.record_end);
            log.record_end = self.record_end;
        }
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => Ok(false),
            Ok(true) => {
                let pos = self
                    .record
                    .position()
                    .expect("records read by read_byte_record have a position");
                let end = self.reader.position().byte();
                let log = locked(&self.log);
                let newlines =
                    |from, to| log.slice(from, to).iter().filter(|&&b| b == b'\n').count() as u64;
                // csv reports the position where it started reading, before the line breaks
                // that ended the previous record and any blank lines: skip those.
                let mut start = pos.byte().max(self.record_end);
                let skipped = log
                    .slice(start, end)
                    .iter()
                    .take_while(|&&b| b == b'\n' || b == b'\r')
                    .count() as u64;
                start += skipped;
                self.line = self.line_at_end + newlines(self.record_end, start);
                self.line_at_end = self.line + newlines(start, end);
                // A quote that is never closed swallows the rest of the file into one record:
                // that record then reaches the end with an odd number of quote characters.
                let at_end = log.eof && end >= log.start + log.bytes.len() as u64;
                let unterminated =
                    at_end && log.slice(start, end).iter().filter(|&&b| b == b'"').count() % 2 == 1;
                drop(log);
                self.record_start = start;
                self.record_end = end;
                if unterminated {
                    return Err(Problem::error(
                        &self.file,
                        "UNTERMINATED_QUOTE",
                        "a quoted field is never closed: the rest of the file was read as one field",
                    )
                    .at_line(self.line)
                    .with_raw_record(self.raw_record()));
                }
                Ok(true)
            }
            Err(_) if locked(&self.log).too_long => {
                let log = locked(&self.log);
                let (max, line) = (log.max_record_bytes, self.line_at_end);
                let start = log.slice(self.record_end, self.record_end + 200);
                let beginning = String::from_utf8_lossy(start).replace('\0', "\u{FFFD}");
                drop(log);
                Err(Problem::error(
                    &self.file,
                    "RECORD_TOO_LONG",
                    format!(
                        "a record longer than {max} bytes (sinp_import.max_record_size): the rest of the file is not read"
                    ),
                )
                .at_line(line)
                .with_raw_record(format!("{beginning}…")))
            }
            Err(e) => Err(Problem::error(
                &self.file,
                "INVALID_RECORD",
                format!("unreadable record: {e}"),
            )
            .at_line(e.position().map(|p| p.line()).unwrap_or(self.line + 1))),
        }
    }

    /// Physical line where the current record starts (the header is line 1).
    pub fn line(&self) -> u64 {
        self.line
    }

    pub fn field_count(&self) -> usize {
        self.record.len()
    }

    /// The current record's field `i` as it was read (quotes removed, nothing decoded).
    pub fn raw_field(&self, i: usize) -> &[u8] {
        &self.record[i]
    }

    /// The current record exactly as written in the file, without its line terminator (bytes that
    /// text cannot hold replaced).
    pub fn raw_record(&self) -> String {
        let log = locked(&self.log);
        let mut raw = log.slice(self.record_start, self.record_end);
        while let Some((&last, rest)) = raw.split_last() {
            if last == b'\n' || last == b'\r' {
                raw = rest;
            } else {
                break;
            }
        }
        // Stored as text in the journal: invalid UTF-8 and NUL bytes, which text cannot hold,
        // become U+FFFD.
        String::from_utf8_lossy(raw).replace('\0', "\u{FFFD}")
    }
}

/// A record with another number of fields than the header: the problem code and message (an
/// unescaped tab or line break in a value, usually).
pub fn field_count_mismatch(found: usize, expected: usize) -> Option<(&'static str, String)> {
    let (code, what) = match found.cmp(&expected) {
        std::cmp::Ordering::Equal => return None,
        std::cmp::Ordering::Greater => ("ROW_HAVE_TOO_MUCH_COLUMN", "more"),
        std::cmp::Ordering::Less => ("ROW_HAVE_LESS_COLUMN", "fewer"),
    };
    Some((
        code,
        format!("the record has {found} fields, {what} than the {expected} of the header"),
    ))
}

/// Why a field's bytes are not text PostgreSQL can store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undecodable {
    NotUtf8,
    /// A NUL byte: valid UTF-8, but no PostgreSQL text, varchar or jsonb value may contain it.
    Nul,
}

impl Undecodable {
    pub fn message(self) -> &'static str {
        match self {
            Undecodable::NotUtf8 => "the value is not valid UTF-8",
            Undecodable::Nul => {
                "the value contains a NUL byte (0x00), which PostgreSQL text cannot store"
            }
        }
    }
}

/// A field's value: `None` for `\N`, otherwise the text with the escapes decoded.
pub fn decode_field(raw: &[u8]) -> Result<Option<Cow<'_, str>>, Undecodable> {
    if raw == b"\\N" {
        return Ok(None);
    }
    let text = std::str::from_utf8(raw).map_err(|_| Undecodable::NotUtf8)?;
    if raw.contains(&0) {
        return Err(Undecodable::Nul);
    }
    Ok(Some(decode_escapes(text)))
}

/// Decodes `\t \n \r \v \\`; any other backslash is kept as it is (FORMAT.md §3).
pub fn decode_escapes(text: &str) -> Cow<'_, str> {
    if !text.contains('\\') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let mut lookahead = chars.clone();
        let decoded = match lookahead.next() {
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
                chars = lookahead;
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_record_longer_than_the_limit_ends_the_file_with_bounded_memory() {
        use super::*;
        // A 64 MB line without a tab or line break, read with a 1 MB limit.
        let mut text = b"name\tdesc\nSRC\tfirst\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', 64 << 20));
        text.extend_from_slice(b"\nSRC2\tafter\n");
        let mut tsv =
            TsvReader::with_max_record_bytes("source.csv", text.as_slice(), 1 << 20).unwrap();
        assert!(tsv.next_record().unwrap());
        assert_eq!(tsv.raw_record(), "SRC\tfirst");
        let problem = tsv.next_record().unwrap_err();
        assert_eq!(problem.code, "RECORD_TOO_LONG");
        assert_eq!(problem.line, Some(3));
        assert!(problem.raw_record.as_deref().unwrap().len() < 300);
        // What was read of the line stays near the limit.
        assert!(locked(&tsv.log).bytes.len() < 2 << 20);
        // A long record under the limit is read.
        let mut ok = b"name\tdesc\n".to_vec();
        ok.extend(std::iter::repeat_n(b'y', 500_000));
        ok.extend_from_slice(b"\tz\n");
        let mut tsv =
            TsvReader::with_max_record_bytes("source.csv", ok.as_slice(), 1 << 20).unwrap();
        assert!(tsv.next_record().unwrap());
        assert_eq!(tsv.raw_field(0).len(), 500_000);
        assert!(!tsv.next_record().unwrap());
    }

    use super::*;

    fn read_all(input: &str) -> Vec<(u64, Vec<Option<String>>, String)> {
        let mut r = TsvReader::new("t.csv", input.as_bytes()).unwrap();
        let mut out = Vec::new();
        while r.next_record().unwrap() {
            let fields = (0..r.field_count())
                .map(|i| {
                    decode_field(r.raw_field(i))
                        .unwrap()
                        .map(|c| c.into_owned())
                })
                .collect();
            out.push((r.line(), fields, r.raw_record()));
        }
        out
    }

    #[test]
    fn reads_header_nulls_quotes_and_escapes() {
        let rows = read_all("a\tb\tc\n1\t\\N\t\"x\"\"y\"\n2\ttab\\there\tback\\\\slash \\q\n");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, 2);
        assert_eq!(rows[0].1, vec![Some("1".into()), None, Some("x\"y".into())]);
        assert_eq!(
            rows[1].1,
            vec![
                Some("2".into()),
                Some("tab\there".into()),
                Some("back\\slash \\q".into())
            ]
        );
        assert_eq!(rows[1].2, "2\ttab\\there\tback\\\\slash \\q");
    }

    #[test]
    fn records_spanning_lines_report_their_first_line_and_exact_raw_text() {
        let rows = read_all("a\tb\n1\t\"two\nlines\"\n3\t\"with\ttab\"\r\n\n5\tlast");
        let lines: Vec<_> = rows.iter().map(|r| r.0).collect();
        assert_eq!(lines, vec![2, 4, 6]);
        assert_eq!(rows[0].1[1].as_deref(), Some("two\nlines"));
        assert_eq!(rows[0].2, "1\t\"two\nlines\"");
        assert_eq!(rows[1].1[1].as_deref(), Some("with\ttab"));
        assert_eq!(rows[1].2, "3\t\"with\ttab\"");
        assert_eq!(rows[2].2, "5\tlast");
    }

    #[test]
    fn a_leading_bom_is_ignored_and_an_empty_file_is_reported() {
        let r = TsvReader::new("t.csv", "\u{feff}name\tx\n".as_bytes()).unwrap();
        assert_eq!(r.header(), ["name", "x"]);
        let e = TsvReader::new("t.csv", "".as_bytes()).err().unwrap();
        assert_eq!(e.code, "EMPTY_FILE");
    }

    #[test]
    fn a_nul_byte_is_undecodable_and_replaced_in_the_raw_record() {
        let mut r = TsvReader::new("t.csv", &b"a\tb\nx\0y\tz\n"[..]).unwrap();
        assert!(r.next_record().unwrap());
        assert_eq!(decode_field(r.raw_field(0)), Err(Undecodable::Nul));
        assert_eq!(decode_field(r.raw_field(1)).unwrap().as_deref(), Some("z"));
        assert_eq!(r.raw_record(), "x\u{FFFD}y\tz");
        let e = TsvReader::new("t.csv", &b"a\0\tb\n"[..]).err().unwrap();
        assert_eq!((e.code, e.line), ("ENCODING_ERROR", Some(1)));
    }

    #[test]
    fn raw_records_stay_exact_far_into_a_large_file() {
        let mut text = String::from("id\tv\n");
        for i in 0..20_000 {
            text.push_str(&format!("{i}\tvalue number {i}\n"));
        }
        let rows = read_all(&text);
        assert_eq!(rows.len(), 20_000);
        assert_eq!(rows[19_999].2, "19999\tvalue number 19999");
        assert_eq!(rows[19_999].0, 20_001);
    }

    #[test]
    fn an_unterminated_quote_is_reported_at_the_line_where_it_opens() {
        let mut r =
            TsvReader::new("t.csv", "a\tb\n1\tok\n2\t\"never closed\n3\tx\n".as_bytes()).unwrap();
        assert!(r.next_record().unwrap());
        let e = r.next_record().unwrap_err();
        assert_eq!((e.code, e.line), ("UNTERMINATED_QUOTE", Some(3)));
        // Quotes inside an unquoted field are literal, and a closed quote is fine.
        let mut r = TsvReader::new("t.csv", "a\tb\n1\t\"ok\"\n".as_bytes()).unwrap();
        assert!(r.next_record().unwrap());
        assert!(!r.next_record().unwrap());
    }

    #[test]
    fn invalid_utf8_is_an_error_for_the_field() {
        assert_eq!(decode_field(b"ab\xff"), Err(Undecodable::NotUtf8));
        assert_eq!(decode_field(b"a\0b"), Err(Undecodable::Nul));
        assert_eq!(decode_field(b"\\N").unwrap(), None);
        assert_eq!(decode_field(b"").unwrap().as_deref(), Some(""));
    }

    #[test]
    fn decode_escapes_handles_every_escape_and_leaves_others() {
        assert_eq!(
            decode_escapes(r"a\tb\nc\rd\ve\\f\x"),
            "a\tb\nc\rd\u{0B}e\\f\\x"
        );
        assert_eq!(decode_escapes(r"end\"), "end\\");
        assert!(matches!(decode_escapes("plain"), Cow::Borrowed(_)));
    }
}
