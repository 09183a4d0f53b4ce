//! Writing archives (exports): a ZIP whose members are written as they come, and
//! `meta_archive.ini` as the reader parses it (FORMAT.md §2).

use std::io::{self, Seek, Write};

use zip::write::SimpleFileOptions;
use zip::ZipWriter;

/// Creates a new server file for writing: never an existing file (O_EXCL), never through a
/// symbolic link as its last component (O_NOFOLLOW), never a terminal (O_NOCTTY). Where the file
/// really is can then be asked of its descriptor (`real_path`).
pub fn create_new_file(path: &std::path::Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .read(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NOCTTY)
        .mode(0o640)
        .open(path)
}

/// A ZIP archive written member after member, each deflated as it is written.
pub struct ArchiveWriter<W: Write + Seek> {
    zip: ZipWriter<W>,
}

fn zip_error(e: zip::result::ZipError) -> io::Error {
    io::Error::other(e.to_string())
}

impl<W: Write + Seek> ArchiveWriter<W> {
    pub fn new(out: W) -> ArchiveWriter<W> {
        ArchiveWriter {
            zip: ZipWriter::new(out),
        }
    }

    /// Ends the member being written, if any, and starts the next.
    pub fn start_member(&mut self, name: &str) -> io::Result<()> {
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        self.zip.start_file(name, options).map_err(zip_error)
    }

    /// Writes the central directory; the output.
    pub fn finish(self) -> io::Result<W> {
        self.zip.finish().map_err(zip_error)
    }
}

impl<W: Write + Seek> Write for ArchiveWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.zip.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.zip.flush()
    }
}

/// The text of a `meta_archive.ini` with these keys, in order. A value is written quoted when
/// it has characters an INI reader would take otherwise (`;`, `#`, `=`, line breaks); a `"`
/// cannot be written inside quotes (the reader has no escapes) and becomes `'`. The reader trims
/// values, so they are written trimmed.
pub fn meta_archive_ini(values: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (key, value) in values {
        let value = value.trim().replace('"', "'");
        let plain = !value.is_empty() && !value.contains(['\n', '\r', ';', '#', '=', '\\']);
        if plain {
            out.push_str(&format!("{key} = {value}\n"));
        } else {
            out.push_str(&format!("{key} = \"{value}\"\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::meta_archive_ini;
    use crate::archive::parse_meta;

    #[test]
    fn a_new_file_is_never_an_existing_one_nor_a_link() {
        let dir = std::env::temp_dir().join(format!("sinp-create-new-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.zip");
        let _ = std::fs::remove_file(&file);
        assert!(super::create_new_file(&file).is_ok());
        assert_eq!(
            super::create_new_file(&file).unwrap_err().kind(),
            std::io::ErrorKind::AlreadyExists
        );
        let link = dir.join("link.zip");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(dir.join("elsewhere.zip"), &link).unwrap();
        assert!(super::create_new_file(&link).is_err());
        assert!(!dir.join("elsewhere.zip").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn what_is_written_is_read_back() {
        let values = [
            ("format_version", "1.0"),
            ("export_date", "2026-12-01 18:30:00"),
            ("taxref_version", "16"),
            ("editor", "CEN PACA; plateforme \"SILENE\""),
            ("contact", "  sinp@example.org  "),
            ("notes", "two\nlines = one note #1"),
        ];
        let text = meta_archive_ini(&values);
        let (meta, problems) = parse_meta(&text);
        assert!(problems.is_empty(), "{problems:?}\n{text}");
        assert_eq!(meta.get("format_version"), Some("1.0"));
        assert_eq!(meta.get("export_date"), Some("2026-12-01 18:30:00"));
        assert_eq!(meta.get("editor"), Some("CEN PACA; plateforme 'SILENE'"));
        assert_eq!(meta.get("contact"), Some("sinp@example.org"));
        assert_eq!(meta.get("notes"), Some("two\nlines = one note #1"));
    }
}
