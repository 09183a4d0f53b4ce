//! A minimal valid archive written by hand from FORMAT.md, and mutations of it that each produce
//! one problem code: the corpus of bad archives of the validation tests.

use std::io::Write;

pub const ORG: &str = "5a433bd0-1fc0-25d9-e053-2614a8c026f8";
pub const USER: &str = "6b544ce1-2fd1-46e0-a164-3725b9d137a9";
pub const AF_CHILD: &str = "7c655df2-3ae2-47f1-b275-4836cae248ba";
pub const AF_PARENT: &str = "8d766e03-4bf3-4802-8386-5947dbf359cb";
pub const DATASET: &str = "9e877f14-5c04-4913-9497-6a58ec046adc";
pub const OBS: [&str; 3] = [
    "a0988025-6d15-4a24-85a8-7b69fd157bed",
    "b1a99136-7e26-4b35-96b9-8c7a0e268cfe",
    "c2baa247-8f37-4c46-a7ca-9d8b1f379d0f",
];

pub const SYNTHESE_HEADER: [&str; 23] = [
    "unique_id_sinp",
    "source_id",
    "code_source",
    "code_dataset",
    "code_nomenclature_sex",
    "nom_cite",
    "cd_nom",
    "count_min",
    "count_max",
    "altitude_min",
    "altitude_max",
    "depth_min",
    "depth_max",
    "date_min",
    "date_max",
    "geom",
    "code_area_attachment",
    "code_digitiser",
    "observers",
    "additional_data",
    "validation_date",
    "meta_create_date",
    "meta_last_action",
];

/// The files of a valid archive; each file is a header line and records (fields by tab).
#[derive(Clone)]
pub struct MiniArchive {
    pub files: Vec<(String, Vec<Vec<String>>)>,
    pub ini: String,
}

fn rows(lines: &[&str]) -> Vec<Vec<String>> {
    lines
        .iter()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

impl MiniArchive {
    pub fn valid() -> MiniArchive {
        let synthese_row = |i: usize, geom: &str| -> String {
            [
                OBS[i],
                &format!("obs-{i}"),
                "SRC",
                DATASET,
                "2",
                "Larus fuscus",
                "3297",
                "1",
                "3",
                "100",
                "200",
                "\\N",
                "\\N",
                "1994-01-09 08:00:00",
                "1994-01-09 18:00:00",
                geom,
                "\\N",
                USER,
                &format!("DOE John <j@x.org> [{USER}]"),
                "{\"confidential\": false}",
                "\\N",
                "2020-02-12 14:04:42.735559",
                "I",
            ]
            .join("\t")
        };
        let header = SYNTHESE_HEADER.join("\t");
        let synthese = [
            header.clone(),
            synthese_row(0, "SRID=2154;POINT(959204.517 6405928.812)"),
            synthese_row(1, "SRID=4326;POINT(6.2 44.6)"),
            synthese_row(
                2,
                "SRID=2154;POLYGON((955000 6400000,956000 6400000,956000 6401000,955000 6400000))",
            ),
        ];
        let files = vec![
            (
                "source.csv".to_string(),
                rows(&[
                    "name\tdesc\tmeta_create_date\tmeta_update_date\tmeta_last_action",
                    "SRC\tTest source\t2020-01-01 00:00:00\t\\N\tI",
                ]),
            ),
            (
                "organism.csv".to_string(),
                rows(&["unique_id\tname\tmeta_last_action", &format!("{ORG}\tOrganism\tI")]),
            ),
            (
                "user.csv".to_string(),
                rows(&[
                    "unique_id\tidentifier\tname\tcode_organism\tmeta_last_action",
                    &format!("{USER}\tjdoe\tDoe\t{ORG}\tI"),
                ]),
            ),
            (
                "acquisition_framework.csv".to_string(),
                rows(&[
                    "unique_id\tname\tdesc\tstart_date\tparent_code\tcor_objectifs\tmeta_last_action",
                    &format!("{AF_CHILD}\tChild\tA framework\t2020-01-01\t{AF_PARENT}\t{{\"8\"}}\tI"),
                    &format!("{AF_PARENT}\tParent\tA framework\t2019-01-01\t\\N\t\\N\tI"),
                ]),
            ),
            (
                "dataset.csv".to_string(),
                rows(&[
                    "unique_id\tcode_acquisition_framework\tname\tshortname\tdesc\tmarine_domain\tterrestrial_domain\tmeta_last_action",
                    &format!("{DATASET}\t{AF_CHILD}\tDataset\tDS1\tA dataset\tfalse\ttrue\tI"),
                ]),
            ),
            (
                "synthese.csv".to_string(),
                synthese.iter().map(|l| l.split('\t').map(str::to_string).collect()).collect(),
            ),
        ];
        MiniArchive {
            files,
            ini: "format_version = 1.0\nexport_date = 2020-08-26 10:15\ntaxref_version = 16\n"
                .to_string(),
        }
    }

    fn file_mut(&mut self, file: &str) -> &mut Vec<Vec<String>> {
        &mut self.files.iter_mut().find(|(f, _)| f == file).unwrap().1
    }

    /// Sets a field of a data row (row 0 = the first record after the header).
    pub fn set(mut self, file: &str, row: usize, column: &str, value: &str) -> MiniArchive {
        let records = self.file_mut(file);
        let position = records[0].iter().position(|c| c == column).unwrap();
        records[row + 1][position] = value.to_string();
        self
    }

    /// Applies any change to a file's records (header included).
    pub fn edit(mut self, file: &str, f: impl FnOnce(&mut Vec<Vec<String>>)) -> MiniArchive {
        f(self.file_mut(file));
        self
    }

    /// The archive without its metadata files: synthese.csv (and meta_archive.ini) only, as a
    /// provider's nightly differential of observations.
    pub fn synthese_only(self) -> MiniArchive {
        self.without("acquisition_framework.csv")
            .without("dataset.csv")
            .without("source.csv")
            .without("organism.csv")
            .without("user.csv")
    }

    pub fn without(mut self, file: &str) -> MiniArchive {
        self.files.retain(|(f, _)| f != file);
        self
    }

    pub fn with_ini(mut self, ini: &str) -> MiniArchive {
        self.ini = ini.to_string();
        self
    }

    pub fn text_of(records: &[Vec<String>]) -> String {
        records.iter().map(|r| r.join("\t") + "\n").collect()
    }

    pub fn zip(&self) -> Vec<u8> {
        self.zip_with(&[])
    }

    /// The same members as a tar.bz2 or tar.gz.
    pub fn tar(&self, compression: crate::archive::tarball::Compression) -> Vec<u8> {
        let mut members: Vec<(String, Vec<u8>)> =
            vec![("meta_archive.ini".into(), self.ini.clone().into_bytes())];
        // Reverse order: the loader must not depend on the order of a tar's members.
        for (name, records) in self.files.iter().rev() {
            members.push((name.clone(), Self::text_of(records).into_bytes()));
        }
        let entries: Vec<(&str, &[u8])> = members
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        crate::archive::tarball::tests::tar_with(compression, &entries)
    }

    /// The archive, plus raw members (name, bytes) written as given.
    pub fn zip_with(&self, raw: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut out);
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            w.start_file("meta_archive.ini", opts).unwrap();
            w.write_all(self.ini.as_bytes()).unwrap();
            for (name, records) in &self.files {
                if raw.iter().any(|(n, _)| n == name) {
                    continue;
                }
                w.start_file(name.as_str(), opts).unwrap();
                w.write_all(Self::text_of(records).as_bytes()).unwrap();
            }
            for (name, bytes) in raw {
                w.start_file(*name, opts).unwrap();
                w.write_all(bytes).unwrap();
            }
            w.finish().unwrap();
        }
        out.into_inner()
    }
}
