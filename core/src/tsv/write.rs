//! Writing the TSV dialect the reader reads (FORMAT.md §3), for exports: NULL is `\N`, tab, line
//! breaks, vertical tab and backslash are escaped, and a value holding a `"` is quoted (the reader
//! takes a leading `"` as a quote).

use std::io::{self, Write};

/// Appends one field's encoding to `out`.
pub fn encode_field(value: Option<&str>, out: &mut Vec<u8>) {
    encode_field_bytes(value.map(str::as_bytes), out)
}

/// Whether a byte is written otherwise than as itself.
fn is_special(byte: u8) -> bool {
    matches!(byte, b'\\' | b'\t' | b'\n' | b'\r' | 0x0B | b'"')
}

/// Appends the encoding of one field given as UTF-8 bytes (the text of a database value as it is
/// stored): escapes are all ASCII, so the bytes of other characters pass through unchanged.
pub fn encode_field_bytes(value: Option<&[u8]>, out: &mut Vec<u8>) {
    let Some(text) = value else {
        out.extend_from_slice(b"\\N");
        return;
    };
    // Most values hold nothing to escape: copied at once.
    if !text.iter().copied().any(is_special) {
        out.extend_from_slice(text);
        return;
    }
    let quoted = text.contains(&b'"');
    if quoted {
        out.push(b'"');
    }
    for &byte in text {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0x0B => out.extend_from_slice(b"\\v"),
            b'"' => out.extend_from_slice(b"\"\""),
            other => out.push(other),
        }
    }
    if quoted {
        out.push(b'"');
    }
}

/// A TSV member being written: the header first, then one record per call, each ended by LF.
pub struct TsvWriter<W: Write> {
    out: W,
    columns: usize,
    line: Vec<u8>,
    records: u64,
}

impl<W: Write> TsvWriter<W> {
    pub fn new(mut out: W, header: &[&str]) -> io::Result<TsvWriter<W>> {
        let mut line = Vec::new();
        for (i, name) in header.iter().enumerate() {
            if i > 0 {
                line.push(b'\t');
            }
            encode_field(Some(name), &mut line);
        }
        line.push(b'\n');
        out.write_all(&line)?;
        Ok(TsvWriter {
            out,
            columns: header.len(),
            line,
            records: 0,
        })
    }

    /// Writes a record of as many values as the header has names.
    pub fn write_record<'a>(
        &mut self,
        values: impl IntoIterator<Item = Option<&'a str>>,
    ) -> io::Result<()> {
        self.write_record_bytes(values.into_iter().map(|v| v.map(str::as_bytes)))
    }

    /// Writes a record whose values are UTF-8 bytes.
    pub fn write_record_bytes<'a>(
        &mut self,
        values: impl IntoIterator<Item = Option<&'a [u8]>>,
    ) -> io::Result<()> {
        self.line.clear();
        let mut n = 0;
        for value in values {
            if n > 0 {
                self.line.push(b'\t');
            }
            encode_field_bytes(value, &mut self.line);
            n += 1;
        }
        if n != self.columns {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a record of {n} values under a header of {}", self.columns),
            ));
        }
        self.line.push(b'\n');
        self.records += 1;
        self.out.write_all(&self.line)
    }

    pub fn records(&self) -> u64 {
        self.records
    }

    /// The values a record has: the header's names.
    pub fn columns(&self) -> usize {
        self.columns
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::{encode_field, TsvWriter};
    use crate::tsv::{decode_field, TsvReader};

    fn encoded(value: Option<&str>) -> String {
        let mut out = Vec::new();
        encode_field(value, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values_are_escaped_as_the_reader_decodes_them() {
        assert_eq!(encoded(None), "\\N");
        assert_eq!(encoded(Some("")), "");
        assert_eq!(
            encoded(Some("a\tb\nc\rd\u{0B}e\\f")),
            "a\\tb\\nc\\rd\\ve\\\\f"
        );
        assert_eq!(encoded(Some("\\N")), "\\\\N");
        assert_eq!(encoded(Some("say \"hi\"")), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn what_is_written_is_read_back_value_for_value() {
        let records: Vec<Vec<Option<&str>>> = vec![
            vec![Some("1"), None, Some("")],
            vec![
                Some("\"quoted\" start"),
                Some("tab\there"),
                Some("line\nbreak"),
            ],
            vec![
                Some("\\N"),
                Some("back\\slash \\t literal"),
                Some("{\"a\": \"b\\\\c\"}"),
            ],
            vec![Some("é ü ✓"), Some("\r\n"), Some("end\"")],
        ];
        let mut writer = TsvWriter::new(Vec::new(), &["one", "two", "three"]).unwrap();
        for record in &records {
            writer.write_record(record.iter().copied()).unwrap();
        }
        assert_eq!(writer.records(), 4);
        let bytes = writer.into_inner();
        let mut reader = TsvReader::new("test.csv", bytes.as_slice()).unwrap();
        assert_eq!(reader.header(), ["one", "two", "three"]);
        for record in &records {
            assert!(reader.next_record().unwrap());
            let read: Vec<Option<String>> = (0..3)
                .map(|i| {
                    decode_field(reader.raw_field(i))
                        .unwrap()
                        .map(|v| v.into_owned())
                })
                .collect();
            let expected: Vec<Option<String>> =
                record.iter().map(|v| v.map(str::to_string)).collect();
            assert_eq!(read, expected);
        }
        assert!(!reader.next_record().unwrap());
    }

    #[test]
    fn a_record_of_the_wrong_width_is_refused() {
        let mut writer = TsvWriter::new(Vec::new(), &["one", "two"]).unwrap();
        assert!(writer.write_record([Some("1")]).is_err());
    }
}
