//! A format-1.0 archive built from the real CEN PACA 2020 rows (`tests/fixtures/cen-paca-2020`),
//! whose header predates format 1.0.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufReader, Seek, Write};
use std::path::Path;

use uuid::Uuid;

use crate::util::{classify_geom, tsv_writer, write_tsv, zip_options, zip_stamp, GeomSpelling};
use crate::Manifest;

/// unique_id of the acquisition framework of the real archive (fixed).
pub const REAL_AF_UUID: &str = "e4d071d2-bf44-5a35-ae6c-533d71e0620d";
/// unique_id of the dataset whose shortname is `DFCP` (fixed).
pub const REAL_DATASET_UUID: &str = "5dbaafa4-2f29-5c89-a876-654fe50c7c16";

/// Old header name → format-1.0 name (FORMAT.md §3 aliases).
const RENAME: [(&str, &str); 6] = [
    ("entity_source_pk_value", "source_id"),
    ("last_action", "meta_last_action"),
    (
        "code_nomenclature_obs_meth",
        "code_nomenclature_obs_technique",
    ),
    ("geom_local", "geom"),
    ("meta_validation_date", "validation_date"),
    ("determiners", "determiner"),
];

/// Old columns that format 1.0 does not have and that are not carried over:
/// geometries derived from `geom_local`, the TaxRef version (goes into meta_archive.ini), the old
/// integer digitiser id.
const DROP: [&str; 4] = ["geom_4326", "geom_point", "meta_v_taxref", "id_digitiser"];

fn is_null(v: &[u8]) -> bool {
    v == b"\\N" || v.is_empty()
}

fn bad_data(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn reader(path: &Path) -> io::Result<csv::Reader<BufReader<File>>> {
    let f = File::open(path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    Ok(csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .quote(b'"')
        .double_quote(true)
        .has_headers(true)
        .from_reader(BufReader::new(f)))
}

fn rename(name: &str) -> &str {
    RENAME
        .iter()
        .find(|(old, _)| *old == name)
        .map_or(name, |(_, new)| *new)
}

/// For each output column: (input index, output name).
fn plan(header: &[String]) -> Vec<(usize, String)> {
    let has_obs_meth = header.iter().any(|h| h == "code_nomenclature_obs_meth");
    header
        .iter()
        .enumerate()
        .filter(|(_, h)| {
            // the old code_nomenclature_obs_technique (type TECHNIQUE_OBS) gives way to obs_meth
            !(DROP.contains(&h.as_str())
                || (has_obs_meth && h.as_str() == "code_nomenclature_obs_technique"))
        })
        .map(|(k, h)| (k, rename(h).to_string()))
        .collect()
}

/// `YYYY-MM-DD HH:MM` from a DATE or DATETIME text.
fn to_export_date(s: &str) -> Option<String> {
    let date = s.get(0..10)?;
    let time = s.get(11..16).unwrap_or("00:00");
    Some(format!("{date} {time}"))
}

struct Survey {
    rows: usize,
    taxref: BTreeSet<String>,
    datasets: BTreeSet<String>,
    min_date: Option<String>,
    latest_meta: Option<String>,
}

fn survey(path: &Path) -> io::Result<(Vec<String>, Survey)> {
    let mut rdr = reader(path)?;
    let header: Vec<String> = rdr.headers()?.iter().map(str::to_string).collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let has_obs_meth = col("code_nomenclature_obs_meth").is_some();
    let must_be_null: Vec<usize> = [
        col("id_digitiser"),
        col("code_nomenclature_obs_technique").filter(|_| has_obs_meth),
    ]
    .into_iter()
    .flatten()
    .collect();
    let taxref = col("meta_v_taxref");
    let dataset = col("code_dataset");
    let date_min = col("date_min");
    let metas: Vec<usize> = ["meta_create_date", "meta_update_date"]
        .iter()
        .filter_map(|n| col(n))
        .collect();
    let mut s = Survey {
        rows: 0,
        taxref: BTreeSet::new(),
        datasets: BTreeSet::new(),
        min_date: None,
        latest_meta: None,
    };
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec)? {
        s.rows += 1;
        for &k in &must_be_null {
            if !is_null(rec[k].as_bytes()) {
                return Err(bad_data(format!(
                    "{}: row {}: column {} would be dropped but holds {:?}",
                    path.display(),
                    s.rows,
                    header[k],
                    &rec[k]
                )));
            }
        }
        if let Some(k) = taxref {
            if !is_null(rec[k].as_bytes()) {
                s.taxref.insert(rec[k].to_string());
            }
        }
        if let Some(k) = dataset {
            s.datasets.insert(rec[k].to_string());
        }
        if let Some(k) = date_min {
            let d = rec[k].get(0..10).unwrap_or("").to_string();
            if s.min_date.as_ref().is_none_or(|m| d < *m) && !d.is_empty() {
                s.min_date = Some(d);
            }
        }
        for &k in &metas {
            let v = &rec[k];
            if !is_null(v.as_bytes()) && s.latest_meta.as_deref().is_none_or(|m| v > m) {
                s.latest_meta = Some(v.to_string());
            }
        }
    }
    if s.taxref.len() > 1 {
        return Err(bad_data(format!(
            "{}: several meta_v_taxref values {:?}; meta_archive.ini holds one",
            path.display(),
            s.taxref
        )));
    }
    Ok((header, s))
}

/// Writes the archive; see [`crate::write_real_fixture_archive`].
pub fn write_archive<W: Write + Seek>(dir: &Path, out: W) -> io::Result<Manifest> {
    let synth_path = dir.join("synthese.sample.csv");
    let source_path = dir.join("source.sample.csv");

    // source.csv: copied, header names mapped to 1.0
    let mut src = reader(&source_path)?;
    let src_header: Vec<String> = src
        .headers()?
        .iter()
        .map(|h| rename(h).to_string())
        .collect();
    let src_rows: Vec<Vec<Vec<u8>>> = src
        .byte_records()
        .map(|r| r.map(|r| r.iter().map(<[u8]>::to_vec).collect()))
        .collect::<Result<_, _>>()?;
    let src_meta = src_header
        .iter()
        .position(|h| h == "meta_create_date")
        .and_then(|k| {
            src_rows
                .first()
                .map(|r| String::from_utf8_lossy(&r[k]).to_string())
        })
        .filter(|v| v != "\\N");

    let (header, s) = survey(&synth_path)?;
    let plan = plan(&header);
    let out_names: Vec<&str> = plan.iter().map(|(_, n)| n.as_str()).collect();
    let geom_out = out_names.iter().position(|n| *n == "geom");
    let area_out = out_names.iter().position(|n| *n == "code_area_attachment");

    let latest = [src_meta.clone(), s.latest_meta.clone()]
        .into_iter()
        .flatten()
        .max()
        .and_then(|v| to_export_date(&v))
        .unwrap_or_else(|| "2020-02-13 00:00".to_string());
    let mut ini = String::new();
    ini.push_str(
        "# Built by sinp-bench from the CEN PACA 2020 export (tests/fixtures/cen-paca-2020):\n\
         # the pre-1.0 header is mapped to format 1.0, values are copied unchanged.\n",
    );
    ini.push_str("format_version = 1.0\n");
    ini.push_str(&format!("export_date = {latest}\n"));
    if let Some(t) = s.taxref.iter().next() {
        ini.push_str(&format!("taxref_version = {t}\n"));
    }
    ini.push_str("editor = CEN PACA\n");
    ini.push_str(
        "notes = \"Observations réelles du CEN PACA (897 lignes, licence MIT).\n    \
         Jeu de données lié par son nom court (DFCP), comme le faisait l'ancien exportateur.\"\n",
    );

    let stamp = zip_stamp(&latest);
    let opts = zip_options(6, false, stamp);
    let mut zip = zip::ZipWriter::new(out);
    zip.start_file("meta_archive.ini", opts)?;
    zip.write_all(ini.as_bytes())?;

    zip.start_file("source.csv", opts)?;
    let h: Vec<&str> = src_header.iter().map(String::as_str).collect();
    write_tsv(&mut zip, &h, &src_rows)?;

    let meta_date = "2020-02-13 00:00:00";
    zip.start_file("acquisition_framework.csv", opts)?;
    write_tsv(
        &mut zip,
        &[
            "unique_id",
            "name",
            "desc",
            "keywords",
            "target_description",
            "is_parent",
            "start_date",
            "cor_voletsinp",
            "meta_create_date",
            "meta_update_date",
            "meta_last_action",
        ],
        &[vec![
            REAL_AF_UUID,
            "CEN PACA — suivis et inventaires faunistiques",
            "Cadre d'acquisition des observations faunistiques du Conservatoire d'espaces naturels \
             de Provence-Alpes-Côte d'Azur (CEN PACA), export GeoNature de 2020.",
            "oiseaux, zones humides, Camargue",
            "Aves",
            "false",
            s.min_date.as_deref().unwrap_or("1990-01-01"),
            "{\"1\"}",
            meta_date,
            "\\N",
            "I",
        ]],
    )?;

    zip.start_file("dataset.csv", opts)?;
    let ds_rows: Vec<Vec<String>> = s
        .datasets
        .iter()
        .map(|short| {
            let uuid = if short == "DFCP" {
                REAL_DATASET_UUID.to_string()
            } else {
                Uuid::new_v5(
                    &Uuid::NAMESPACE_URL,
                    format!("https://sinp-bench.invalid/cen-paca-2020/dataset/{short}").as_bytes(),
                )
                .to_string()
            };
            let (name, desc) = if short == "DFCP" {
                (
                    "Données faune du CEN PACA (DFCP)".to_string(),
                    "Observations faunistiques (oiseaux d'eau surtout) du Conservatoire d'espaces \
                     naturels de Provence-Alpes-Côte d'Azur, exportées de sa base GeoNature en 2020."
                        .to_string(),
                )
            } else {
                (
                    format!("Jeu de données {short} du CEN PACA"),
                    format!("Jeu de données du CEN PACA de nom court {short}."),
                )
            };
            [
                uuid.as_str(),
                REAL_AF_UUID,
                name.as_str(),
                short.as_str(),
                desc.as_str(),
                "\\N",
                "faune, oiseaux",
                "false",
                "true",
                "\\N",
                "{{\"METROP\",\"\"}}",
                meta_date,
                "\\N",
                "I",
            ]
            .iter()
            .map(|v| v.to_string())
            .collect()
        })
        .collect();
    write_tsv(
        &mut zip,
        &[
            "unique_id",
            "code_acquisition_framework",
            "name",
            "shortname",
            "desc",
            "code_nomenclature_data_type",
            "keywords",
            "marine_domain",
            "terrestrial_domain",
            "code_nomenclature_dataset_objectif",
            "cor_territory",
            "meta_create_date",
            "meta_update_date",
            "meta_last_action",
        ],
        &ds_rows,
    )?;

    zip.start_file("synthese.csv", opts)?;
    let mut m = Manifest::default();
    {
        let mut w = tsv_writer(&mut zip);
        w.write_record(&out_names)?;
        let mut rdr = reader(&synth_path)?;
        let mut rec = csv::ByteRecord::new();
        let mut out = csv::ByteRecord::new();
        while rdr.read_byte_record(&mut rec)? {
            out.clear();
            for (k, _) in &plan {
                out.push_field(&rec[*k]);
            }
            let geom = geom_out.map(|g| &out[g]).filter(|v| !is_null(v));
            match geom {
                Some(g) => match classify_geom(&String::from_utf8_lossy(g)) {
                    GeomSpelling::Ewkt => m.ewkt_rows += 1,
                    GeomSpelling::Ewkb => m.ewkb_rows += 1,
                    GeomSpelling::BareWkt => m.bare_wkt_rows += 1,
                },
                None => {
                    if area_out.is_some_and(|a| !is_null(&out[a])) {
                        m.area_only_rows += 1;
                    }
                }
            }
            w.write_byte_record(&out)?;
        }
        w.flush()?;
    }
    m.counts = vec![
        ("source", src_rows.len()),
        ("organism", 0),
        ("user", 0),
        ("acquisition_framework", 1),
        ("dataset", ds_rows.len()),
        ("synthese", s.rows),
    ];
    zip.finish()?;
    Ok(m)
}
