//! `.tar.bz2` and `.tar.gz` archives (FORMAT.md §1), read with the tar, bzip2 and flate2 crates.
//!
//! A tar is one sequential stream, but entities must be read in their own order. One pass at open
//! lists the members, keeps the small ones in memory (at most `MEMORY_PER_MEMBER` each and
//! `MEMORY_IN_ALL` together) and notes where the others' bytes start: synthese.csv and any large
//! member are then streamed by decompressing again up to that offset. Memory stays bounded.

use std::io::{Read, SeekFrom};

use super::{check_member, Limits, ReadSeek, SYNTHESE_FILE};

const MEMORY_PER_MEMBER: u64 = 64 << 20;
const MEMORY_IN_ALL: u64 = 256 << 20;
/// The longest member name a GNU long-name entry may carry (PATH_MAX), and the largest pax
/// header: read by the loader itself, size checked before a byte is read, where the tar crate
/// would read a long name of any size into memory (a 255 kB .tar.gz held a 256 MB one).
const MAX_LONG_NAME: u64 = 4096;
const MAX_PAX_HEADER: u64 = 64 << 10;
use crate::error::{LoadError, LoadResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Bzip2,
    Gzip,
}

/// A member: its bytes when small, else where to find them in the decompressed stream.
pub struct TarMember {
    pub name: String,
    pub size: u64,
    pub data: Option<Vec<u8>>,
    offset: u64,
}

pub struct TarArchive<'a> {
    input: Box<dyn ReadSeek + 'a>,
    compression: Compression,
    pub members: Vec<TarMember>,
}

fn decompressor<'r>(
    compression: Compression,
    input: &'r mut dyn ReadSeek,
) -> Box<dyn Read + Send + 'r> {
    match compression {
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(input)),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
    }
}

fn unreadable(name: &str, e: impl std::fmt::Display) -> LoadError {
    LoadError::NotAnArchive {
        name: name.to_string(),
        detail: format!("The tar stream is unreadable: {e}."),
    }
}

impl<'a> TarArchive<'a> {
    pub fn open(
        name: &str,
        mut input: Box<dyn ReadSeek + 'a>,
        compression: Compression,
        limits: &Limits,
    ) -> LoadResult<TarArchive<'a>> {
        let compressed_size = input
            .seek(SeekFrom::End(0))
            .and_then(|size| input.rewind().map(|_| size))
            .map_err(|e| unreadable(name, e))?;
        let mut members = Vec::new();
        let mut total = 0u64;
        let mut in_memory = 0u64;
        {
            let mut tar = tar::Archive::new(decompressor(compression, &mut input));
            // Raw entries: GNU long names and pax headers come as entries of their own.
            let entries = tar.entries().map_err(|e| unreadable(name, e))?.raw(true);
            let mut long_name: Option<String> = None;
            for entry in entries {
                let mut entry = entry.map_err(|e| unreadable(name, e))?;
                let kind = entry.header().entry_type();
                // Every entry's data is decompressed, if only to skip it: its declared size is
                // checked whatever its type (a directory entry claiming terabytes of zeros, a
                // few kB of bzip2, would otherwise cost hours), and counts in the archive's total.
                let entry_name = String::from_utf8_lossy(&entry.header().path_bytes()).into_owned();
                check_member(&entry_name, entry.size(), compressed_size, limits)?;
                total = total.saturating_add(entry.size());
                if total > limits.max_total_bytes {
                    return Err(LoadError::LimitExceeded {
                        what: format!("more than {} bytes in its entries", limits.max_total_bytes),
                        setting: "sinp_import.max_archive_size",
                    });
                }
                if kind.is_gnu_longname() || kind.is_pax_local_extensions() {
                    let limit = if kind.is_gnu_longname() {
                        MAX_LONG_NAME
                    } else {
                        MAX_PAX_HEADER
                    };
                    if entry.size() > limit {
                        return Err(LoadError::LimitExceeded {
                            what: format!(
                                "a {} of {} bytes (at most {limit} are read)",
                                if kind.is_gnu_longname() {
                                    "member name"
                                } else {
                                    "pax header"
                                },
                                entry.size()
                            ),
                            setting: "the tar format's own limits (PATH_MAX)",
                        });
                    }
                    let mut bytes = Vec::new();
                    entry
                        .read_to_end(&mut bytes)
                        .map_err(|e| unreadable(name, e))?;
                    long_name = if kind.is_gnu_longname() {
                        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                        Some(String::from_utf8_lossy(&bytes[..end]).into_owned())
                    } else {
                        pax_path(&bytes).or(long_name)
                    };
                    continue;
                }
                if !kind.is_file() {
                    long_name = None;
                    continue;
                }
                let path = match long_name.take() {
                    Some(path) => path,
                    None => entry
                        .path()
                        .map_err(|e| unreadable(name, e))?
                        .to_string_lossy()
                        .into_owned(),
                };
                let member = path.trim_start_matches("./").to_string();
                let size = entry.size();
                if members.len() >= limits.max_members || total > limits.max_total_bytes {
                    return Err(LoadError::LimitExceeded {
                        what: format!(
                            "more than {} members or {} bytes",
                            limits.max_members, limits.max_total_bytes
                        ),
                        setting: "sinp_import.max_members / sinp_import.max_archive_size",
                    });
                }
                let base = member.rsplit('/').next().unwrap_or(&member).to_string();
                let small = size <= MEMORY_PER_MEMBER && in_memory + size <= MEMORY_IN_ALL;
                let data = if base == SYNTHESE_FILE || !small {
                    None
                } else {
                    in_memory += size;
                    let mut data = Vec::with_capacity(size as usize);
                    entry
                        .by_ref()
                        .take(size)
                        .read_to_end(&mut data)
                        .map_err(|e| unreadable(name, e))?;
                    Some(data)
                };
                members.push(TarMember {
                    name: member,
                    size,
                    data,
                    offset: entry.raw_file_position(),
                });
            }
        }
        Ok(TarArchive {
            input,
            compression,
            members,
        })
    }

    /// The member's bytes, from memory or streamed from a second decompression.
    pub fn open_member(&mut self, index: usize) -> std::io::Result<Box<dyn Read + Send + '_>> {
        let member = &self.members[index];
        if let Some(data) = &member.data {
            return Ok(Box::new(data.as_slice()));
        }
        let (offset, size) = (member.offset, member.size);
        self.input.rewind()?;
        let mut stream = decompressor(self.compression, &mut self.input);
        std::io::copy(&mut stream.by_ref().take(offset), &mut std::io::sink())?;
        Ok(Box::new(stream.take(size)))
    }
}

/// The `path` of a pax extended header (`<length> path=<value>\n` records), if it has one.
fn pax_path(bytes: &[u8]) -> Option<String> {
    let mut rest = bytes;
    let mut path = None;
    while !rest.is_empty() {
        let space = rest.iter().position(|&b| b == b' ')?;
        let length: usize = std::str::from_utf8(&rest[..space]).ok()?.parse().ok()?;
        if length <= space || length > rest.len() {
            return path;
        }
        let record = &rest[space + 1..length];
        if let Some(value) = record.strip_prefix(b"path=") {
            let value = value.strip_suffix(b"\n").unwrap_or(value);
            path = Some(String::from_utf8_lossy(value).into_owned());
        }
        rest = &rest[length..];
    }
    path
}

/// A tar.bz2 or tar.gz of the given members (for the tests).
#[cfg(any(test, feature = "testing"))]
pub mod tests {
    use super::*;
    use std::io::Write;

    pub fn tar_with(compression: Compression, entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut tar = tar::Builder::new(Vec::new());
        for (name, body) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(body.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, name, *body).unwrap();
        }
        let raw = tar.into_inner().unwrap();
        match compression {
            Compression::Bzip2 => {
                let mut w = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
                w.write_all(&raw).unwrap();
                w.finish().unwrap()
            }
            Compression::Gzip => {
                let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                w.write_all(&raw).unwrap();
                w.finish().unwrap()
            }
        }
    }
}
