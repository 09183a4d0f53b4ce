//! Round-trip tests: archives are reopened with zip + csv and checked against the API and
//! FORMAT.md. Everything here re-implements what it checks (decoding, NULL rules, geometry
//! classes) instead of calling the generator's helpers.

use super::*;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Read;
use std::path::PathBuf;

mod diff;

const MEMBERS: [&str; 8] = [
    "meta_archive.ini",
    "source.csv",
    "organism.csv",
    "user.csv",
    "acquisition_framework.csv",
    "dataset.csv",
    "meta_additional_data.csv",
    "synthese.csv",
];

/// Format-1.0 synthese columns whose type is not text (an empty field is NULL there).
const NON_TEXT: [&str; 18] = [
    "unique_id_sinp",
    "unique_id_sinp_grp",
    "count_min",
    "count_max",
    "cd_nom",
    "cd_hab",
    "altitude_min",
    "altitude_max",
    "depth_min",
    "depth_max",
    "precision",
    "date_min",
    "date_max",
    "validation_date",
    "determination_date",
    "additional_data",
    "meta_create_date",
    "meta_update_date",
];

fn project_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn small_opts() -> SynthOptions {
    SynthOptions {
        rows: 700, // > 10 periods of the literal-line-feed pattern
        ..SynthOptions::default()
    }
}

struct Archive {
    members: BTreeMap<String, Vec<u8>>,
}

fn open(bytes: &[u8]) -> Archive {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut members = BTreeMap::new();
    for k in 0..z.len() {
        let mut f = z.by_index(k).unwrap();
        assert_eq!(
            f.compression(),
            zip::CompressionMethod::Deflated,
            "member {} not deflated",
            f.name().unwrap()
        );
        let name = f.name().unwrap().to_string();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        members.insert(name, data);
    }
    Archive { members }
}

/// Escape decoding of FORMAT.md §3, written independently of the crate's.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut k = 0;
    while k < b.len() {
        if b[k] == b'\\' && k + 1 < b.len() {
            let d = match b[k + 1] {
                b't' => Some(b'\t'),
                b'n' => Some(b'\n'),
                b'r' => Some(b'\r'),
                b'v' => Some(0x0B),
                b'\\' => Some(b'\\'),
                _ => None,
            };
            if let Some(d) = d {
                out.push(d);
                k += 2;
                continue;
            }
        }
        out.push(b[k]);
        k += 1;
    }
    String::from_utf8(out).unwrap()
}

fn logical(column: &str, raw: &str) -> Option<String> {
    if raw == "\\N" || (raw.is_empty() && NON_TEXT.contains(&column)) {
        None
    } else {
        Some(unescape(raw))
    }
}

struct Table {
    header: Vec<String>,
    /// (physical line where the record starts, raw fields)
    rows: Vec<(u64, Vec<String>)>,
}

impl Table {
    fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }
    fn values(&self, name: &str) -> Vec<&str> {
        let k = self.col(name);
        self.rows.iter().map(|(_, r)| r[k].as_str()).collect()
    }
}

fn table(data: &[u8]) -> Table {
    assert!(!data.contains(&b'\r'), "CR in a member");
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .quote(b'"')
        .has_headers(true)
        .from_reader(data);
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let mut rows = Vec::new();
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec).unwrap() {
        assert_eq!(rec.len(), header.len());
        let line = rec.position().unwrap().line();
        rows.push((line, rec.iter().map(String::from).collect()));
    }
    Table { header, rows }
}

/// key → value of a meta_archive.ini (comments skipped, quoted multi-line values joined).
fn ini(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (k, v) = t.split_once('=').expect("key = value");
        let mut v = v.trim().to_string();
        if v.starts_with('"') {
            while !(v.len() > 1 && v.ends_with('"')) {
                let next = lines.next().expect("closing quote");
                assert!(next.starts_with(' '), "continuation line not indented");
                v.push('\n');
                v.push_str(next.trim());
            }
            v = v[1..v.len() - 1].to_string();
        }
        out.insert(k.trim().to_string(), v);
    }
    out
}

/// Active codes per nomenclature type, from the project's copy of the SINP lists.
fn nomenclatures() -> HashMap<String, HashSet<String>> {
    let path = project_dir().join("data/nomenclatures/nomenclatures.tsv");
    let data = std::fs::read(&path).expect("data/nomenclatures/nomenclatures.tsv");
    let t = table(&data);
    let (ty, code, active) = (
        t.col("type_mnemonique"),
        t.col("cd_nomenclature"),
        t.col("active"),
    );
    let mut m: HashMap<String, HashSet<String>> = HashMap::new();
    for (_, r) in &t.rows {
        if r[active] == "true" {
            m.entry(r[ty].clone()).or_default().insert(r[code].clone());
        }
    }
    m
}

fn in_l93(x: f64, y: f64) -> bool {
    (940_000.0..=990_000.0).contains(&x) && (6_380_000.0..=6_430_000.0).contains(&y)
}

fn in_lonlat(x: f64, y: f64) -> bool {
    (6.0..=6.7).contains(&x) && (44.5..=44.95).contains(&y)
}

/// All coordinate pairs of a WKT text.
fn wkt_coords(wkt: &str) -> Vec<(f64, f64)> {
    let inner: String = wkt
        .chars()
        .map(|c| if c == '(' || c == ')' { ' ' } else { c })
        .collect();
    let body = inner.split_once(' ').map_or("", |(_, b)| b);
    body.split(',')
        .map(|p| {
            let mut it = p.split_whitespace().map(|v| v.parse::<f64>().unwrap());
            (it.next().unwrap(), it.next().unwrap())
        })
        .collect()
}

/// DATE / DATETIME text → comparable `YYYY-MM-DD HH:MM:SS[.ffffff]`.
fn norm_ts(s: &str) -> String {
    let s = s.replace('T', " ");
    match s.len() {
        10 => format!("{s} 00:00:00"),
        16 => format!("{s}:00"),
        _ => s,
    }
}

fn int(s: &Option<String>) -> Option<i64> {
    s.as_ref().map(|v| v.parse().unwrap())
}

#[test]
fn synthetic_round_trip() {
    let opts = small_opts();
    let mut cur = std::io::Cursor::new(Vec::new());
    let manifest = write_synthetic_archive(&opts, &mut cur).unwrap();
    let bytes = cur.into_inner();
    assert_eq!(bytes, synthetic_archive_bytes(&opts), "not reproducible");
    let a = open(&bytes);
    let names: BTreeSet<&str> = a.members.keys().map(String::as_str).collect();
    assert_eq!(names, MEMBERS.iter().copied().collect());

    // meta_archive.ini
    let text = std::str::from_utf8(&a.members["meta_archive.ini"]).unwrap();
    assert!(text.lines().any(|l| l.starts_with('#')));
    let meta = ini(text);
    assert_eq!(meta["format_version"], "1.0");
    assert_eq!(meta["export_date"], "2020-08-26 10:15");
    assert_eq!(meta["taxref_version"], "16");
    assert!(meta.contains_key("habref_version") && meta.contains_key("editor"));
    let contact = &meta["contact"];
    assert!(
        contact.contains(" <") && contact.ends_with('>'),
        "{contact}"
    );
    assert!(meta["notes"].contains('\n'), "notes must be multi-line");

    // entity files
    let expect_headers: [(&str, &[&str]); 5] = [
        (
            "source",
            &[
                "name",
                "desc",
                "entity_source_pk_field",
                "url",
                "additional_data",
            ],
        ),
        (
            "organism",
            &[
                "unique_id",
                "name",
                "address",
                "postal_code",
                "city",
                "phone",
                "fax",
                "email",
                "url",
                "logo_url",
                "additional_data",
            ],
        ),
        (
            "user",
            &[
                "unique_id",
                "identifier",
                "firstname",
                "name",
                "email",
                "code_organism",
                "comment",
                "enable",
                "additional_data",
            ],
        ),
        (
            "acquisition_framework",
            &[
                "unique_id",
                "name",
                "desc",
                "code_nomenclature_territorial_level",
                "territory_desc",
                "keywords",
                "code_nomenclature_financing_type",
                "target_description",
                "ecologic_or_geologic_target",
                "parent_code",
                "is_parent",
                "start_date",
                "end_date",
                "cor_objectifs",
                "cor_voletsinp",
                "cor_actors_organism",
                "cor_actors_user",
                "cor_publications",
                "additional_data",
            ],
        ),
        (
            "dataset",
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
                "bbox_west",
                "bbox_east",
                "bbox_south",
                "bbox_north",
                "code_nomenclature_collecting_method",
                "code_nomenclature_data_origin",
                "code_nomenclature_source_status",
                "code_nomenclature_resource_type",
                "cor_territory",
                "cor_actors_organism",
                "cor_actors_user",
                "additional_data",
            ],
        ),
    ];
    let mut tables = HashMap::new();
    for (entity, cols) in expect_headers {
        let t = table(&a.members[&format!("{entity}.csv")]);
        let mut want: BTreeSet<&str> = cols.iter().copied().collect();
        want.extend(["meta_create_date", "meta_update_date", "meta_last_action"]);
        let got: BTreeSet<&str> = t.header.iter().map(String::as_str).collect();
        assert_eq!(got, want, "{entity} header");
        assert_eq!(t.rows.len(), manifest.count(entity), "{entity} rows");
        assert!(t.values("meta_last_action").iter().all(|v| *v == "I"));
        assert!(t.values("meta_create_date").iter().all(|v| v.len() >= 19));
        for v in t.values("additional_data") {
            if let Some(j) = logical("additional_data", v) {
                let parsed: serde_json::Value = serde_json::from_str(&j).unwrap();
                assert!(parsed.is_object(), "{entity}: additional_data {j}");
            }
        }
        tables.insert(entity, t);
    }
    let counts: Vec<(&str, usize)> = vec![
        ("source", 1),
        ("organism", opts.organisms),
        ("user", opts.users),
        ("acquisition_framework", opts.afs),
        ("dataset", opts.datasets),
        ("synthese", opts.rows),
    ];
    assert_eq!(manifest.counts, counts);
    assert_eq!(
        tables["source"].values("name"),
        vec![SYNTHETIC_SOURCE_NAME],
        "source name"
    );
    assert!(
        tables["user"]
            .values("enable")
            .iter()
            .collect::<HashSet<_>>()
            .len()
            >= 4
    );

    // synthese: header, lines, values
    let s = table(&a.members["synthese.csv"]);
    let header: BTreeSet<&str> = s.header.iter().map(String::as_str).collect();
    let mut want: BTreeSet<&str> = synthese_format_columns().iter().copied().collect();
    assert_eq!(want.len(), 59);
    want.extend(EXTRA_COLUMNS);
    assert_eq!(header, want);
    let spec_order: Vec<&str> = synthese_format_columns().to_vec();
    let file_order: Vec<&str> = s
        .header
        .iter()
        .map(String::as_str)
        .filter(|c| spec_order.contains(c))
        .collect();
    assert_ne!(file_order, spec_order, "columns must not be in spec order");
    assert_eq!(s.rows.len(), opts.rows);

    let mut multi_line = 0;
    let mut decoded_rows = Vec::new();
    for (i, (line, raw)) in s.rows.iter().enumerate() {
        assert_eq!(*line, synthese_line(&opts, i), "line of row {i}");
        let got: BTreeMap<String, Option<String>> = s
            .header
            .iter()
            .zip(raw)
            .map(|(h, v)| (h.clone(), logical(h, v)))
            .collect();
        assert_eq!(got, synthese_values(&opts, i), "values of row {i}");
        if i + 1 < s.rows.len() && s.rows[i + 1].0 > line + 1 {
            multi_line += 1;
        }
        decoded_rows.push(got);
    }
    assert!(multi_line >= 10, "rows spanning lines: {multi_line}");
    assert_eq!(
        decoded_rows[0]["geom"].as_deref(),
        Some("SRID=2154;POINT(959204.517 6405928.812)")
    );

    // --- row-level rules
    let users: HashSet<&str> = tables["user"].values("unique_id").into_iter().collect();
    let datasets: HashSet<&str> = tables["dataset"].values("unique_id").into_iter().collect();
    let nomen = nomenclatures();
    let (mut null_uuid, mut area_only, mut ewkt, mut ewkb, mut bare) = (0, 0, 0, 0, 0);
    let (mut links, mut persons_without_uuid, mut unknown_uuids) = (0, 0, 0);
    let (mut json_wins, mut json_backslash, mut empty_nom_cite, mut with_time) = (0, 0, 0, 0);
    let mut nomen_null = 0;
    let mut seen_source_ids = HashSet::new();
    let mut seen_uuids = HashSet::new();
    for (i, v) in decoded_rows.iter().enumerate() {
        let get = |c: &str| v[c].clone();
        assert_eq!(get("code_source").as_deref(), Some(SYNTHETIC_SOURCE_NAME));
        assert!(datasets.contains(get("code_dataset").unwrap().as_str()));
        assert!(seen_source_ids.insert(get("source_id").unwrap()));
        assert_eq!(get("meta_last_action").as_deref(), Some("I"));
        match get("unique_id_sinp") {
            None => null_uuid += 1,
            Some(u) => assert!(seen_uuids.insert(u.to_lowercase())),
        }
        if let Some(u) = get("code_digitiser") {
            assert!(users.contains(u.as_str()), "row {i}: digitiser {u}");
        }
        for (col, ty) in SYNTHESE_NOMENCLATURES {
            match get(col) {
                None => nomen_null += 1,
                Some(code) => assert!(
                    nomen[ty].contains(&code),
                    "row {i}: {col} = {code:?} not a {ty} code"
                ),
            }
        }
        // dates, counts, altitudes, depths
        let (dmin, dmax) = (get("date_min").unwrap(), get("date_max").unwrap());
        assert!(norm_ts(&dmin) <= norm_ts(&dmax), "row {i}: {dmin} > {dmax}");
        assert!(dmin.as_str() >= "1990-01-01" && dmax.as_str() < "2020-08-26");
        with_time += (dmin.len() > 10) as usize;
        for (a, b) in [
            ("count_min", "count_max"),
            ("altitude_min", "altitude_max"),
            ("depth_min", "depth_max"),
        ] {
            if let (Some(x), Some(y)) = (int(&get(a)), int(&get(b))) {
                assert!(x <= y, "row {i}: {a} {x} > {b} {y}");
            }
        }
        if let (Some(c), Some(u)) = (get("meta_create_date"), get("meta_update_date")) {
            assert!(norm_ts(&c) < norm_ts(&u), "row {i}: meta dates");
        }
        assert!(TAXA_CODES.contains(&get("cd_nom").unwrap().parse::<u32>().unwrap()));
        match get("nom_cite") {
            Some(n) if n.is_empty() => empty_nom_cite += 1,
            Some(_) => {}
            None => panic!("row {i}: nom_cite NULL"),
        }
        // geometry
        match get("geom") {
            None => {
                assert!(
                    get("code_area_attachment").is_some(),
                    "row {i}: no location"
                );
                area_only += 1;
            }
            Some(g) => {
                if let Some(rest) = g.strip_prefix("SRID=2154;") {
                    ewkt += 1;
                    assert!(wkt_coords(rest).iter().all(|(x, y)| in_l93(*x, *y)), "{g}");
                } else if let Some(rest) = g.strip_prefix("SRID=4326;") {
                    ewkt += 1;
                    assert!(
                        wkt_coords(rest).iter().all(|(x, y)| in_lonlat(*x, *y)),
                        "{g}"
                    );
                } else if g.bytes().all(|b| b.is_ascii_hexdigit()) {
                    ewkb += 1;
                    // little-endian, SRID flag set, then the SRID
                    let srid = &g[10..18];
                    assert!(g[8..10].eq("20"), "no SRID flag: {g}");
                    let bytes: Vec<u8> = (0..g.len() / 2)
                        .map(|k| u8::from_str_radix(&g[2 * k..2 * k + 2], 16).unwrap())
                        .collect();
                    use geozero::ToWkt;
                    let wkt = geozero::wkb::Ewkb(bytes).to_wkt().unwrap();
                    let pts = wkt_coords(&wkt);
                    match srid {
                        "6A080000" => assert!(pts.iter().all(|(x, y)| in_l93(*x, *y)), "{wkt}"),
                        "E6100000" => {
                            assert!(pts.iter().all(|(x, y)| in_lonlat(*x, *y)), "{wkt}")
                        }
                        _ => panic!("row {i}: SRID {srid}"),
                    }
                } else {
                    bare += 1;
                    assert!(wkt_coords(&g).iter().all(|(x, y)| in_l93(*x, *y)), "{g}");
                }
            }
        }
        if let Some(area) = get("code_area_attachment") {
            assert!(opts.area_codes.contains(&area));
        }
        // observers
        if let Some(obs) = get("observers") {
            let persons: Vec<&str> = obs.split(", ").collect();
            assert!((1..=3).contains(&persons.len()), "row {i}: {obs}");
            let mut row_users = HashSet::new();
            for p in persons {
                match p.rsplit_once(" [") {
                    Some((_, u)) => {
                        let u = u.trim_end_matches(']');
                        if users.contains(u) {
                            assert!(row_users.insert(u.to_string()), "row {i}: twice {u}");
                            links += 1;
                        } else {
                            unknown_uuids += 1;
                        }
                    }
                    None => persons_without_uuid += 1,
                }
            }
        }
        // additional data and extra columns
        if let Some(j) = get("additional_data") {
            let parsed: serde_json::Value = serde_json::from_str(&j).unwrap();
            let obj = parsed.as_object().expect("object");
            if let Some(w) = obj.get("x_weather") {
                let col = get("x_weather").expect("extra column set when the JSON repeats it");
                assert_ne!(Some(col.as_str()), w.as_str());
                json_wins += 1;
            }
            if obj
                .values()
                .any(|x| x.as_str().is_some_and(|s| s.contains('\\')))
            {
                json_backslash += 1;
            }
        }
    }
    let n = opts.rows;
    assert!(
        (n * 5 / 100..=n * 16 / 100).contains(&null_uuid),
        "{null_uuid}"
    );
    assert!(
        (n * 14 / 100..=n * 26 / 100).contains(&area_only),
        "{area_only}"
    );
    let nomen_cells = n * 21;
    assert!(
        (nomen_cells * 25 / 100..=nomen_cells * 42 / 100).contains(&nomen_null),
        "{nomen_null}"
    );
    assert!(ewkt > 0 && ewkb > 0 && bare > 0);
    assert_eq!(
        (
            manifest.area_only_rows,
            manifest.ewkt_rows,
            manifest.ewkb_rows,
            manifest.bare_wkt_rows,
            manifest.observer_links
        ),
        (area_only, ewkt, ewkb, bare, links)
    );
    assert!(links > n / 2 && persons_without_uuid > 10 && unknown_uuids > 5);
    assert!(json_wins > 5 && json_backslash > 5 && empty_nom_cite > 5 && with_time > n / 3);

    // the raw file carries every spelling the decoder must handle
    let raw = std::str::from_utf8(&a.members["synthese.csv"]).unwrap();
    for needle in ["\\t", "\\n", "\\\\", "\\r", "\\v", "\"\"", "\\\\\\\\"] {
        assert!(raw.contains(needle), "no {needle:?} in synthese.csv");
    }
    assert!(decoded_rows
        .iter()
        .any(|v| v["place_name"].as_deref().is_some_and(|p| p.contains('\t'))));
}

const TAXA_CODES: [u32; 20] = [
    3283, 3297, 3274, 3285, 3272, 199_335, 1991, 3311, 2706, 2506, 2440, 974, 3688, 4064, 965,
    3036, 3343, 3070, 2497, 1958,
];

#[test]
fn links_between_entities() {
    let opts = SynthOptions {
        rows: 10,
        afs: 5,
        ..SynthOptions::default()
    };
    let a = open(&synthetic_archive_bytes(&opts));
    let af = table(&a.members["acquisition_framework.csv"]);
    let ids = af.values("unique_id");
    let parents = af.values("parent_code");
    let mut later_parents = 0;
    for (k, p) in parents.iter().enumerate() {
        if *p == "\\N" {
            continue;
        }
        let at = ids.iter().position(|u| u == p).expect("parent in the file");
        assert!(at > k, "parent of AF {k} is written before it");
        later_parents += 1;
        assert!(["true"].contains(&af.values("is_parent")[at]));
    }
    assert!(later_parents >= 2);
    let org = table(&a.members["organism.csv"]);
    let org_ids: HashSet<&str> = org.values("unique_id").into_iter().collect();
    let user = table(&a.members["user.csv"]);
    let identifiers: HashSet<&str> = user.values("identifier").into_iter().collect();
    let user_ids: HashSet<&str> = user.values("unique_id").into_iter().collect();
    for o in user.values("code_organism") {
        assert!(o == "\\N" || org_ids.contains(o));
    }
    let nomen = nomenclatures();
    // actors: {{"x","role"}} or [["x","role"]]
    let pairs = |v: &str| -> Vec<(String, String)> {
        let j = v
            .replace("{{", "[[")
            .replace("}}", "]]")
            .replace("},{", "],[");
        let parsed: Vec<Vec<String>> = serde_json::from_str(&j).unwrap();
        parsed
            .into_iter()
            .map(|p| (p[0].clone(), p[1].clone()))
            .collect()
    };
    let (mut by_identifier, mut by_uuid) = (0, 0);
    for v in af.values("cor_actors_user") {
        if v != "\\N" {
            for (who, role) in pairs(v) {
                assert!(nomen["ROLE_ACTEUR"].contains(&role));
                if identifiers.contains(who.as_str()) {
                    by_identifier += 1;
                } else {
                    assert!(user_ids.contains(who.as_str()));
                    by_uuid += 1;
                }
            }
        }
    }
    assert!(by_identifier > 0 && by_uuid > 0);
    for v in af.values("cor_actors_organism") {
        for (who, role) in pairs(v) {
            assert!(org_ids.contains(who.as_str()) && nomen["ROLE_ACTEUR"].contains(&role));
        }
    }
    for v in af.values("cor_publications") {
        if v != "\\N" {
            let p: serde_json::Value = serde_json::from_str(&unescape(v)).unwrap();
            let first = &p.as_array().unwrap()[0];
            assert!(first["reference"].is_string() && first["uuid"].is_string());
        }
    }
    for (col, ty) in [
        ("code_nomenclature_territorial_level", "NIVEAU_TERRITORIAL"),
        ("code_nomenclature_financing_type", "TYPE_FINANCEMENT"),
    ] {
        assert!(af.values(col).iter().all(|c| nomen[ty].contains(*c)));
    }
    let ds = table(&a.members["dataset.csv"]);
    for c in ds.values("code_acquisition_framework") {
        assert!(ids.contains(&c));
    }
    assert!(ds
        .values("shortname")
        .iter()
        .all(|s| s.chars().count() <= 30));
    assert!(ds.values("code_nomenclature_data_type").contains(&"\\N"));
    for (col, ty) in [
        ("code_nomenclature_data_type", "DATA_TYP"),
        ("code_nomenclature_dataset_objectif", "JDD_OBJECTIFS"),
        ("code_nomenclature_collecting_method", "METHO_RECUEIL"),
        ("code_nomenclature_data_origin", "DS_PUBLIQUE"),
        ("code_nomenclature_source_status", "STATUT_SOURCE"),
        ("code_nomenclature_resource_type", "RESOURCE_TYP"),
    ] {
        assert!(ds
            .values(col)
            .iter()
            .all(|c| *c == "\\N" || nomen[ty].contains(*c)));
    }
    for v in ds.values("cor_territory") {
        for (code, _) in pairs(v) {
            assert!(nomen["TERRITOIRE"].contains(&code));
        }
    }
}

#[test]
fn codes_table_matches_nomenclature_file() {
    let nomen = nomenclatures();
    for (ty, list) in crate::codes::CODES {
        let want = &nomen[*ty];
        let got: HashSet<String> = list.iter().map(|c| c.to_string()).collect();
        assert_eq!(&got, want, "{ty}");
    }
}

#[test]
fn options_edge_cases() {
    // no areas: every row has a geometry
    let opts = SynthOptions {
        rows: 300,
        area_codes: vec![],
        ..SynthOptions::default()
    };
    let mut cur = std::io::Cursor::new(Vec::new());
    let m = write_synthetic_archive(&opts, &mut cur).unwrap();
    assert_eq!(m.area_only_rows, 0);
    assert_eq!(m.ewkt_rows + m.ewkb_rows + m.bare_wkt_rows, 300);

    // no users, no organisms, one framework, one dataset
    let opts = SynthOptions {
        rows: 50,
        users: 0,
        organisms: 0,
        afs: 1,
        datasets: 1,
        ..SynthOptions::default()
    };
    let mut cur = std::io::Cursor::new(Vec::new());
    let m = write_synthetic_archive(&opts, &mut cur).unwrap();
    assert_eq!(m.observer_links, 0);
    let a = open(&cur.into_inner());
    assert_eq!(table(&a.members["user.csv"]).rows.len(), 0);
    let s = table(&a.members["synthese.csv"]);
    assert!(s.values("code_digitiser").iter().all(|v| *v == "\\N"));

    // another seed: other values, same header and line layout
    let o1 = small_opts();
    let o2 = SynthOptions {
        seed: 7,
        ..small_opts()
    };
    assert_ne!(synthese_values(&o1, 5), synthese_values(&o2, 5));
    assert_eq!(synthese_line(&o1, 600), synthese_line(&o2, 600));
}

#[test]
fn random_access_is_constant_time() {
    let opts = SynthOptions {
        rows: 3_000_000,
        ..SynthOptions::default()
    };
    let t = std::time::Instant::now();
    let v = synthese_values(&opts, 2_999_999);
    assert_eq!(v.len(), 61);
    assert!(v["source_id"].is_some());
    // 1 + rows + literal line feeds before the row; the pattern repeats every 64 rows
    let per_64 = synthese_line(&opts, 64) - synthese_line(&opts, 0) - 64;
    assert!(per_64 > 0);
    assert_eq!(
        synthese_line(&opts, 64 * 1000),
        2 + 64 * 1000 + 1000 * per_64
    );
    assert!(t.elapsed().as_secs() < 2);
}

#[test]
fn real_fixture_archive() {
    let dir = project_dir().join("tests/fixtures/cen-paca-2020");
    let bytes = real_fixture_archive_bytes(&dir).unwrap();
    assert_eq!(bytes, real_fixture_archive_bytes(&dir).unwrap());
    let mut cur = std::io::Cursor::new(Vec::new());
    let m = write_real_fixture_archive(&dir, &mut cur).unwrap();
    assert_eq!(m.count("synthese"), 897);
    assert_eq!(m.count("dataset"), 1);
    assert_eq!(m.count("acquisition_framework"), 1);
    assert_eq!(m.ewkb_rows, 897);
    let a = open(&bytes);
    let names: BTreeSet<&str> = a.members.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "meta_archive.ini",
            "source.csv",
            "acquisition_framework.csv",
            "dataset.csv",
            "synthese.csv"
        ])
    );
    let meta = ini(std::str::from_utf8(&a.members["meta_archive.ini"]).unwrap());
    assert_eq!(meta["format_version"], "1.0");
    assert_eq!(meta["taxref_version"], "12");
    assert_eq!(meta["editor"], "CEN PACA");
    assert_eq!(meta["export_date"].len(), 16);

    let s = table(&a.members["synthese.csv"]);
    assert_eq!(s.rows.len(), 897);
    let expected_header = [
        "unique_id_sinp",
        "unique_id_sinp_grp",
        "code_source",
        "source_id",
        "code_dataset",
        "code_nomenclature_geo_object_nature",
        "code_nomenclature_grp_typ",
        "code_nomenclature_obs_technique",
        "code_nomenclature_bio_status",
        "code_nomenclature_bio_condition",
        "code_nomenclature_naturalness",
        "code_nomenclature_exist_proof",
        "code_nomenclature_valid_status",
        "code_nomenclature_diffusion_level",
        "code_nomenclature_life_stage",
        "code_nomenclature_sex",
        "code_nomenclature_obj_count",
        "code_nomenclature_type_count",
        "code_nomenclature_sensitivity",
        "code_nomenclature_observation_status",
        "code_nomenclature_blurring",
        "code_nomenclature_source_status",
        "code_nomenclature_info_geo_type",
        "count_min",
        "count_max",
        "cd_nom",
        "nom_cite",
        "sample_number_proof",
        "digital_proof",
        "non_digital_proof",
        "altitude_min",
        "altitude_max",
        "geom",
        "date_min",
        "date_max",
        "validator",
        "validation_comment",
        "observers",
        "determiner",
        "code_nomenclature_determination_method",
        "comment_context",
        "comment_description",
        "validation_date",
        "meta_create_date",
        "meta_update_date",
        "meta_last_action",
    ];
    assert_eq!(s.header, expected_header);

    // values copied unchanged from the fixture, through the renaming
    let orig = table(&std::fs::read(dir.join("synthese.sample.csv")).unwrap());
    fn from(new: &str) -> &str {
        match new {
            "source_id" => "entity_source_pk_value",
            "meta_last_action" => "last_action",
            "code_nomenclature_obs_technique" => "code_nomenclature_obs_meth",
            "geom" => "geom_local",
            "validation_date" => "meta_validation_date",
            other => other,
        }
    }
    for (k, name) in s.header.iter().enumerate() {
        let o = orig.col(from(name));
        for (r, (_, row)) in s.rows.iter().enumerate() {
            assert_eq!(row[k], orig.rows[r].1[o], "row {r} column {name}");
        }
    }
    // nothing needed quoting: the synthese member is the fixture minus the dropped columns
    assert!(!a.members["synthese.csv"].contains(&b'"'));

    let src = &a.members["source.csv"];
    assert_eq!(src, &std::fs::read(dir.join("source.sample.csv")).unwrap());
    let ds = table(&a.members["dataset.csv"]);
    assert_eq!(ds.values("shortname"), vec!["DFCP"]);
    assert_eq!(ds.values("unique_id"), vec![REAL_DATASET_UUID]);
    assert_eq!(ds.values("code_acquisition_framework"), vec![REAL_AF_UUID]);
    let af = table(&a.members["acquisition_framework.csv"]);
    assert_eq!(af.values("unique_id"), vec![REAL_AF_UUID]);
    assert!(s
        .values("code_source")
        .iter()
        .all(|c| *c == "CEN_PACA_EXPORT"));
}

#[test]
fn threading_does_not_change_bytes() {
    let opts = SynthOptions {
        rows: 6000, // several 1 MiB chunks
        ..SynthOptions::default()
    };
    let mut a = std::io::Cursor::new(Vec::new());
    let mut b = std::io::Cursor::new(Vec::new());
    let ma = synth::write_archive_with(&opts, &mut a, false).unwrap();
    let mb = synth::write_archive_with(&opts, &mut b, true).unwrap();
    assert_eq!(ma, mb);
    assert!(
        a.get_ref() == b.get_ref(),
        "threaded and single-threaded archives differ"
    );
}

#[test]
fn manifest_json() {
    let m = Manifest {
        counts: vec![("source", 1), ("synthese", 3)],
        area_only_rows: 1,
        ewkt_rows: 1,
        ewkb_rows: 1,
        bare_wkt_rows: 0,
        observer_links: 2,
    };
    let v: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
    assert_eq!(v["synthese"], 3);
    assert_eq!(v["observer_links"], 2);
    assert!(!m.to_json().contains('\n'));
}
