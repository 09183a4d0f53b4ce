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

/// The containers an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    Zip,
    TarBz2,
}

impl ArchiveFormat {
    /// `'zip'` or `'tar.bz2'`, as the SQL functions take it.
    pub fn parse(name: &str) -> Option<ArchiveFormat> {
        match name {
            "zip" => Some(ArchiveFormat::Zip),
            "tar.bz2" => Some(ArchiveFormat::TarBz2),
            _ => None,
        }
    }
}

/// A member of a tar being written: a tar header holds the member's size, so the member is
/// written to a temporary file first, then appended (memory holds neither).
struct PendingMember {
    name: String,
    path: std::path::PathBuf,
    file: std::fs::File,
}

impl Drop for PendingMember {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

enum Container<W: Write + Seek> {
    Zip(Box<ZipWriter<W>>),
    TarBz2 {
        tar: tar::Builder<bzip2::write::BzEncoder<W>>,
        member: Option<PendingMember>,
        members: u32,
    },
}

/// An archive written member after member: a ZIP, each member deflated as it is written, or a
/// `.tar.bz2`, each member through a temporary file.
pub struct ArchiveWriter<W: Write + Seek> {
    container: Container<W>,
}

fn zip_error(e: zip::result::ZipError) -> io::Error {
    io::Error::other(e.to_string())
}

impl<W: Write + Seek> ArchiveWriter<W> {
    pub fn new(out: W) -> ArchiveWriter<W> {
        ArchiveWriter::with_format(out, ArchiveFormat::Zip)
    }

    pub fn with_format(out: W, format: ArchiveFormat) -> ArchiveWriter<W> {
        let container = match format {
            ArchiveFormat::Zip => Container::Zip(Box::new(ZipWriter::new(out))),
            ArchiveFormat::TarBz2 => Container::TarBz2 {
                tar: tar::Builder::new(bzip2::write::BzEncoder::new(
                    out,
                    bzip2::Compression::default(),
                )),
                member: None,
                members: 0,
            },
        };
        ArchiveWriter { container }
    }

    /// Ends the member being written, if any, and starts the next.
    pub fn start_member(&mut self, name: &str) -> io::Result<()> {
        match &mut self.container {
            Container::Zip(zip) => {
                // Level 1, the fastest deflate: an export should cost about a COPY TO. Measured on
                // 100 000 observations: 4.8 s and 34.0 MB, against 5.6 s and 21.4 MB at the
                // default level 6 (75.3 MB uncompressed; docs/benchmarks.md).
                let options = SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Deflated)
                    .compression_level(Some(1))
                    .large_file(true);
                zip.start_file(name, options).map_err(zip_error)
            }
            Container::TarBz2 {
                tar,
                member,
                members,
            } => {
                if let Some(done) = member.take() {
                    append(tar, done)?;
                }
                *members += 1;
                let path = std::env::temp_dir().join(format!(
                    "sinp-export-{}-{}-{members}.member",
                    std::process::id(),
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_nanos())
                        .unwrap_or(0)
                ));
                let file = create_new_file(&path)?;
                *member = Some(PendingMember {
                    name: name.to_string(),
                    path,
                    file,
                });
                Ok(())
            }
        }
    }

    /// Writes the archive's end (the ZIP's central directory; the tar's last member and end);
    /// the output.
    pub fn finish(self) -> io::Result<W> {
        match self.container {
            Container::Zip(zip) => (*zip).finish().map_err(zip_error),
            Container::TarBz2 {
                mut tar, member, ..
            } => {
                if let Some(done) = member {
                    append(&mut tar, done)?;
                }
                tar.into_inner()?.finish()
            }
        }
    }
}

fn append<W: Write>(tar: &mut tar::Builder<W>, mut member: PendingMember) -> io::Result<()> {
    use std::io::SeekFrom;
    member.file.flush()?;
    let size = member.file.seek(SeekFrom::End(0))?;
    member.file.seek(SeekFrom::Start(0))?;
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    );
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, &member.name, &mut member.file)
}

impl<W: Write + Seek> Write for ArchiveWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.container {
            Container::Zip(zip) => zip.write(buf),
            Container::TarBz2 { member, .. } => match member {
                Some(m) => m.file.write(buf),
                None => Err(io::Error::other("no member started")),
            },
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.container {
            Container::Zip(zip) => zip.flush(),
            Container::TarBz2 { member, .. } => match member {
                Some(m) => m.file.flush(),
                None => Ok(()),
            },
        }
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
    use super::{meta_archive_ini, ArchiveFormat, ArchiveWriter};
    use std::io::Write;

    #[test]
    fn both_containers_are_read_back_by_the_reader() {
        for format in [ArchiveFormat::Zip, ArchiveFormat::TarBz2] {
            let mut archive = ArchiveWriter::with_format(std::io::Cursor::new(Vec::new()), format);
            archive.start_member("meta_archive.ini").unwrap();
            archive
                .write_all(b"format_version = 1.0\nexport_date = 2026-12-01\n")
                .unwrap();
            archive.start_member("source.csv").unwrap();
            archive
                .write_all(b"name\tmeta_last_action\nsrc\tI\n")
                .unwrap();
            let bytes = archive.finish().unwrap().into_inner();
            let mut read = crate::archive::Archive::open(
                "2026-12-01_sinp_paca_test.zip",
                Box::new(std::io::Cursor::new(bytes)),
                crate::archive::Limits::default(),
            )
            .unwrap();
            assert_eq!(
                read.read_member_text("source.csv").unwrap().as_deref(),
                Some("name\tmeta_last_action\nsrc\tI\n"),
                "{format:?}"
            );
            assert!(read.has("meta_archive.ini"));
        }
    }
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
