//! The inbox: a directory where providers drop archives, loaded in order by
//! `sinp_import.load_inbox()`. Listing only: what was already loaded is the journal's business
//! (sql/inbox.sql), by the archives' SHA-256.

use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use super::name::{archive_extension, parse_archive_name};

/// One file of the inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxFile {
    pub name: String,
    pub path: PathBuf,
    pub size: u64,
    /// Seconds since the epoch.
    pub modified: f64,
    /// Named like an archive (.zip, .tar.gz, .tgz, .tar.bz2, .tbz2), not hidden: load_inbox loads it.
    pub is_archive: bool,
    /// From a conventional name `YYYY-MM-DD_sinp_<region>_<provider>.zip`.
    pub archive_date: Option<String>,
    pub region: Option<String>,
    pub provider: Option<String>,
}

/// The regular files directly in `dir` (subdirectories are not entered: `done/` or `rejected/`
/// folders of a provider's workflow stay out), in name order. Hidden files (a transfer in
/// progress, `.part` files) and files not named like an archive are listed with
/// `is_archive = false`.
pub fn list_inbox(dir: &Path) -> io::Result<Vec<InboxFile>> {
    let real_dir = dir.canonicalize()?;
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(own) = std::fs::symlink_metadata(entry.path()) else {
            continue;
        };
        // A symbolic link to a file of the inbox is followed; one that leads outside it is
        // listed as not an archive, its target never read (nor hashed, nor loaded).
        let outside = own.file_type().is_symlink()
            && !entry
                .path()
                .canonicalize()
                .is_ok_and(|target| target.starts_with(&real_dir));
        let metadata = if outside {
            own
        } else {
            let Ok(metadata) = std::fs::metadata(entry.path()) else {
                continue;
            };
            if !metadata.is_file() {
                continue;
            }
            metadata
        };
        // A name that is not UTF-8 cannot be passed to load_archive(text): listed, not loaded.
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_archive = !name.starts_with('.') && archive_extension(&name).is_some();
        let conventional = parse_archive_name(&name);
        let modified = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0.0, |d| d.as_secs_f64());
        files.push(InboxFile {
            is_archive: is_archive && !outside && entry.file_name().to_str().is_some(),
            path: entry.path(),
            size: metadata.len(),
            modified,
            archive_date: conventional.as_ref().map(|n| n.date.clone()),
            region: conventional.as_ref().map(|n| n.region.clone()),
            provider: conventional.map(|n| n.provider),
            name,
        });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sinp-inbox-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn lists_archives_and_tells_the_other_files_apart() {
        let dir = scratch("list");
        for name in [
            "2020-08-27_sinp_paca_cbna.zip",
            "2020-08-26_sinp_paca_cbna.tar.bz2",
            "export.TGZ",
            ".2020-08-28_sinp_paca_cbna.zip.part",
            ".hidden.zip",
            "readme.txt",
        ] {
            std::fs::write(dir.join(name), name).unwrap();
        }
        std::fs::create_dir(dir.join("done.zip")).unwrap();
        let files = list_inbox(&dir).unwrap();
        let summary: Vec<(&str, bool, Option<&str>)> = files
            .iter()
            .map(|f| (f.name.as_str(), f.is_archive, f.archive_date.as_deref()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (".2020-08-28_sinp_paca_cbna.zip.part", false, None),
                (".hidden.zip", false, None),
                (
                    "2020-08-26_sinp_paca_cbna.tar.bz2",
                    true,
                    Some("2020-08-26")
                ),
                ("2020-08-27_sinp_paca_cbna.zip", true, Some("2020-08-27")),
                ("export.TGZ", true, None),
                ("readme.txt", false, None),
            ]
        );
        let first = &files[2];
        assert_eq!(first.size, "2020-08-26_sinp_paca_cbna.tar.bz2".len() as u64);
        assert_eq!(first.provider.as_deref(), Some("cbna"));
        assert!(first.modified > 1.5e9);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn links_leading_outside_the_inbox_are_not_archives_and_fifos_are_refused_at_once() {
        let dir = scratch("links");
        let outside = scratch("links-outside");
        std::fs::write(outside.join("secret.zip"), "x").unwrap();
        std::fs::write(dir.join("2020-08-26_sinp_paca_a.zip"), "a").unwrap();
        std::os::unix::fs::symlink(
            outside.join("secret.zip"),
            dir.join("2020-08-27_sinp_paca_out.zip"),
        )
        .unwrap();
        std::os::unix::fs::symlink(
            dir.join("2020-08-26_sinp_paca_a.zip"),
            dir.join("2020-08-28_sinp_paca_in.zip"),
        )
        .unwrap();
        let fifo =
            std::ffi::CString::new(dir.join("2020-08-29_sinp_paca_fifo.zip").to_str().unwrap())
                .unwrap();
        // SAFETY: a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
        let files = list_inbox(&dir).unwrap();
        let summary: Vec<(&str, bool)> = files
            .iter()
            .map(|f| (f.name.as_str(), f.is_archive))
            .collect();
        // The FIFO is not a regular file: not listed.
        assert_eq!(
            summary,
            vec![
                ("2020-08-26_sinp_paca_a.zip", true),
                ("2020-08-27_sinp_paca_out.zip", false),
                ("2020-08-28_sinp_paca_in.zip", true),
            ]
        );
        let started = std::time::Instant::now();
        let err = crate::archive::open_regular_file(&dir.join("2020-08-29_sinp_paca_fifo.zip"))
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("FIFO"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        let err = crate::archive::open_regular_file(&dir).unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
        let err = crate::archive::open_regular_file(Path::new("/dev/null")).unwrap_err();
        assert!(err.to_string().contains("a device"), "{err}");
        let file =
            crate::archive::open_regular_file(&dir.join("2020-08-28_sinp_paca_in.zip")).unwrap();
        assert_eq!(
            crate::archive::real_path(&file).unwrap(),
            dir.canonicalize()
                .unwrap()
                .join("2020-08-26_sinp_paca_a.zip")
        );
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&outside).unwrap();
    }

    #[test]
    fn a_missing_directory_is_an_error() {
        let err = list_inbox(Path::new("/nonexistent/sinp-inbox")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
