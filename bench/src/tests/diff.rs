//! The differential archives (`crate::diff`): reopened with zip + csv and checked against the base
//! rows and FORMAT.md §7.

use super::*;

fn base_opts() -> SynthOptions {
    SynthOptions {
        rows: 5_000,
        users: 50,
        datasets: 5,
        area_codes: (1..=10).map(|i| format!("COM.05{i:03}")).collect(),
        ..SynthOptions::default()
    }
}

fn diff_opts() -> DiffOptions {
    DiffOptions {
        updates: 1_000,
        deletes: 100,
        inserts: 100,
        ..DiffOptions::default()
    }
}

fn bytes_of(
    write: impl Fn(&mut std::io::Cursor<Vec<u8>>) -> std::io::Result<DiffManifest>,
) -> (Vec<u8>, DiffManifest) {
    let mut cur = std::io::Cursor::new(Vec::new());
    let manifest = write(&mut cur).unwrap();
    (cur.into_inner(), manifest)
}

/// The decoded values of a synthese.csv record, keyed by column.
fn decoded(t: &Table, raw: &[String]) -> BTreeMap<String, Option<String>> {
    t.header
        .iter()
        .zip(raw)
        .map(|(h, v)| (h.clone(), logical(h, v)))
        .collect()
}

/// The columns a U row may change.
const CHANGED: [&str; 9] = [
    "count_min",
    "count_max",
    "nom_cite",
    "date_min",
    "date_max",
    "geom",
    "code_area_attachment",
    "meta_update_date",
    "meta_last_action",
];

#[test]
fn plan_spreads_distinct_rows_over_the_base() {
    let (base, diff) = (base_opts(), diff_opts());
    let plan = diff_plan(&base, &diff).unwrap();
    assert_eq!(plan.len(), 1_200);
    let of = |a: DiffAction| plan.iter().filter(move |r| r.action == a);
    assert_eq!(of(DiffAction::Update).count(), 1_000);
    assert_eq!(of(DiffAction::Delete).count(), 100);
    assert_eq!(of(DiffAction::Insert).count(), 100);
    assert_eq!(of(DiffAction::Update).filter(|r| r.moved).count(), 200);
    assert!(of(DiffAction::Delete).all(|r| !r.moved));
    let touched: BTreeSet<usize> = plan
        .iter()
        .filter(|r| r.action != DiffAction::Insert)
        .map(|r| r.row)
        .collect();
    assert_eq!(touched.len(), 1_100, "a base row is touched twice");
    assert!(touched.iter().all(|&i| i < base.rows));
    let new: BTreeSet<usize> = of(DiffAction::Insert).map(|r| r.row).collect();
    assert_eq!(new, (base.rows..base.rows + 100).collect());
    // every tenth of the base has U and D rows, and the I rows are spread over the file
    for tenth in 0..10 {
        let range = tenth * base.rows / 10..(tenth + 1) * base.rows / 10;
        for action in [DiffAction::Update, DiffAction::Delete] {
            let n = of(action).filter(|r| range.contains(&r.row)).count();
            assert!(
                n >= if action == DiffAction::Update { 90 } else { 9 },
                "{action:?} {tenth}: {n}"
            );
        }
        let file_part = tenth * plan.len() / 10..(tenth + 1) * plan.len() / 10;
        let inserts = plan[file_part]
            .iter()
            .filter(|r| r.action == DiffAction::Insert)
            .count();
        assert!(
            (9..=11).contains(&inserts),
            "I rows in part {tenth}: {inserts}"
        );
    }
    assert!(*touched.first().unwrap() < base.rows / 100);
    assert!(*touched.last().unwrap() >= base.rows * 99 / 100);
    // too small a base
    let err = diff_plan(
        &SynthOptions {
            rows: 1_099,
            ..base.clone()
        },
        &diff,
    )
    .unwrap_err();
    assert!(err.contains("at least 1100"), "{err}");
}

#[test]
fn differential_archive_round_trip() {
    let (base, diff) = (base_opts(), diff_opts());
    let (bytes, manifest) = bytes_of(|w| write_diff_archive(&base, &diff, w));
    assert_eq!(bytes, bytes_of(|w| write_diff_archive(&base, &diff, w)).0);
    let a = open(&bytes);
    let names: Vec<&str> = a.members.keys().map(String::as_str).collect();
    assert_eq!(names, ["meta_archive.ini", "synthese.csv"]);
    let meta = ini(std::str::from_utf8(&a.members["meta_archive.ini"]).unwrap());
    assert_eq!(meta["format_version"], "1.0");
    assert_eq!(meta["export_date"], diff.export_date);

    let base_archive = open(&synthetic_archive_bytes(&SynthOptions {
        rows: 1,
        ..base.clone()
    }));
    let t = table(&a.members["synthese.csv"]);
    assert_eq!(
        t.header,
        table(&base_archive.members["synthese.csv"]).header,
        "the header is the base's"
    );
    let plan = diff_plan(&base, &diff).unwrap();
    assert_eq!(t.rows.len(), plan.len());
    let values = diff_values(&base, &diff, false).unwrap();

    let (mut moved, mut dates, mut cited, mut without_uuid) = (0, 0, 0, 0);
    for (((_, raw), r), (vr, v)) in t.rows.iter().zip(&plan).zip(&values) {
        assert_eq!(r, vr);
        let row = decoded(&t, raw);
        assert_eq!(&row, v, "diff_values differs from the file (row {})", r.row);
        let old = synthese_values(&base, r.row);
        let get = |m: &BTreeMap<String, Option<String>>, k: &str| m[k].clone();
        assert_eq!(
            get(&row, "meta_last_action").as_deref(),
            Some(r.action.code())
        );
        match r.action {
            DiffAction::Insert => {
                let mut expected = old.clone();
                expected.retain(|k, _| row.contains_key(k));
                assert_eq!(row, expected);
            }
            DiffAction::Delete => {
                for (k, value) in &row {
                    let kept = [
                        "unique_id_sinp",
                        "source_id",
                        "code_source",
                        "meta_update_date",
                        "meta_last_action",
                    ];
                    if kept.contains(&k.as_str()) {
                        assert!(value.is_some() || k == "unique_id_sinp", "{k}");
                    } else {
                        assert_eq!(value, &None, "D row {}: {k}", r.row);
                    }
                }
                for k in ["unique_id_sinp", "source_id", "code_source"] {
                    assert_eq!(get(&row, k), get(&old, k));
                }
            }
            DiffAction::Update => {
                // the same key
                for k in ["unique_id_sinp", "source_id", "code_source"] {
                    assert_eq!(get(&row, k), get(&old, k), "U row {}: {k}", r.row);
                }
                without_uuid += row["unique_id_sinp"].is_none() as usize;
                // a newer version
                let version = norm_ts(row["meta_update_date"].as_deref().unwrap());
                if let Some(before) = &old["meta_update_date"] {
                    assert!(version > norm_ts(before), "{version} <= {before}");
                }
                assert!(version > norm_ts(old["meta_create_date"].as_deref().unwrap()));
                // what changes, and what does not
                for (k, value) in &row {
                    if !CHANGED.contains(&k.as_str()) {
                        assert_eq!(value, &old[k], "U row {}: {k} changed", r.row);
                    }
                }
                let (min, max) = (
                    int(&row["count_min"]).unwrap(),
                    int(&row["count_max"]).unwrap(),
                );
                assert!(min <= max);
                assert_ne!(row["count_min"], old["count_min"]);
                if row["nom_cite"] != old["nom_cite"] {
                    cited += 1;
                    assert!(row["nom_cite"].as_deref().unwrap().ends_with(" (révisé)"));
                }
                if row["date_min"] != old["date_min"] {
                    dates += 1;
                    assert_ne!(row["date_max"], old["date_max"]);
                }
                assert!(
                    norm_ts(row["date_min"].as_deref().unwrap())
                        <= norm_ts(row["date_max"].as_deref().unwrap())
                );
                let geometry = |m: &BTreeMap<String, Option<String>>| {
                    (m["geom"].clone(), m["code_area_attachment"].clone())
                };
                if r.moved {
                    moved += 1;
                    assert_ne!(geometry(&row), geometry(&old), "U row {} not moved", r.row);
                    if let Some(g) = &row["geom"] {
                        let (x, y) = wkt_coords(g.strip_prefix("SRID=2154;").unwrap())[0];
                        assert!(in_l93(x, y), "{g}");
                    } else {
                        let area = row["code_area_attachment"].as_ref().unwrap();
                        assert!(base.area_codes.contains(area));
                    }
                } else {
                    assert_eq!(geometry(&row), geometry(&old), "U row {} moved", r.row);
                }
            }
        }
    }
    assert_eq!(moved, 200);
    assert_eq!(manifest.moved, 200);
    assert_eq!(manifest.dates_changed, dates);
    assert_eq!(manifest.nom_cite_changed, cited);
    assert_eq!(manifest.updates_without_uuid, without_uuid);
    assert!((200..=400).contains(&dates), "{dates}");
    assert!((400..=600).contains(&cited), "{cited}");
    // one U slot in twenty prefers a row without unique_id_sinp (when its block has one)
    assert!((20..=50).contains(&without_uuid), "{without_uuid}");
    let d_without = plan
        .iter()
        .zip(&values)
        .filter(|(r, (_, v))| r.action == DiffAction::Delete && v["unique_id_sinp"].is_none())
        .count();
    assert!(d_without <= 1, "{d_without} D rows without unique_id_sinp");
    assert_eq!(
        (manifest.updates, manifest.deletes, manifest.inserts),
        (1_000, 100, 100)
    );
    assert_eq!(
        manifest.to_json(),
        format!(
            "{{\"updates\":1000,\"deletes\":100,\"inserts\":100,\"updates_without_uuid\":{without_uuid},\"moved\":200,\"dates_changed\":{dates},\"nom_cite_changed\":{cited},\"first_base_row\":{},\"last_base_row\":{}}}",
            manifest.first_base_row, manifest.last_base_row
        )
    );
}

#[test]
fn initial_archive_has_the_same_rows_as_inserts() {
    let (base, diff) = (base_opts(), diff_opts());
    let (bytes, manifest) = bytes_of(|w| write_diff_initial_archive(&base, &diff, w));
    let a = open(&bytes);
    let names: BTreeSet<&str> = a.members.keys().map(String::as_str).collect();
    assert_eq!(names, MEMBERS.iter().copied().collect());
    // the metadata members are the base archive's
    let base_archive = open(&synthetic_archive_bytes(&SynthOptions {
        rows: 1,
        ..base.clone()
    }));
    for m in MEMBERS
        .iter()
        .filter(|m| !["meta_archive.ini", "synthese.csv"].contains(m))
    {
        assert_eq!(a.members[*m], base_archive.members[*m], "{m}");
    }
    let t = table(&a.members["synthese.csv"]);
    let plan = diff_plan(&base, &diff).unwrap();
    let diff_rows = diff_values(&base, &diff, false).unwrap();
    assert_eq!(t.rows.len(), 1_200);
    assert!(t.values("meta_last_action").iter().all(|a| *a == "I"));
    for (((_, raw), r), (_, changed)) in t.rows.iter().zip(&plan).zip(&diff_rows) {
        let mut row = decoded(&t, raw);
        assert_eq!(row["meta_last_action"].as_deref(), Some("I"));
        row.remove("meta_last_action");
        let mut expected = match r.action {
            // the D rows in full, as the base has them
            DiffAction::Delete => synthese_values(&base, r.row),
            _ => changed.clone(),
        };
        expected.retain(|k, _| row.contains_key(k));
        assert_eq!(row, expected, "{:?} row {}", r.action, r.row);
    }
    assert_eq!(
        (manifest.updates, manifest.deletes, manifest.inserts),
        (1_000, 100, 100)
    );
}
