//! The archive naming convention `YYYY-MM-DD_sinp_<region>_<provider>.zip` (FORMAT.md §1).

/// What the name of a conventionally named archive tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveName {
    /// `YYYY-MM-DD`
    pub date: String,
    pub region: String,
    pub provider: String,
}

/// The extensions of the containers the reader knows (it tells them apart by their first bytes).
const ARCHIVE_EXTENSIONS: [&str; 5] = [".zip", ".tar.bz2", ".tar.gz", ".tgz", ".tbz2"];

/// The archive extension a file name ends with, in any case.
pub fn archive_extension(file_name: &str) -> Option<&'static str> {
    let lower = file_name.to_ascii_lowercase();
    ARCHIVE_EXTENSIONS
        .into_iter()
        .find(|ext| lower.len() > ext.len() && lower.ends_with(ext))
}

/// `None` when the name does not follow the convention (a warning, not an error).
pub fn parse_archive_name(file_name: &str) -> Option<ArchiveName> {
    let base = file_name.rsplit('/').next().unwrap_or(file_name);
    let stem = ARCHIVE_EXTENSIONS
        .iter()
        .find_map(|ext| base.strip_suffix(ext))?;
    if stem != stem.to_lowercase() {
        return None;
    }
    let mut parts = stem.splitn(4, '_');
    let (date, subject, region, provider) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let date_ok = crate::validate::parse_date(date).is_ok();
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !date_ok || subject != "sinp" || !word(region) || !word(provider) {
        return None;
    }
    Some(ArchiveName {
        date: date.to_string(),
        region: region.to_string(),
        provider: provider.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventional_names_give_date_region_provider() {
        let n = parse_archive_name("/srv/sinp/inbox/2020-08-26_sinp_paca_cbna.zip").unwrap();
        assert_eq!(
            n,
            ArchiveName {
                date: "2020-08-26".into(),
                region: "paca".into(),
                provider: "cbna".into()
            }
        );
        assert_eq!(
            parse_archive_name("2021-01-02_sinp_aura_cen-aura.tar.bz2")
                .unwrap()
                .provider,
            "cen-aura"
        );
    }

    #[test]
    fn archive_extensions_in_any_case() {
        assert_eq!(archive_extension("a.ZIP"), Some(".zip"));
        assert_eq!(archive_extension("x_sinp_a_b.tar.gz"), Some(".tar.gz"));
        assert_eq!(archive_extension("b.tbz2"), Some(".tbz2"));
        assert_eq!(archive_extension(".zip"), None);
        assert_eq!(archive_extension("a.zip.part"), None);
        assert_eq!(archive_extension("a.gz"), None);
    }

    #[test]
    fn other_names_are_nonstandard() {
        for bad in [
            "export.zip",
            "2020-08-26_SINP_paca_cbna.zip",
            "2020-13-26_sinp_paca_cbna.zip",
            "2020-08-26_sinp_paca.zip",
            "2020-08-26_sinp_paca_cbna.csv",
            "2020-08-26_obs_paca_cbna.zip",
        ] {
            assert!(parse_archive_name(bad).is_none(), "{bad}");
        }
    }
}
