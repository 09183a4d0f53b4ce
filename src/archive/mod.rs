//! Reading an archive: the container (detected by its magic bytes), its members (streamed, never
//! extracted to disk, never used as paths), `meta_archive.ini`, and the archive's name.

mod meta;
mod name;

pub use meta::{parse_meta, MetaArchive};
pub use name::{parse_archive_name, ArchiveName};

use std::io::{Read, Seek};

use crate::error::{LoadError, LoadResult};

pub const META_FILE: &str = "meta_archive.ini";
pub const SYNTHESE_FILE: &str = "synthese.csv";
/// Optional description of the additional fields (FORMAT.md §6).
pub const ADDITIONAL_DATA_FILES: [&str; 2] = ["meta_additional_data.csv", "additional_data.csv"];

/// Anything a ZIP can be read from.
pub trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

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

/// An open archive: its members by their base name.
pub struct Archive<'a> {
    name: String,
    zip: zip::ZipArchive<Box<dyn ReadSeek + 'a>>,
    /// (base name, index in the ZIP) of every file member.
    members: Vec<(String, usize)>,
}

impl<'a> Archive<'a> {
    /// Opens a ZIP archive; `name` is used in messages only.
    pub fn open(name: &str, mut input: Box<dyn ReadSeek + 'a>) -> LoadResult<Archive<'a>> {
        let mut magic = [0u8; 4];
        let read = read_prefix(&mut input, &mut magic).map_err(|e| LoadError::Io {
            what: format!("archive \"{name}\""),
            detail: e.to_string(),
        })?;
        match detect_container(&magic[..read]) {
            Container::Zip => {}
            Container::TarBzip2 | Container::TarGzip => {
                return Err(LoadError::NotAnArchive {
                    name: name.to_string(),
                    detail: "tar.bz2 and tar.gz archives are not supported yet; only ZIP is."
                        .to_string(),
                })
            }
            Container::Unknown => {
                return Err(LoadError::NotAnArchive {
                    name: name.to_string(),
                    detail: format!(
                        "Its first bytes ({}) are not those of a ZIP file.",
                        hex_prefix(&magic[..read])
                    ),
                })
            }
        }
        let zip = zip::ZipArchive::new(input).map_err(|e| LoadError::NotAnArchive {
            name: name.to_string(),
            detail: format!("The ZIP structure is unreadable: {e}."),
        })?;
        let members = member_index(&zip);
        Ok(Archive {
            name: name.to_string(),
            zip,
            members,
        })
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

    /// A streaming reader of the member, decompressed on the fly.
    pub fn open_member(
        &mut self,
        member: &str,
    ) -> LoadResult<Option<zip::read::ZipFile<'_, Box<dyn ReadSeek + 'a>>>> {
        let Some(&(_, index)) = self.members.iter().find(|(n, _)| n == member) else {
            return Ok(None);
        };
        let name = self.name.clone();
        self.zip
            .by_index(index)
            .map(Some)
            .map_err(|e| LoadError::NotAnArchive {
                name,
                detail: format!("Member {member} is unreadable: {e}."),
            })
    }

    /// The whole member as text (for the small meta_archive.ini).
    pub fn read_member_text(&mut self, member: &str) -> LoadResult<Option<String>> {
        let archive_name = self.name.clone();
        let Some(mut reader) = self.open_member(member)? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        reader
            .by_ref()
            .take(1 << 20)
            .read_to_end(&mut bytes)
            .map_err(|e| LoadError::Io {
                what: format!("{member} in \"{archive_name}\""),
                detail: e.to_string(),
            })?;
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    }
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
fn member_index<R: Read + Seek>(zip: &zip::ZipArchive<R>) -> Vec<(String, usize)> {
    let files: Vec<(String, usize)> = (0..zip.len())
        .filter_map(|i| {
            let name = zip.name_for_index(i)?.ok()?;
            (!name.ends_with('/')).then(|| (name.to_string(), i))
        })
        .collect();
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
            let mut a = Archive::open("x.zip", Box::new(Cursor::new(bytes))).unwrap();
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
        let e = Archive::open("notes.txt", Box::new(Cursor::new(b"hello".to_vec())))
            .err()
            .unwrap();
        assert_eq!(e.sqlstate().code(), "22023");
        assert!(e.message().contains("notes.txt"));
        let e = Archive::open("empty.zip", Box::new(Cursor::new(Vec::new())))
            .err()
            .unwrap();
        assert!(e.detail().unwrap().contains("empty"));
    }

    #[test]
    fn containers_are_told_apart_by_magic_bytes() {
        assert_eq!(detect_container(b"PK\x03\x04rest"), Container::Zip);
        assert_eq!(detect_container(b"BZh91AY"), Container::TarBzip2);
        assert_eq!(detect_container(&[0x1f, 0x8b, 8, 0]), Container::TarGzip);
        assert_eq!(detect_container(b"<html>"), Container::Unknown);
    }
}
