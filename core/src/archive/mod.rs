//! Reading an archive: the container (detected by its magic bytes), its members (streamed, never
//! extracted to disk, never used as paths), `meta_archive.ini`, and the archive's name.

pub mod inbox;
mod meta;
mod name;
pub mod tarball;
pub mod write;

pub use meta::{parse_meta, MetaArchive};
pub use name::{archive_extension, parse_archive_name, ArchiveName};

use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::error::{LoadError, LoadResult};
use crate::sync::locked;

pub const META_FILE: &str = "meta_archive.ini";
pub const SYNTHESE_FILE: &str = "synthese.csv";
/// Optional description of the additional fields (FORMAT.md §6).
pub const ADDITIONAL_DATA_FILES: [&str; 2] = ["meta_additional_data.csv", "additional_data.csv"];

/// Opens a server file for reading and checks, on the open descriptor, that it is a regular file:
/// the file checked is the file read. It is opened without blocking, so that a FIFO is refused at
/// once instead of waiting, deaf to cancels, for a writer (O_NONBLOCK changes nothing for a regular
/// file), and never becomes the backend's controlling terminal (O_NOCTTY). A directory, FIFO,
/// device or socket is an `InvalidInput` error naming what it is.
pub fn open_regular_file(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let kind = file.metadata()?.file_type();
    let what = if kind.is_file() {
        return Ok(file);
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a file"
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("It is {what}, not a regular file."),
    ))
}

/// Where an open file really is (symbolic links resolved), asked of the kernel for the descriptor.
pub fn real_path(file: &File) -> io::Result<PathBuf> {
    use std::os::fd::AsRawFd;
    std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()))
}

/// The SHA-256 (lowercase hex) and size of a stream, read once in blocks.
pub fn sha256_hex(mut reader: impl Read) -> io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((hex(&hasher.finalize()), size))
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Anything a ZIP can be read from.
/// Send: the entity files are read on the staging thread while the backend runs COPY.
pub trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

/// The container kinds, told apart by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Zip,
    TarBzip2,
    TarGzip,
    Unknown,
}

pub fn detect_container(first_bytes: &[u8]) -> Container {
    if first_bytes.starts_with(b"PK\x03\x04") || first_bytes.starts_with(b"PK\x05\x06") {
        Container::Zip
    } else if first_bytes.starts_with(b"BZh") {
        Container::TarBzip2
    } else if first_bytes.starts_with(&[0x1f, 0x8b]) {
        Container::TarGzip
    } else {
        Container::Unknown
    }
}

/// What an archive may cost (settings sinp_import.max_*): checked against the archive's directory
/// before anything is read, and again while members are decompressed (directories can lie).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_members: usize,
    pub max_member_bytes: u64,
    pub max_total_bytes: u64,
    /// Uncompressed/compressed ratio allowed for members over 1 MiB.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_members: 64,
            max_member_bytes: 16 << 30,
            max_total_bytes: 32 << 30,
            max_ratio: 200,
        }
    }
}

/// The first limit broken while reading, kept for the caller (a read error alone loses it).
pub type Tripwire = Arc<Mutex<Option<LoadError>>>;

enum Inner<'a> {
    Zip(zip::ZipArchive<Box<dyn ReadSeek + 'a>>),
    Tar(tarball::TarArchive<'a>),
}

/// An open archive: its members by their base name.
pub struct Archive<'a> {
    name: String,
    inner: Inner<'a>,
    /// (base name, index in the ZIP) of every file member.
    members: Vec<(String, usize)>,
    limits: Limits,
    /// Uncompressed bytes still allowed for the whole archive.
    budget: Arc<Mutex<u64>>,
    tripwire: Tripwire,
}

/// The reader of one member.
pub type MemberReader<'z> = Guarded<Box<dyn Read + Send + 'z>>;

/// A member's reader that stops at the limits.
pub struct Guarded<R> {
    inner: R,
    member: String,
    /// Bytes this member may still produce.
    remaining: u64,
    budget: Arc<Mutex<u64>>,
    tripwire: Tripwire,
    limit_text: String,
}

impl<R: Read> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)? as u64;
        let mut budget = locked(&self.budget);
        if n > self.remaining || n > *budget {
            let error = LoadError::LimitExceeded {
                what: format!(
                    "member {} decompresses to more than {}",
                    self.member, self.limit_text
                ),
                setting: "sinp_import.max_member_size / sinp_import.max_archive_size",
            };
            locked(&self.tripwire).get_or_insert(error);
            return Err(std::io::Error::other("archive limit exceeded"));
        }
        self.remaining -= n;
        *budget -= n;
        Ok(n as usize)
    }
}

fn mib(bytes: u64) -> String {
    format!("{} MB", bytes.div_ceil(1024 * 1024))
}

impl<'a> Archive<'a> {
    /// Opens a ZIP archive; `name` is used in messages only.
    pub fn open(
        name: &str,
        mut input: Box<dyn ReadSeek + 'a>,
        limits: Limits,
    ) -> LoadResult<Archive<'a>> {
        let mut magic = [0u8; 4];
        let read = read_prefix(&mut input, &mut magic).map_err(|e| LoadError::Io {
            what: format!("archive \"{name}\""),
            detail: e.to_string(),
        })?;
        let unknown = |what: String| LoadError::NotAnArchive {
            name: name.to_string(),
            detail: what,
        };
        let (inner, names) = match detect_container(&magic[..read]) {
            Container::Zip => {
                let mut zip = zip::ZipArchive::new(input)
                    .map_err(|e| unknown(format!("The ZIP structure is unreadable: {e}.")))?;
                check_directory(&mut zip, &limits)?;
                let names = (0..zip.len())
                    .filter_map(|i| {
                        let name = zip.name_for_index(i)?.ok()?;
                        (!name.ends_with('/')).then(|| (name.to_string(), i))
                    })
                    .collect();
                (Inner::Zip(zip), names)
            }
            Container::TarBzip2 | Container::TarGzip => {
                let compression = if detect_container(&magic[..read]) == Container::TarBzip2 {
                    tarball::Compression::Bzip2
                } else {
                    tarball::Compression::Gzip
                };
                let tar = tarball::TarArchive::open(name, input, compression, &limits)?;
                let names = tar
                    .members
                    .iter()
                    .enumerate()
                    .map(|(i, m)| (m.name.clone(), i))
                    .collect();
                (Inner::Tar(tar), names)
            }
            Container::Unknown => {
                return Err(unknown(format!(
                    "Its first bytes ({}) are not those of a ZIP, tar.bz2 or tar.gz file.",
                    hex_prefix(&magic[..read])
                )))
            }
        };
        Ok(Archive {
            name: name.to_string(),
            inner,
            members: member_index(names),
            limits,
            budget: Arc::new(Mutex::new(limits.max_total_bytes)),
            tripwire: Arc::default(),
        })
    }

    /// Where a limit broken while reading is recorded.
    pub fn tripwire(&self) -> Tripwire {
        Arc::clone(&self.tripwire)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn has(&self, member: &str) -> bool {
        self.members.iter().any(|(n, _)| n == member)
    }

    /// Base names of all file members, in archive order.
    pub fn member_names(&self) -> impl Iterator<Item = &str> {
        self.members.iter().map(|(n, _)| n.as_str())
    }

    /// A streaming reader of the member, decompressed on the fly, within the limits.
    pub fn open_member(&mut self, member: &str) -> LoadResult<Option<MemberReader<'_>>> {
        let Some(&(_, index)) = self.members.iter().find(|(n, _)| n == member) else {
            return Ok(None);
        };
        let unreadable = |e: &dyn std::fmt::Display| LoadError::NotAnArchive {
            name: self.name.clone(),
            detail: format!("Member {member} is unreadable: {e}."),
        };
        let (reader, declared): (Box<dyn Read + Send + '_>, u64) = match &mut self.inner {
            Inner::Zip(zip) => {
                let file = zip.by_index(index).map_err(|e| unreadable(&e))?;
                let size = file.size();
                (Box::new(file), size)
            }
            Inner::Tar(tar) => {
                let size = tar.members[index].size;
                (tar.open_member(index).map_err(|e| unreadable(&e))?, size)
            }
        };
        let allowed = declared.min(self.limits.max_member_bytes);
        Ok(Some(Guarded {
            inner: reader,
            member: member.to_string(),
            remaining: allowed,
            budget: Arc::clone(&self.budget),
            tripwire: Arc::clone(&self.tripwire),
            limit_text: mib(allowed),
        }))
    }

    /// The whole member as text (for the small meta_archive.ini).
    pub fn read_member_text(&mut self, member: &str) -> LoadResult<Option<String>> {
        Ok(self
            .read_member_bytes(member, 1 << 20)?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// A small member's first `limit` bytes, and one more if it is larger: the caller tells.
    pub fn read_member_bytes(&mut self, member: &str, limit: u64) -> LoadResult<Option<Vec<u8>>> {
        let archive_name = self.name.clone();
        let Some(mut reader) = self.open_member(member)? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        let read = reader.by_ref().take(limit + 1).read_to_end(&mut bytes);
        drop(reader);
        if let Some(limit) = locked(&self.tripwire).take() {
            return Err(limit);
        }
        // The archive file was read: a failure here is a corrupt member, not the server's disk.
        read.map_err(|e| LoadError::NotAnArchive {
            name: archive_name,
            detail: format!("Member {member} is corrupt: {e}."),
        })?;
        Ok(Some(bytes))
    }
}

/// One member's declared size against the limits (`compressed`: its compressed size, or the whole
/// archive's for a tar).
fn check_member(name: &str, size: u64, compressed: u64, limits: &Limits) -> LoadResult<()> {
    let exceeded = |what: String, setting: &'static str| LoadError::LimitExceeded { what, setting };
    if size > limits.max_member_bytes {
        return Err(exceeded(
            format!(
                "member {name} declares {}, more than {}",
                mib(size),
                mib(limits.max_member_bytes)
            ),
            "sinp_import.max_member_size",
        ));
    }
    let ratio = size / compressed.max(1);
    if size > 1024 * 1024 && ratio > limits.max_ratio {
        return Err(exceeded(
            format!(
                "member {name} expands {ratio} times (a zip bomb?), more than {}",
                limits.max_ratio
            ),
            "sinp_import.max_compression_ratio",
        ));
    }
    Ok(())
}

/// The archive's own directory against the limits, before anything is decompressed.
fn check_directory<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    limits: &Limits,
) -> LoadResult<()> {
    if zip.len() > limits.max_members {
        return Err(LoadError::LimitExceeded {
            what: format!("{} members, more than {}", zip.len(), limits.max_members),
            setting: "sinp_import.max_members",
        });
    }
    let mut total = 0u64;
    for i in 0..zip.len() {
        let Ok(file) = zip.by_index_raw(i) else {
            continue;
        };
        let name = file.name().unwrap_or_default().to_string();
        check_member(&name, file.size(), file.compressed_size(), limits)?;
        total = total.saturating_add(file.size());
    }
    if total > limits.max_total_bytes {
        return Err(LoadError::LimitExceeded {
            what: format!(
                "members declare {} in all, more than {}",
                mib(total),
                mib(limits.max_total_bytes)
            ),
            setting: "sinp_import.max_archive_size",
        });
    }
    Ok(())
}

fn read_prefix(input: &mut Box<dyn ReadSeek + '_>, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = input.read(&mut buf[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    input.rewind()?;
    Ok(filled)
}

fn hex_prefix(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "the file is empty".to_string();
    }
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Members at the root, or all inside one top-level folder (tolerated), by base name.
/// Names are only compared, never used as paths.
fn member_index(files: Vec<(String, usize)>) -> Vec<(String, usize)> {
    let single_folder = {
        let folders: std::collections::BTreeSet<_> = files
            .iter()
            .map(|(n, _)| n.split_once('/').map(|(d, _)| d.to_string()))
            .collect();
        match folders.into_iter().collect::<Vec<_>>().as_slice() {
            [Some(folder)] => Some(format!("{folder}/")),
            _ => None,
        }
    };
    files
        .into_iter()
        .map(|(n, i)| match &single_folder {
            Some(prefix) => (n[prefix.len()..].to_string(), i),
            None => (n, i),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    fn zip_with(entries: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut out);
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            for (name, body) in entries {
                w.start_file(*name, opts).unwrap();
                w.write_all(body.as_bytes()).unwrap();
            }
            w.finish().unwrap();
        }
        out.into_inner()
    }

    #[test]
    fn members_are_found_at_the_root_or_in_one_folder() {
        for prefix in ["", "export/"] {
            let bytes = zip_with(&[
                (
                    &format!("{prefix}meta_archive.ini"),
                    "format_version = 1.0\n",
                ),
                (&format!("{prefix}synthese.csv"), "a\tb\n1\t2\n"),
            ]);
            let mut a =
                Archive::open("x.zip", Box::new(Cursor::new(bytes)), Limits::default()).unwrap();
            assert!(a.has("synthese.csv"), "{prefix}");
            let mut text = String::new();
            a.open_member("synthese.csv")
                .unwrap()
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            assert_eq!(text, "a\tb\n1\t2\n");
            assert!(a.open_member("dataset.csv").unwrap().is_none());
        }
    }

    #[test]
    fn not_a_zip_is_a_usage_error_naming_the_archive() {
        let e = Archive::open(
            "notes.txt",
            Box::new(Cursor::new(b"hello".to_vec())),
            Limits::default(),
        )
        .err()
        .unwrap();
        assert_eq!(e.sqlstate().code(), "22023");
        assert!(e.message().contains("notes.txt"));
        let e = Archive::open(
            "empty.zip",
            Box::new(Cursor::new(Vec::new())),
            Limits::default(),
        )
        .err()
        .unwrap();
        assert!(e.detail().unwrap().contains("empty"));
    }

    #[test]
    fn limits_refuse_zip_bombs_and_large_archives_before_reading() {
        let bomb = zip_with(&[("synthese.csv", &"\t".repeat(8 << 20))]);
        let open = |limits| Archive::open("bomb.zip", Box::new(Cursor::new(bomb.clone())), limits);
        let e = open(Limits::default()).err().unwrap();
        assert_eq!(e.sqlstate().code(), "54000");
        assert!(e.detail().unwrap().contains("zip bomb"), "{:?}", e.detail());
        let small = Limits {
            max_ratio: 1_000_000,
            max_member_bytes: 1 << 20,
            ..Limits::default()
        };
        let detail = open(small).err().unwrap().detail().unwrap();
        assert!(detail.contains("declares 8 MB, more than 1 MB"), "{detail}");
        let few = Limits {
            max_members: 0,
            ..Limits::default()
        };
        let detail = open(few).err().unwrap().detail().unwrap();
        assert!(detail.contains("1 members, more than 0"), "{detail}");
    }

    #[test]
    fn reading_stops_at_the_member_limit_even_when_the_directory_lies() {
        let bytes = zip_with(&[("synthese.csv", &"a".repeat(10_000))]);
        let limits = Limits {
            max_total_bytes: 4_000,
            ..Limits::default()
        };
        let mut a =
            Archive::open("x.zip", Box::new(Cursor::new(bytes)), Limits::default()).unwrap();
        a.budget = Arc::new(Mutex::new(limits.max_total_bytes));
        let tripwire = a.tripwire();
        let mut text = String::new();
        let result = a
            .open_member("synthese.csv")
            .unwrap()
            .unwrap()
            .read_to_string(&mut text);
        assert!(result.is_err());
        let e = locked(&tripwire).take().unwrap();
        assert_eq!(e.sqlstate().code(), "54000");
    }

    #[test]
    fn tar_bz2_and_tar_gz_archives_are_read_in_any_member_order() {
        use tarball::tests::tar_with;
        let synthese = "a\tb\n".to_string() + &"1\t2\n".repeat(50_000);
        for compression in [tarball::Compression::Bzip2, tarball::Compression::Gzip] {
            let bytes = tar_with(
                compression,
                &[
                    ("export/synthese.csv", synthese.as_bytes()),
                    ("export/meta_archive.ini", b"format_version = 1.0\n"),
                    ("export/source.csv", b"name\n"),
                ],
            );
            let mut a = Archive::open("x.tar.bz2", Box::new(Cursor::new(bytes)), Limits::default())
                .unwrap();
            assert!(
                a.has("meta_archive.ini") && a.has("source.csv"),
                "{compression:?}"
            );
            assert_eq!(a.read_member_text("source.csv").unwrap().unwrap(), "name\n");
            let mut text = String::new();
            a.open_member("synthese.csv")
                .unwrap()
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            assert_eq!(text, synthese, "{compression:?}");
        }
    }

    /// A tar.gz of raw entries: (entry type, name in the header, data).
    fn raw_tar_gz(entries: &[(tar::EntryType, &str, &[u8])]) -> Vec<u8> {
        use std::io::Write;
        let mut tar = tar::Builder::new(Vec::new());
        for (kind, name, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append(&header, *data).unwrap();
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar.into_inner().unwrap()).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn long_names_and_pax_paths_are_read_and_a_hostile_long_name_is_refused_unread() {
        use tar::EntryType;
        let long = format!("export/{}.txt", "d".repeat(150));
        let pax = format!("{} path=export/meta_archive.ini\n", 32);
        assert_eq!(pax.len(), 32);
        let bytes = raw_tar_gz(&[
            (EntryType::GNULongName, "././@LongLink", long.as_bytes()),
            (EntryType::Regular, "truncated-name", b"a\tb\n"),
            (EntryType::XHeader, "PaxHeader", pax.as_bytes()),
            (EntryType::Regular, "short", b"format_version = 1.0\n"),
        ]);
        let mut a =
            Archive::open("x.tar.gz", Box::new(Cursor::new(bytes)), Limits::default()).unwrap();
        assert_eq!(
            a.member_names().collect::<Vec<_>>(),
            [&long["export/".len()..], "meta_archive.ini"]
        );
        assert_eq!(
            a.read_member_text("meta_archive.ini").unwrap().unwrap(),
            "format_version = 1.0\n"
        );
        // A long name of 16 MB (a few kB compressed): refused from its size, before it is read.
        let hostile = vec![b'a'; 16 << 20];
        let bytes = raw_tar_gz(&[
            (EntryType::GNULongName, "././@LongLink", &hostile),
            (EntryType::Regular, "x", b"y"),
        ]);
        assert!(bytes.len() < 200_000, "{}", bytes.len());
        let err = Archive::open("x.tar.gz", Box::new(Cursor::new(bytes)), Limits::default())
            .err()
            .unwrap();
        assert_eq!(err.sqlstate().code(), "54000");
        assert!(
            err.detail()
                .unwrap()
                .contains("member name of 16777216 bytes"),
            "{:?}",
            err.detail()
        );
    }

    /// Found by the fuzzer (archive target): a directory entry of a 942-byte .tar.bz2 declaring
    /// 1 GB of zeros was skipped by decompressing it all (8 GB in 6 kB timed out): every entry's
    /// size is checked now, whatever its type.
    #[test]
    fn a_huge_entry_that_is_not_a_file_is_refused_before_it_is_decompressed() {
        let bytes = include_bytes!("../../tests/fixtures/hostile/dir-entry-1GB.tar.bz2");
        let started = std::time::Instant::now();
        let err = Archive::open(
            "x.tar.bz2",
            Box::new(Cursor::new(bytes.to_vec())),
            Limits::default(),
        )
        .err()
        .unwrap();
        assert_eq!(err.sqlstate().code(), "54000");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn containers_are_told_apart_by_magic_bytes() {
        assert_eq!(detect_container(b"PK\x03\x04rest"), Container::Zip);
        assert_eq!(detect_container(b"BZh91AY"), Container::TarBzip2);
        assert_eq!(detect_container(&[0x1f, 0x8b, 8, 0]), Container::TarGzip);
        assert_eq!(detect_container(b"<html>"), Container::Unknown);
    }

    #[test]
    fn sha256_of_a_stream() {
        let (digest, size) = sha256_hex(&b"abc"[..]).unwrap();
        assert_eq!(
            digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(size, 3);
    }
}
