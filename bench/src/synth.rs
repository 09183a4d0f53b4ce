//! The synthetic archive: every entity file, every synthese column, every spelling FORMAT.md allows.
//!
//! Everything is a pure function of [`SynthOptions`]: entity rows are computed from their index,
//! synthese row `i` from `(seed, i)` alone ([`gen_row`]), so a row can be recomputed on its own
//! ([`crate::synthese_values`]) and the writer streams rows without keeping any of them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Seek, Write};

use geozero::{CoordDimensions, ToWkb};
use uuid::Uuid;

use crate::codes::CODES;
use crate::util::{
    days_from_civil, escape_backslashes, push_stamp, to_hex_upper, tsv_writer, write_tsv,
    zip_options, zip_stamp, GeomSpelling, Rng, Stamp,
};
use crate::{Manifest, SynthOptions, SYNTHETIC_SOURCE_NAME};

// ---------------------------------------------------------------------------------------------
// Columns
// ---------------------------------------------------------------------------------------------

/// The synthese columns of format 1.0, in the order of the specification, followed by the two
/// additional (non-format) columns the synthetic archive carries.
pub const ALL_COLUMNS: [&str; 61] = [
    "unique_id_sinp",
    "unique_id_sinp_grp",
    "source_id",
    "source_id_grp",
    "code_source",
    "code_dataset",
    "code_nomenclature_geo_object_nature",
    "code_nomenclature_grp_typ",
    "grp_method",
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
    "code_nomenclature_behaviour",
    "code_nomenclature_biogeo_status",
    "reference_biblio",
    "count_min",
    "count_max",
    "cd_nom",
    "cd_hab",
    "nom_cite",
    "digital_proof",
    "non_digital_proof",
    "altitude_min",
    "altitude_max",
    "depth_min",
    "depth_max",
    "place_name",
    "geom",
    "precision",
    "code_area_attachment",
    "date_min",
    "date_max",
    "validator",
    "validation_comment",
    "validation_date",
    "observers",
    "determiner",
    "determination_date",
    "code_digitiser",
    "code_nomenclature_determination_method",
    "comment_context",
    "comment_description",
    "additional_data",
    "meta_create_date",
    "meta_update_date",
    "meta_last_action",
    "x_station_code",
    "x_weather",
];

/// Number of format-1.0 synthese columns (the first entries of [`ALL_COLUMNS`]).
pub const N_FORMAT: usize = 59;
const NCOLS: usize = ALL_COLUMNS.len();

/// Indexes of [`ALL_COLUMNS`] (also used by the differential archive, `crate::diff`).
#[allow(dead_code)]
pub(crate) mod c {
    pub const UNIQUE_ID_SINP: usize = 0;
    pub const UNIQUE_ID_SINP_GRP: usize = 1;
    pub const SOURCE_ID: usize = 2;
    pub const SOURCE_ID_GRP: usize = 3;
    pub const CODE_SOURCE: usize = 4;
    pub const CODE_DATASET: usize = 5;
    pub const GRP_METHOD: usize = 8;
    pub const OBS_TECHNIQUE: usize = 9;
    pub const DIFFUSION_LEVEL: usize = 15;
    pub const SENSITIVITY: usize = 20;
    pub const INFO_GEO_TYPE: usize = 24;
    pub const REFERENCE_BIBLIO: usize = 27;
    pub const COUNT_MIN: usize = 28;
    pub const COUNT_MAX: usize = 29;
    pub const CD_NOM: usize = 30;
    pub const CD_HAB: usize = 31;
    pub const NOM_CITE: usize = 32;
    pub const DIGITAL_PROOF: usize = 33;
    pub const NON_DIGITAL_PROOF: usize = 34;
    pub const ALTITUDE_MIN: usize = 35;
    pub const ALTITUDE_MAX: usize = 36;
    pub const DEPTH_MIN: usize = 37;
    pub const DEPTH_MAX: usize = 38;
    pub const PLACE_NAME: usize = 39;
    pub const GEOM: usize = 40;
    pub const PRECISION: usize = 41;
    pub const CODE_AREA_ATTACHMENT: usize = 42;
    pub const DATE_MIN: usize = 43;
    pub const DATE_MAX: usize = 44;
    pub const VALIDATOR: usize = 45;
    pub const VALIDATION_COMMENT: usize = 46;
    pub const VALIDATION_DATE: usize = 47;
    pub const OBSERVERS: usize = 48;
    pub const DETERMINER: usize = 49;
    pub const DETERMINATION_DATE: usize = 50;
    pub const CODE_DIGITISER: usize = 51;
    pub const DETERMINATION_METHOD: usize = 52;
    pub const COMMENT_CONTEXT: usize = 53;
    pub const COMMENT_DESCRIPTION: usize = 54;
    pub const ADDITIONAL_DATA: usize = 55;
    pub const META_CREATE_DATE: usize = 56;
    pub const META_UPDATE_DATE: usize = 57;
    pub const META_LAST_ACTION: usize = 58;
    pub const X_STATION_CODE: usize = 59;
    pub const X_WEATHER: usize = 60;
}

/// The 21 nomenclature columns of synthese and their nomenclature type (FORMAT.md §5).
pub const SYNTHESE_NOMENCLATURES: [(&str, &str); 21] = [
    ("code_nomenclature_geo_object_nature", "NAT_OBJ_GEO"),
    ("code_nomenclature_grp_typ", "TYP_GRP"),
    ("code_nomenclature_obs_technique", "METH_OBS"),
    ("code_nomenclature_bio_status", "STATUT_BIO"),
    ("code_nomenclature_bio_condition", "ETA_BIO"),
    ("code_nomenclature_naturalness", "NATURALITE"),
    ("code_nomenclature_exist_proof", "PREUVE_EXIST"),
    ("code_nomenclature_valid_status", "STATUT_VALID"),
    ("code_nomenclature_diffusion_level", "NIV_PRECIS"),
    ("code_nomenclature_life_stage", "STADE_VIE"),
    ("code_nomenclature_sex", "SEXE"),
    ("code_nomenclature_obj_count", "OBJ_DENBR"),
    ("code_nomenclature_type_count", "TYP_DENBR"),
    ("code_nomenclature_sensitivity", "SENSIBILITE"),
    ("code_nomenclature_observation_status", "STATUT_OBS"),
    ("code_nomenclature_blurring", "DEE_FLOU"),
    ("code_nomenclature_source_status", "STATUT_SOURCE"),
    ("code_nomenclature_info_geo_type", "TYP_INF_GEO"),
    ("code_nomenclature_behaviour", "OCC_COMPORTEMENT"),
    ("code_nomenclature_biogeo_status", "STAT_BIOGEO"),
    ("code_nomenclature_determination_method", "METH_DETERMIN"),
];

/// Synthese columns whose type is not text: there an empty unquoted field means NULL.
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

/// The logical value of a raw synthese field: `\N` is NULL, an empty field of a non-text column
/// is NULL, anything else is the text after escape decoding.
pub fn decode_field(column: &str, raw: &str) -> Option<String> {
    if raw == "\\N" || (raw.is_empty() && NON_TEXT.contains(&column)) {
        None
    } else {
        Some(crate::util::decode_escapes(raw))
    }
}

/// The valid codes of a nomenclature type (panics on a type the generator does not know).
pub fn codes(ty: &str) -> &'static [&'static str] {
    CODES
        .iter()
        .find(|(t, _)| *t == ty)
        .map(|(_, c)| *c)
        .unwrap_or_else(|| panic!("no codes for nomenclature type {ty}"))
}

// ---------------------------------------------------------------------------------------------
// Physical lines: which rows carry literal line feeds (so that line numbers are O(1))
// ---------------------------------------------------------------------------------------------

const LF_PERIOD: usize = 64;

/// Number of literal LF characters (inside quoted fields) in data row `i`. Depends on `i % 64`
/// only; [`gen_row`] puts exactly this many LFs in the row and the writer checks it.
pub fn literal_lfs(i: usize) -> usize {
    match i % LF_PERIOD {
        9 => 1,
        37 => 2,
        _ => 0,
    }
}

/// 1-based physical line where data row `i` starts (line 1 is the header).
pub fn line_of_row(i: usize) -> u64 {
    let per_period: usize = (0..LF_PERIOD).map(literal_lfs).sum();
    let prefix: usize = (0..i % LF_PERIOD).map(literal_lfs).sum();
    2 + i as u64 + ((i / LF_PERIOD) * per_period + prefix) as u64
}

// ---------------------------------------------------------------------------------------------
// Fixed pools of realistic values
// ---------------------------------------------------------------------------------------------

/// (cd_nom, code used by the CEN PACA exporter as nom_cite, French vernacular name) — the taxa of
/// the real fixture.
const TAXA: [(u32, &str, &str); 20] = [
    (3283, "LARRID", "Mouette rieuse"),
    (3297, "LARFUS", "Goéland brun"),
    (3274, "LARMIN", "Mouette pygmée"),
    (3285, "LARGEN", "Goéland railleur"),
    (3272, "LARMEL", "Mouette mélanocéphale"),
    (199_335, "PHOROS", "Flamant rose"),
    (1991, "AYTFER", "Fuligule nyroca"),
    (3311, "LARMAR", "Goéland marin"),
    (2706, "CYGOLO", "Cygne tuberculé"),
    (2506, "ARDCIN", "Héron cendré"),
    (2440, "PHACAR", "Grand Cormoran"),
    (974, "PODNIG", "Grèbe à cou noir"),
    (3688, "RIPRIP", "Hirondelle de rivage"),
    (4064, "OENOEN", "Traquet motteux"),
    (965, "PODCRI", "Grèbe huppé"),
    (3036, "RALAQU", "Râle d'eau"),
    (3343, "STEHIR", "Sterne pierregarin"),
    (3070, "FULATR", "Foulque macroule"),
    (2497, "EGRGAR", "Aigrette garzette"),
    (1958, "ANACRE", "Sarcelle d'hiver"),
];

/// (NAME as written in observers, name as in user.csv, ascii for identifiers/emails)
const LAST: [(&str, &str, &str); 14] = [
    ("DUPONT", "Dupont", "dupont"),
    ("LÉVÊQUE", "Lévêque", "leveque"),
    ("MARTIN-DUVAL", "Martin-Duval", "martin-duval"),
    ("D'ALMEIDA", "D'Almeida", "dalmeida"),
    ("OLIOSO", "Olioso", "olioso"),
    ("VAN ES", "Van Es", "vanes"),
    ("BERTRAND", "Bertrand", "bertrand"),
    ("GIRAUD", "Giraud", "giraud"),
    ("MÜLLER", "Müller", "muller"),
    ("ROUX", "Roux", "roux"),
    ("FABRE", "Fabre", "fabre"),
    ("NGUYEN", "Nguyen", "nguyen"),
    ("CHABERT", "Chabert", "chabert"),
    ("BLANC", "Blanc", "blanc"),
];

const FIRST: [(&str, &str); 12] = [
    ("Frédéric", "frederic"),
    ("Anaïs", "anais"),
    ("Jean-Pierre", "jean-pierre"),
    ("Zoé", "zoe"),
    ("Marc", "marc"),
    ("Hélène", "helene"),
    ("Lucas", "lucas"),
    ("Camille", "camille"),
    ("Éloïse", "eloise"),
    ("Mathieu", "mathieu"),
    ("Inès", "ines"),
    ("Noël", "noel"),
];

struct OrgSeed {
    name: &'static str,
    short: &'static str,
    address: &'static str,
    postal_code: &'static str,
    city: &'static str,
    phone: &'static str,
    fax: Option<&'static str>,
    domain: &'static str,
}

/// Raw (file) spellings: `\\n` is the two-character escape, `\n` a literal line feed.
const ORGS: [OrgSeed; 5] = [
    OrgSeed {
        name: "Conservatoire botanique national alpin",
        short: "CBNA",
        address: "Domaine de Charance\\nChemin de Charance",
        postal_code: "05000",
        city: "Gap",
        phone: "04 92 53 56 82",
        fax: Some("04 92 51 94 58"),
        domain: "cbna.example.org",
    },
    OrgSeed {
        name: "Association \"Les Amis du Lac\"",
        short: "AMIS LAC",
        address: "Maison du lac\n12 rue du Port",
        postal_code: "05200",
        city: "Embrun",
        phone: "04 92 43 00 00",
        fax: None,
        domain: "amis-du-lac.example.org",
    },
    OrgSeed {
        name: "Conservatoire d'espaces naturels de Provence-Alpes-Côte d'Azur",
        short: "CEN PACA",
        address: "Immeuble Atrium, bât. B\t4 avenue Marcel Pagnol",
        postal_code: "13100",
        city: "Aix-en-Provence",
        phone: "04 42 20 03 83",
        fax: Some("04 42 20 05 98"),
        domain: "cen-paca.example.org",
    },
    OrgSeed {
        name: "Parc national des Écrins",
        short: "PNE",
        address: "Domaine de Charance",
        postal_code: "05000",
        city: "Gap",
        phone: "04 92 40 20 10",
        fax: None,
        domain: "ecrins.example.org",
    },
    OrgSeed {
        name: "Ligue pour la protection des oiseaux PACA",
        short: "LPO PACA",
        address: "6 avenue Jean Jaurès",
        postal_code: "83400",
        city: "Hyères",
        phone: "04 94 12 79 52",
        fax: None,
        domain: "lpo-paca.example.org",
    },
];

/// Organisation acronyms for observers that are not users.
const OTHER_ORGS: [&str; 4] = ["ONF", "OFB", "Indépendant", "SNPN"];

const PLACES: [&str; 8] = [
    "Lac de Serre-Ponçon",
    "Marais de Manteyer",
    "Col du Lautaret",
    "Lieu-dit \"Les Sagnes\"",
    "Torrent du Riou Bourdoux\\tamont",
    "Plan d'eau d'Embrun",
    "Réserve naturelle des Partias",
    "Bois de Saint-Pons",
];

const CONTEXTS: [&str; 7] = [
    "Prospection matinale, temps clair.",
    "Sortie naturaliste\\nGroupe de 5 personnes",
    "Relevé effectué depuis la digue\\r\\nvisibilité moyenne",
    "Chemin d'accès : D942 \\\\ piste forestière",
    "Conditions : vent \"fort\" et pluie",
    "Note\\vfin de page",
    "Motif \\d+ conservé tel quel",
];

const DESCRIPTIONS: [&str; 6] = [
    "Individu adulte posé sur la berge",
    "2 mâles chanteurs\\t1 femelle",
    "Nid occupé ; 3 œufs",
    "Photo : dossier IMG\\\\2034",
    "Comportement : \"alarme\" répétée",
    "Vu en vol vers le nord-est",
];

const GRP_METHODS: [&str; 3] = [
    "Point d'écoute de 10 min",
    "Transect pédestre de 2 km",
    "Comptage simultané \"Wetlands\"",
];

const VALIDATION_COMMENTS: [&str; 3] = [
    "Donnée cohérente avec la phénologie",
    "Validée sur photo",
    "Effectif \"important\" confirmé",
];

const WEATHER: [&str; 6] = [
    "ensoleillé",
    "couvert",
    "pluie fine",
    "vent \"fort\"",
    "neige\\tgel",
    "brouillard",
];

const COMMUNES: [&str; 5] = ["05061", "05023", "05046", "05118", "05163"];
const PRECISION_LABELS: [&str; 4] = ["précis", "lieu-dit", "commune", "indéterminé"];

/// `enable` spellings of user.csv (all valid BOOL spellings, FORMAT.md §4).
const ENABLE_SPELLINGS: [&str; 10] = [
    "true", "f", "oui", "1", "FALSE", "t", "non", "Yes", "0", "no",
];

const DAY_LO: i64 = days_from_civil(1990, 1, 1);
/// last day of date_min (date_max is at most 3 days later)
const DAY_HI: i64 = days_from_civil(2020, 8, 15);
/// last day of the other timestamps (before the default export date 2020-08-26)
const DAY_MAX_META: i64 = days_from_civil(2020, 8, 24);
const DAY_META_LO: i64 = days_from_civil(2012, 1, 1);

// ---------------------------------------------------------------------------------------------
// Context: the small entity tables every row refers to
// ---------------------------------------------------------------------------------------------

pub struct User {
    pub uuid: String,
    pub identifier: String,
    pub first: &'static str,
    pub last: usize,
    pub email: String,
    pub org: Option<usize>,
}

pub struct Ctx<'a> {
    pub opts: &'a SynthOptions,
    ns: Uuid,
    n_datasets: usize,
    n_afs: usize,
    pub org_uuids: Vec<String>,
    pub users: Vec<User>,
    pub af_uuids: Vec<String>,
    pub dataset_uuids: Vec<String>,
    /// Column order of synthese.csv (indexes into [`ALL_COLUMNS`]).
    pub order: [usize; NCOLS],
    nomen: [&'static [&'static str]; 21],
    nomen_cols: [usize; 21],
}

fn shuffled_order() -> [usize; NCOLS] {
    let mut order = [0usize; NCOLS];
    for (k, o) in order.iter_mut().enumerate() {
        *o = k;
    }
    // One fixed permutation for every archive (the header is stable across seeds).
    let mut r = Rng::new(0x5EED_C0FF_EE15_2154);
    for k in (1..NCOLS).rev() {
        let j = r.below(k as u64 + 1) as usize;
        order.swap(k, j);
    }
    order
}

impl<'a> Ctx<'a> {
    pub fn new(opts: &'a SynthOptions) -> Self {
        let ns = Uuid::new_v5(
            &Uuid::NAMESPACE_URL,
            format!("https://sinp-bench.invalid/seed/{}", opts.seed).as_bytes(),
        );
        let id = |kind: &str, k: usize| Uuid::new_v5(&ns, format!("{kind}:{k}").as_bytes());
        let org_uuids: Vec<String> = (0..opts.organisms)
            .map(|k| id("organism", k).to_string())
            .collect();
        let users = (0..opts.users)
            .map(|k| {
                let first = FIRST[k % FIRST.len()];
                let last = k % LAST.len();
                let suffix = if k < FIRST.len().min(LAST.len()) {
                    String::new()
                } else {
                    k.to_string()
                };
                let org = if opts.organisms == 0 || k % 4 == 3 {
                    None
                } else {
                    Some(k % opts.organisms)
                };
                let domain = org.map_or("example.net", |o| ORGS[o % ORGS.len()].domain);
                User {
                    uuid: id("user", k).to_string(),
                    identifier: format!("{}{}{}", &first.1[..1], LAST[last].2, suffix),
                    first: first.0,
                    last,
                    email: format!("{}.{}{}@{}", first.1, LAST[last].2, suffix, domain),
                    org,
                }
            })
            .collect();
        let n_afs = opts.afs.max(1);
        let n_datasets = opts.datasets.max(1);
        let af_uuids = (0..n_afs)
            .map(|k| id("acquisition_framework", k).to_string())
            .collect();
        let dataset_uuids = (0..n_datasets)
            .map(|k| id("dataset", k).to_string())
            .collect();
        let mut nomen: [&'static [&'static str]; 21] = [&[]; 21];
        let mut nomen_cols = [0usize; 21];
        for (k, (col, ty)) in SYNTHESE_NOMENCLATURES.iter().enumerate() {
            nomen[k] = codes(ty);
            nomen_cols[k] = ALL_COLUMNS.iter().position(|c| c == col).unwrap();
        }
        Ctx {
            opts,
            ns,
            n_datasets,
            n_afs,
            org_uuids,
            users,
            af_uuids,
            dataset_uuids,
            order: shuffled_order(),
            nomen,
            nomen_cols,
        }
    }

    fn uuid(&self, kind: &str, k: usize) -> Uuid {
        Uuid::new_v5(&self.ns, format!("{kind}:{k}").as_bytes())
    }

    /// Parent of acquisition framework `k`: always written on a LATER line than `k`.
    pub fn af_parent(&self, k: usize) -> Option<usize> {
        let a = self.n_afs;
        if a < 2 || k == a - 1 {
            return None;
        }
        if k == 0 && a >= 3 {
            return Some(1); // two levels: 0 -> 1 -> a-1
        }
        if a >= 4 && k == a - 2 {
            return None; // a stand-alone framework
        }
        Some(a - 1)
    }

    fn af_of_dataset(&self, d: usize) -> usize {
        if self.n_afs >= 2 {
            d % (self.n_afs - 1)
        } else {
            0
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Synthese rows
// ---------------------------------------------------------------------------------------------

/// Raw field texts of one synthese row, in [`ALL_COLUMNS`] order, as written in the file (before
/// the csv writer's quoting). Reused across rows to avoid allocations.
pub struct RowBuf {
    pub f: Vec<String>,
}

impl RowBuf {
    pub fn new() -> Self {
        RowBuf {
            f: (0..NCOLS).map(|_| String::with_capacity(32)).collect(),
        }
    }
    pub(crate) fn null(&mut self, c: usize) {
        self.set(c, "\\N");
    }
    pub(crate) fn set(&mut self, c: usize, v: &str) {
        let s = &mut self.f[c];
        s.clear();
        s.push_str(v);
    }
    pub(crate) fn put(&mut self, c: usize, args: std::fmt::Arguments<'_>) {
        let s = &mut self.f[c];
        s.clear();
        let _ = s.write_fmt(args);
    }
    pub(crate) fn stamp(&mut self, c: usize, total_secs: i64, style: Stamp) {
        let s = &mut self.f[c];
        s.clear();
        push_stamp(
            s,
            total_secs.div_euclid(86_400),
            total_secs.rem_euclid(86_400),
            style,
        );
    }
}

/// What the manifest counts about a row.
#[derive(Debug, Clone, Copy, Default)]
pub struct RowFacts {
    pub geom: Option<GeomSpelling>,
    pub area_only: bool,
    pub observer_links: usize,
}

fn l93(mm: i64) -> (i64, i64) {
    (mm / 1000, mm % 1000)
}

fn ewkb_hex(geom: geo_types::Geometry<f64>, srid: i32, out: &mut String) {
    let bytes = geom
        .to_ewkb(CoordDimensions::xy(), Some(srid))
        .expect("EWKB encoding of a simple geometry");
    out.clear();
    to_hex_upper(&bytes, out);
}

fn square(x_mm: i64, y_mm: i64, side_mm: i64) -> [(i64, i64); 5] {
    [
        (x_mm, y_mm),
        (x_mm + side_mm, y_mm),
        (x_mm + side_mm, y_mm + side_mm),
        (x_mm, y_mm + side_mm),
        (x_mm, y_mm),
    ]
}

fn push_l93_coords(out: &mut String, pts: &[(i64, i64)]) {
    for (k, (x, y)) in pts.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        let (xi, xf) = l93(*x);
        let (yi, yf) = l93(*y);
        let _ = write!(out, "{xi}.{xf:03} {yi}.{yf:03}");
    }
}

/// Appends a person in the flat format `NAME Firstname <email> (ORG) [uuid]` (parts optional).
fn push_person(
    out: &mut String,
    last: &str,
    first: &str,
    email: Option<&str>,
    org: Option<&str>,
    uuid: Option<&str>,
) {
    let _ = write!(out, "{last} {first}");
    if let Some(e) = email {
        let _ = write!(out, " <{e}>");
    }
    if let Some(o) = org {
        let _ = write!(out, " ({o})");
    }
    if let Some(u) = uuid {
        let _ = write!(out, " [{u}]");
    }
}

/// Computes synthese row `i` into `row` (raw file texts). The single source of every synthese
/// value: the writer writes these texts, [`crate::synthese_values`] decodes them.
pub fn gen_row(ctx: &Ctx<'_>, i: usize, row: &mut RowBuf) -> RowFacts {
    let opts = ctx.opts;
    let mut r = Rng::for_item(opts.seed, 0x5157_4E54, i as u64);
    let mut facts = RowFacts::default();

    // --- identifiers
    if i != 0 && r.chance(10) {
        row.null(c::UNIQUE_ID_SINP);
    } else {
        let u = ctx.uuid("synthese", i);
        row.set(
            c::UNIQUE_ID_SINP,
            u.hyphenated().encode_lower(&mut Uuid::encode_buffer()),
        );
    }
    let grp = i / 3;
    match r.below(100) {
        0..=49 => {
            let u = ctx.uuid("synthese_grp", grp);
            row.set(
                c::UNIQUE_ID_SINP_GRP,
                u.hyphenated().encode_lower(&mut Uuid::encode_buffer()),
            );
        }
        50..=59 => {
            // any case is accepted for UUIDs
            let u = ctx.uuid("synthese_grp", grp);
            row.set(
                c::UNIQUE_ID_SINP_GRP,
                u.hyphenated().encode_upper(&mut Uuid::encode_buffer()),
            );
        }
        60..=62 => row.set(c::UNIQUE_ID_SINP_GRP, ""),
        _ => row.null(c::UNIQUE_ID_SINP_GRP),
    }
    row.put(c::SOURCE_ID, format_args!("SB{i:09}"));
    if r.chance(60) {
        row.put(c::SOURCE_ID_GRP, format_args!("G{grp:08}"));
    } else {
        row.null(c::SOURCE_ID_GRP);
    }
    row.set(c::CODE_SOURCE, SYNTHETIC_SOURCE_NAME);
    let d = r.below(ctx.n_datasets as u64) as usize;
    row.set(c::CODE_DATASET, &ctx.dataset_uuids[d]);

    // --- geometry first: info_geo_type depends on it
    let area_only = !opts.area_codes.is_empty() && i != 0 && r.chance(20);
    let mut is_polygon = false;
    if area_only {
        facts.area_only = true;
        row.null(c::GEOM);
        let a = r.pick_ref(&opts.area_codes);
        row.set(c::CODE_AREA_ATTACHMENT, a);
        if r.chance(40) {
            row.null(c::PRECISION);
        } else {
            row.put(
                c::PRECISION,
                format_args!("{}", r.pick(&[1000, 2500, 5000])),
            );
        }
    } else {
        let x = r.range(940_000_000, 989_500_000);
        let y = r.range(6_380_000_000, 6_429_500_000);
        let lon = r.range(6_000_000, 6_700_000);
        let lat = r.range(44_500_000, 44_950_000);
        let side = r.range(10_000, 200_000);
        let kind = if i == 0 { 0 } else { r.below(100) };
        let g = &mut row.f[c::GEOM];
        g.clear();
        let spelling = match kind {
            0..=44 => {
                let (x, y) = if i == 0 {
                    (959_204_517, 6_405_928_812)
                } else {
                    (x, y)
                };
                g.push_str("SRID=2154;POINT(");
                push_l93_coords(g, &[(x, y)]);
                g.push(')');
                GeomSpelling::Ewkt
            }
            45..=59 => {
                let _ = write!(
                    g,
                    "SRID=4326;POINT({}.{:06} {}.{:06})",
                    lon / 1_000_000,
                    lon % 1_000_000,
                    lat / 1_000_000,
                    lat % 1_000_000
                );
                GeomSpelling::Ewkt
            }
            60..=69 => {
                is_polygon = true;
                g.push_str("SRID=2154;POLYGON((");
                push_l93_coords(g, &square(x, y, side));
                g.push_str("))");
                GeomSpelling::Ewkt
            }
            70..=71 => {
                is_polygon = true;
                g.push_str("SRID=2154;LINESTRING(");
                push_l93_coords(g, &[(x, y), (x + side, y + side / 2), (x + 2 * side, y)]);
                g.push(')');
                GeomSpelling::Ewkt
            }
            72..=79 => {
                let p = geo_types::Point::new(x as f64 / 1000.0, y as f64 / 1000.0);
                ewkb_hex(p.into(), 2154, g);
                GeomSpelling::Ewkb
            }
            80..=82 => {
                is_polygon = true;
                let ring: Vec<(f64, f64)> = square(x, y, side)
                    .iter()
                    .map(|(a, b)| (*a as f64 / 1000.0, *b as f64 / 1000.0))
                    .collect();
                let poly = geo_types::Polygon::new(ring.into(), vec![]);
                ewkb_hex(poly.into(), 2154, g);
                GeomSpelling::Ewkb
            }
            83..=89 => {
                let p = geo_types::Point::new(lon as f64 / 1e6, lat as f64 / 1e6);
                ewkb_hex(p.into(), 4326, g);
                GeomSpelling::Ewkb
            }
            90..=96 => {
                g.push_str("POINT(");
                push_l93_coords(g, &[(x, y)]);
                g.push(')');
                GeomSpelling::BareWkt
            }
            _ => {
                is_polygon = true;
                g.push_str("POLYGON((");
                push_l93_coords(g, &square(x, y, side));
                g.push_str("))");
                GeomSpelling::BareWkt
            }
        };
        facts.geom = Some(spelling);
        // a geometry may come with its area of attachment too
        if i != 0 && !opts.area_codes.is_empty() && r.chance(5) {
            let a = r.pick_ref(&opts.area_codes);
            row.set(c::CODE_AREA_ATTACHMENT, a);
        } else {
            row.null(c::CODE_AREA_ATTACHMENT);
        }
        match r.below(100) {
            0..=44 if !is_polygon => row.set(c::PRECISION, "25"),
            45..=64 => row.set(c::PRECISION, "250"),
            65..=74 => row.set(c::PRECISION, "10"),
            75..=77 => row.set(c::PRECISION, ""),
            _ => row.null(c::PRECISION),
        }
    }

    // --- nomenclatures: about a third NULL so that defaults apply
    for k in 0..ctx.nomen.len() {
        let col = ctx.nomen_cols[k];
        if r.chance(33) {
            row.null(col);
            continue;
        }
        let v: &str = match col {
            c::INFO_GEO_TYPE => {
                if area_only {
                    "2"
                } else {
                    "1"
                }
            }
            // "0" (Vu) exists in METH_OBS but not in the old TECHNIQUE_OBS list
            c::OBS_TECHNIQUE if r.chance(50) => "0",
            c::SENSITIVITY if r.chance(85) => "0",
            c::DIFFUSION_LEVEL if r.chance(80) => "5",
            _ => r.pick(ctx.nomen[k]),
        };
        row.set(col, v);
    }

    // --- free texts
    if r.chance(15) {
        row.set(c::GRP_METHOD, r.pick(&GRP_METHODS));
    } else {
        row.null(c::GRP_METHOD);
    }
    if r.chance(5) {
        let n = r.range(10, 300);
        row.put(
            c::REFERENCE_BIBLIO,
            format_args!(
                "Olioso G. (1996). \"Oiseaux des Alpes du Sud\", Gap : Éditions du Lac, p. {n}."
            ),
        );
    } else {
        row.null(c::REFERENCE_BIBLIO);
    }

    // --- counts
    if r.chance(90) {
        let min = if r.chance(60) { 1 } else { r.range(2, 40) };
        let max = if r.chance(50) {
            min
        } else {
            min + r.range(1, 20)
        };
        row.put(c::COUNT_MIN, format_args!("{min}"));
        row.put(c::COUNT_MAX, format_args!("{max}"));
    } else {
        row.null(c::COUNT_MIN);
        row.null(c::COUNT_MAX);
    }

    // --- taxon
    let t = if r.chance(60) {
        &TAXA[r.below(5) as usize]
    } else {
        r.pick_ref(&TAXA)
    };
    row.put(c::CD_NOM, format_args!("{}", t.0));
    match r.below(100) {
        0..=3 => row.set(c::NOM_CITE, ""), // empty string, not NULL
        4..=69 => row.set(c::NOM_CITE, t.1),
        _ => row.put(c::NOM_CITE, format_args!("{} ({})", t.2, t.1)),
    }
    match r.below(100) {
        0..=9 => row.put(c::CD_HAB, format_args!("{}", r.range(1, 20_000))),
        10..=11 => row.set(c::CD_HAB, ""),
        _ => row.null(c::CD_HAB),
    }
    if r.chance(8) {
        row.put(
            c::DIGITAL_PROOF,
            format_args!("https://photos.sinp-bench.invalid/obs/{i}.jpg"),
        );
    } else {
        row.null(c::DIGITAL_PROOF);
    }
    if r.chance(4) {
        let n = r.range(1, 999);
        row.put(
            c::NON_DIGITAL_PROOF,
            format_args!("Herbier CBNA, planche n°{n}"),
        );
    } else {
        row.null(c::NON_DIGITAL_PROOF);
    }

    // --- altitude, depth
    if r.chance(80) {
        let min = r.range(500, 2500);
        let max = if r.chance(60) {
            min
        } else {
            min + r.range(1, 300)
        };
        row.put(c::ALTITUDE_MIN, format_args!("{min}"));
        row.put(c::ALTITUDE_MAX, format_args!("{max}"));
    } else {
        row.null(c::ALTITUDE_MIN);
        row.null(c::ALTITUDE_MAX);
    }
    match r.below(100) {
        0..=7 => {
            let min = r.range(0, 10);
            let max = min + r.range(0, 5);
            row.put(c::DEPTH_MIN, format_args!("{min}"));
            row.put(c::DEPTH_MAX, format_args!("{max}"));
        }
        8..=9 => {
            row.set(c::DEPTH_MIN, "");
            row.set(c::DEPTH_MAX, "");
        }
        _ => {
            row.null(c::DEPTH_MIN);
            row.null(c::DEPTH_MAX);
        }
    }

    // --- place name (3 %: a literal TAB, quoted by the csv writer)
    match r.below(100) {
        0..=2 => {
            let p = r.pick(&PLACES);
            let n = r.range(1, 9);
            row.put(c::PLACE_NAME, format_args!("{p}\t(secteur {n})"));
        }
        3..=69 => row.set(c::PLACE_NAME, r.pick(&PLACES)),
        _ => row.null(c::PLACE_NAME),
    }

    // --- dates: date_min <= date_max, 1990-01-01 .. 2020-08-18
    let d0 = r.range(DAY_LO, DAY_HI);
    let style = match r.below(100) {
        0..=39 => Stamp::Date,
        40..=87 => Stamp::Seconds,
        88..=93 => Stamp::Minutes,
        _ => Stamp::SecondsT,
    };
    let (t0, t1) = if style == Stamp::Date {
        let d1 = if r.chance(70) { d0 } else { d0 + r.range(1, 3) };
        (d0 * 86_400, d1 * 86_400)
    } else {
        let s0 = r.range(5 * 3600, 20 * 3600);
        let t0 = d0 * 86_400 + s0;
        let t1 = if r.chance(75) {
            (t0 + r.range(0, 4 * 3600)).min(d0 * 86_400 + 86_399)
        } else {
            (d0 + r.range(1, 3)) * 86_400 + r.range(0, 86_399)
        };
        (t0, t1)
    };
    row.stamp(c::DATE_MIN, t0, style);
    row.stamp(c::DATE_MAX, t1, style);

    // --- validation
    if r.chance(30) {
        let l = r.pick_ref(&LAST);
        let f = r.pick_ref(&FIRST);
        let o = r.pick_ref(&ORGS);
        let s = &mut row.f[c::VALIDATOR];
        s.clear();
        push_person(s, l.0, f.0, None, Some(o.short), None);
        let tv = (t1 + r.range(86_400, 700 * 86_400)).min(DAY_MAX_META * 86_400);
        row.stamp(c::VALIDATION_DATE, tv, Stamp::Seconds);
        if r.chance(60) {
            row.set(c::VALIDATION_COMMENT, r.pick(&VALIDATION_COMMENTS));
        } else {
            row.null(c::VALIDATION_COMMENT);
        }
    } else {
        row.null(c::VALIDATOR);
        row.null(c::VALIDATION_DATE);
        row.null(c::VALIDATION_COMMENT);
    }

    // --- observers: 1-3 persons, most of them users of user.csv
    if r.chance(2) {
        row.null(c::OBSERVERS);
    } else {
        let n = match r.below(100) {
            0..=69 => 1,
            70..=89 => 2,
            _ => 3,
        };
        let base = if ctx.users.is_empty() {
            0
        } else {
            r.below(ctx.users.len() as u64) as usize
        };
        let s = &mut row.f[c::OBSERVERS];
        s.clear();
        for p in 0..n {
            if p > 0 {
                s.push_str(", ");
            }
            let kind = r.below(100);
            if kind < 75 && p < ctx.users.len() {
                let u = &ctx.users[(base + p) % ctx.users.len()];
                let email = if r.chance(90) {
                    Some(u.email.as_str())
                } else {
                    None
                };
                let org = u.org.map(|o| ORGS[o % ORGS.len()].short);
                push_person(s, LAST[u.last].0, u.first, email, org, Some(&u.uuid));
                facts.observer_links += 1;
            } else if kind < 90 {
                // a person without uuid (also used when there are not enough users)
                let l = r.pick_ref(&LAST);
                let f = r.pick_ref(&FIRST);
                match r.below(3) {
                    0 => push_person(s, l.0, f.0, None, None, None),
                    1 => push_person(s, l.0, f.0, None, Some(r.pick(&OTHER_ORGS)), None),
                    _ => {
                        let e = format!("{}.{}@example.net", f.1, l.2);
                        push_person(s, l.0, f.0, Some(&e), None, None)
                    }
                }
            } else {
                // a uuid that names no user
                let l = r.pick_ref(&LAST);
                let f = r.pick_ref(&FIRST);
                let ghost = ctx.uuid(&format!("ghost:{i}"), p).to_string();
                let e = format!("{}.{}@example.net", f.1, l.2);
                push_person(
                    s,
                    l.0,
                    f.0,
                    Some(&e),
                    Some(r.pick(&OTHER_ORGS)),
                    Some(&ghost),
                );
            }
        }
    }
    if r.chance(40) {
        let l = r.pick_ref(&LAST);
        let f = r.pick_ref(&FIRST);
        let o = r.pick_ref(&ORGS);
        let s = &mut row.f[c::DETERMINER];
        s.clear();
        let _ = write!(s, "{} {} ({})", f.0, l.0, o.short);
    } else {
        row.null(c::DETERMINER);
    }
    if r.chance(20) {
        let td = (t1 + r.range(0, 30 * 86_400)).min(DAY_MAX_META * 86_400);
        row.stamp(c::DETERMINATION_DATE, td, Stamp::Seconds);
    } else {
        row.null(c::DETERMINATION_DATE);
    }
    if !ctx.users.is_empty() && r.chance(60) {
        let u = r.below(ctx.users.len() as u64) as usize;
        row.set(c::CODE_DIGITISER, &ctx.users[u].uuid);
    } else {
        row.null(c::CODE_DIGITISER);
    }

    // --- comments (the only place of literal line feeds: see literal_lfs)
    let lfs = literal_lfs(i);
    if lfs >= 2 {
        row.set(
            c::COMMENT_CONTEXT,
            "Accès par le sentier\ndu lac, rive nord",
        );
    } else if r.chance(25) {
        row.set(c::COMMENT_CONTEXT, r.pick(&CONTEXTS));
    } else {
        row.null(c::COMMENT_CONTEXT);
    }
    if lfs >= 1 {
        row.set(
            c::COMMENT_DESCRIPTION,
            "Observation en deux temps :\nle matin posé, le soir en vol",
        );
    } else {
        match r.below(100) {
            0..=2 => row.set(c::COMMENT_DESCRIPTION, "Effectif\testimé à vue"),
            3..=39 => row.set(c::COMMENT_DESCRIPTION, r.pick(&DESCRIPTIONS)),
            _ => row.null(c::COMMENT_DESCRIPTION),
        }
    }

    // --- extra columns, then additional_data (which may repeat an extra column's name)
    if r.chance(80) {
        row.put(c::X_STATION_CODE, format_args!("ST-{:04}", r.below(500)));
    } else {
        row.null(c::X_STATION_CODE);
    }
    let weather_in_json = r.chance(10);
    if weather_in_json || r.chance(70) {
        row.set(c::X_WEATHER, r.pick(&WEATHER));
    } else {
        row.null(c::X_WEATHER);
    }
    match r.below(100) {
        0..=44 if !weather_in_json => row.null(c::ADDITIONAL_DATA),
        45..=46 if !weather_in_json => row.set(c::ADDITIONAL_DATA, ""),
        _ => {
            let mut m = serde_json::Map::new();
            if r.chance(50) {
                m.insert(
                    "communeInseeCode".into(),
                    r.pick(&COMMUNES).to_string().into(),
                );
            }
            if r.chance(30) {
                m.insert(
                    "precisionLabel".into(),
                    r.pick(&PRECISION_LABELS).to_string().into(),
                );
            }
            if r.chance(4) {
                m.insert("confidential".into(), true.into());
            }
            if r.chance(10) {
                m.insert("nb_photos".into(), r.range(1, 12).into());
            }
            if r.chance(8) {
                // backslashes and quotes inside a JSON value: `\\` / `\"` in JSON, each backslash
                // doubled again in the file
                m.insert(
                    "remarque".into(),
                    format!("dossier C:\\photos\\{} \"lot A\"", 1990 + r.below(30)).into(),
                );
            }
            if m.is_empty() && r.chance(90) {
                m.insert(
                    "communeInseeCode".into(),
                    r.pick(&COMMUNES).to_string().into(),
                );
            }
            if weather_in_json {
                // same name as the extra column: the JSON value wins
                m.insert("x_weather".into(), "valeur du JSON".into());
            }
            let json = serde_json::Value::Object(m).to_string();
            row.set(c::ADDITIONAL_DATA, &escape_backslashes(&json));
        }
    }

    // --- meta
    let create_day = r.range(DAY_META_LO.max(t1.div_euclid(86_400)), DAY_MAX_META);
    let create = create_day * 86_400 + r.range(0, 86_399);
    let create_style = if r.chance(60) {
        Stamp::Micros(r.below(1_000_000) as u32)
    } else {
        Stamp::Seconds
    };
    row.stamp(c::META_CREATE_DATE, create, create_style);
    if r.chance(30) {
        row.null(c::META_UPDATE_DATE);
    } else {
        let upd = (create + r.range(1, 200 * 86_400)).min(DAY_MAX_META * 86_400 + 86_399);
        let upd_style = if r.chance(60) {
            Stamp::Micros(r.below(1_000_000) as u32)
        } else {
            Stamp::Seconds
        };
        row.stamp(c::META_UPDATE_DATE, upd.max(create + 1), upd_style);
    }
    row.set(c::META_LAST_ACTION, "I");

    facts
}

/// The decoded values of a generated row, keyed by column name.
pub fn row_values(row: &RowBuf) -> BTreeMap<String, Option<String>> {
    ALL_COLUMNS
        .iter()
        .zip(&row.f)
        .map(|(name, raw)| (name.to_string(), decode_field(name, raw)))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Entity files
// ---------------------------------------------------------------------------------------------

fn meta_stamp(seed_item: &mut Rng, micros: bool) -> String {
    let mut s = String::new();
    let day = seed_item.range(DAY_META_LO, DAY_HI - 400);
    let secs = seed_item.range(0, 86_399);
    let style = if micros {
        Stamp::Micros(seed_item.below(1_000_000) as u32)
    } else {
        Stamp::Seconds
    };
    push_stamp(&mut s, day, secs, style);
    s
}

/// `(meta_create_date, meta_update_date)` of an entity row; update after create or NULL.
fn meta_pair(r: &mut Rng, k: usize) -> (String, String) {
    let create = meta_stamp(r, k % 3 != 2);
    let update = if k % 4 == 1 {
        "\\N".to_string()
    } else {
        // a later day in the same style
        let mut s = String::new();
        let day = days_from_civil(2020, 6, 1) + r.range(0, 60);
        push_stamp(
            &mut s,
            day,
            r.range(0, 86_399),
            Stamp::Micros(r.below(1_000_000) as u32),
        );
        s
    };
    (create, update)
}

const NULL: &str = "\\N";

fn n(s: &str) -> String {
    s.to_string()
}

fn source_rows(ctx: &Ctx<'_>) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec![
        "name",
        "desc",
        "entity_source_pk_field",
        "url",
        "additional_data",
        "meta_create_date",
        "meta_update_date",
        "meta_last_action",
    ];
    let json = serde_json::json!({"generator": "sinp-bench", "seed": ctx.opts.seed}).to_string();
    let rows = vec![vec![
        n(SYNTHETIC_SOURCE_NAME),
        format!(
            "Observations synthétiques générées par sinp-bench (graine {}).\\nCe ne sont pas des données réelles.",
            ctx.opts.seed
        ),
        n("obs.id_observation"),
        n("https://sinp-bench.invalid/source"),
        escape_backslashes(&json),
        n("2019-03-07 12:09:14.451907"),
        n("2020-08-25 18:00:00"),
        n("I"),
    ]];
    (header, rows)
}

fn organism_rows(ctx: &Ctx<'_>) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec![
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
        "meta_create_date",
        "meta_update_date",
        "meta_last_action",
    ];
    let rows = (0..ctx.opts.organisms)
        .map(|k| {
            let mut r = Rng::for_item(ctx.opts.seed, 0x004F_5247, k as u64);
            let o = &ORGS[k % ORGS.len()];
            let name = if k < ORGS.len() {
                o.name.to_string()
            } else {
                format!("{} — antenne {}", o.name, k / ORGS.len() + 1)
            };
            let json = serde_json::json!({"acronym": o.short, "rang": k}).to_string();
            let (cr, up) = meta_pair(&mut r, k);
            vec![
                ctx.org_uuids[k].clone(),
                name,
                n(o.address),
                n(o.postal_code),
                n(o.city),
                n(o.phone),
                n(o.fax.unwrap_or(NULL)),
                format!("contact@{}", o.domain),
                format!("https://{}/", o.domain),
                format!("https://{}/logo.png", o.domain),
                if k % 3 == 2 {
                    n(NULL)
                } else {
                    escape_backslashes(&json)
                },
                cr,
                up,
                n("I"),
            ]
        })
        .collect();
    (header, rows)
}

fn user_rows(ctx: &Ctx<'_>) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec![
        "unique_id",
        "identifier",
        "firstname",
        "name",
        "email",
        "code_organism",
        "comment",
        "enable",
        "additional_data",
        "meta_create_date",
        "meta_update_date",
        "meta_last_action",
    ];
    let rows = ctx
        .users
        .iter()
        .enumerate()
        .map(|(k, u)| {
            let mut r = Rng::for_item(ctx.opts.seed, 0x0055_5352, k as u64);
            let (cr, up) = meta_pair(&mut r, k);
            let comment = match k % 3 {
                0 => n("Compte importé depuis la base d'origine\\nle 2020-02-12"),
                1 => n("Observateur \"bénévole\""),
                _ => n(NULL),
            };
            let json =
                serde_json::json!({"telephone": format!("06 12 34 56 {:02}", k % 100)}).to_string();
            vec![
                u.uuid.clone(),
                u.identifier.clone(),
                n(u.first),
                n(LAST[u.last].1),
                u.email.clone(),
                u.org.map_or(n(NULL), |o| ctx.org_uuids[o].clone()),
                comment,
                n(ENABLE_SPELLINGS[k % ENABLE_SPELLINGS.len()]),
                if k % 2 == 0 {
                    escape_backslashes(&json)
                } else {
                    n(NULL)
                },
                cr,
                up,
                n("I"),
            ]
        })
        .collect();
    (header, rows)
}

const AF_NAMES: [&str; 4] = [
    "Inventaire des zones humides des Hautes-Alpes",
    "Suivi des oiseaux d'eau hivernants",
    "Atlas des oiseaux nicheurs de PACA",
    "Observations opportunistes du réseau",
];

fn af_rows(ctx: &Ctx<'_>) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec![
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
        "meta_create_date",
        "meta_update_date",
        "meta_last_action",
    ];
    let a = ctx.n_afs;
    let rows = (0..a)
        .map(|k| {
            let mut r = Rng::for_item(ctx.opts.seed, 0x4146, k as u64);
            let is_meta = a >= 2 && k == a - 1;
            let name = if is_meta {
                "Programme régional SINP PACA (méta-cadre)".to_string()
            } else if k < AF_NAMES.len() {
                AF_NAMES[k].to_string()
            } else {
                format!("{} n°{}", AF_NAMES[k % AF_NAMES.len()], k + 1)
            };
            let desc = match k {
                0 => n("Cadre d'acquisition de test.\nDeuxième ligne de la description."),
                1 => n("Description avec échappements :\\tTAB\\net saut de ligne"),
                _ => format!("Cadre d'acquisition synthétique n°{}", k + 1),
            };
            let parent = ctx.af_parent(k);
            let has_children = (0..a).any(|j| ctx.af_parent(j) == Some(k));
            let pick = |r: &mut Rng, ty: &str| r.pick(codes(ty)).to_string();
            let orgs = if ctx.org_uuids.is_empty() {
                n(NULL)
            } else {
                let o1 = &ctx.org_uuids[k % ctx.org_uuids.len()];
                if k == 1 {
                    // the JSON spelling of an array of arrays
                    let o2 = &ctx.org_uuids[(k + 1) % ctx.org_uuids.len()];
                    format!("[[\"{o1}\",\"1\"],[\"{o2}\",\"5\"]]")
                } else {
                    format!("{{{{\"{o1}\",\"1\"}}}}")
                }
            };
            let users = if ctx.users.is_empty() {
                n(NULL)
            } else {
                let u = &ctx.users[k % ctx.users.len()];
                match k % 3 {
                    0 => format!("{{{{\"{}\",\"2\"}}}}", u.identifier), // by identifier
                    1 => format!("{{{{\"{}\",\"2\"}}}}", u.uuid),       // by uuid
                    _ => n(NULL),
                }
            };
            let publications = if k % 2 == 0 {
                let p = serde_json::json!([{
                    "reference": format!("Dupont J. ({}). \"Bilan du cadre n°{}\". Gap : CBNA, 42 p.", 2015 + k % 5, k + 1),
                    "url": format!("https://publications.sinp-bench.invalid/{k}.pdf"),
                    "uuid": ctx.uuid("publication", k).to_string(),
                }]);
                escape_backslashes(&p.to_string())
            } else {
                n(NULL)
            };
            let (cr, up) = meta_pair(&mut r, k);
            vec![
                ctx.af_uuids[k].clone(),
                name,
                desc,
                pick(&mut r, "NIVEAU_TERRITORIAL"),
                n("Hautes-Alpes (05), bassin de la Durance"),
                n("oiseaux, zones humides, suivi"),
                pick(&mut r, "TYPE_FINANCEMENT"),
                n("Aves"),
                n("3283;3297;3274"),
                parent.map_or(n(NULL), |p| ctx.af_uuids[p].clone()),
                n(if has_children || is_meta {
                    "true"
                } else {
                    "false"
                }),
                format!("{}-01-01", 2005 + k % 10),
                if k % 2 == 0 {
                    n(NULL)
                } else {
                    format!("{}-12-31", 2019 + k % 2)
                },
                n(if k % 2 == 0 { "{\"8\",\"9\"}" } else { "{\"10\"}" }),
                n("{\"1\"}"),
                orgs,
                users,
                publications,
                if k % 2 == 1 {
                    escape_backslashes(&serde_json::json!({"code_interne": format!("CA-{k:03}")}).to_string())
                } else {
                    n(NULL)
                },
                cr,
                up,
                n("I"),
            ]
        })
        .collect();
    (header, rows)
}

fn dataset_rows(ctx: &Ctx<'_>) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec![
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
        "meta_create_date",
        "meta_update_date",
        "meta_last_action",
    ];
    let rows = (0..ctx.n_datasets)
        .map(|d| {
            let mut r = Rng::for_item(ctx.opts.seed, 0x4453, d as u64);
            let pick = |r: &mut Rng, ty: &str| r.pick(codes(ty)).to_string();
            let (cr, up) = meta_pair(&mut r, d);
            let orgs = if ctx.org_uuids.is_empty() {
                n(NULL)
            } else {
                format!(
                    "{{{{\"{}\",\"5\"}},{{\"{}\",\"6\"}}}}",
                    ctx.org_uuids[d % ctx.org_uuids.len()],
                    ctx.org_uuids[(d + 1) % ctx.org_uuids.len()]
                )
            };
            let users = if ctx.users.is_empty() || d % 2 == 1 {
                n(NULL)
            } else {
                format!(
                    "{{{{\"{}\",\"1\"}}}}",
                    ctx.users[d % ctx.users.len()].identifier
                )
            };
            vec![
                ctx.dataset_uuids[d].clone(),
                ctx.af_uuids[ctx.af_of_dataset(d)].clone(),
                format!("Observations faune des Hautes-Alpes — lot {}", d + 1),
                format!("SB_FAUNE_{:03}", d + 1),
                if d == 0 {
                    n("Jeu de données synthétique.\\nDonnées générées, \"non réelles\".")
                } else {
                    format!("Jeu de données synthétique n°{}", d + 1)
                },
                // NULL on the first dataset: the default (1) applies
                if d == 0 {
                    n(NULL)
                } else {
                    pick(&mut r, "DATA_TYP")
                },
                n("faune, oiseaux"),
                n(["false", "f", "non"][d % 3]),
                n(["true", "t", "oui"][d % 3]),
                if d % 3 == 2 {
                    n(NULL)
                } else {
                    pick(&mut r, "JDD_OBJECTIFS")
                },
                n("6.0"),
                n("6.7"),
                n("44.5"),
                n(if d % 2 == 0 { "44.95" } else { "4.495e1" }),
                pick(&mut r, "METHO_RECUEIL"),
                pick(&mut r, "DS_PUBLIQUE"),
                pick(&mut r, "STATUT_SOURCE"),
                pick(&mut r, "RESOURCE_TYP"),
                n("{{\"METROP\",\"\"}}"),
                orgs,
                users,
                if d % 2 == 0 {
                    escape_backslashes(&serde_json::json!({"protocole": "libre"}).to_string())
                } else {
                    n(NULL)
                },
                cr,
                up,
                n("I"),
            ]
        })
        .collect();
    (header, rows)
}

fn meta_ini(opts: &SynthOptions) -> String {
    format!(
        "# Archive SINP synthétique générée par sinp-bench — format 1.0\n\
         format_version = 1.0\n\
         export_date = {}\n\
         \x20 taxref_version   =   16  \n\
         habref_version=7\n\
         editor = sinp-bench\n\
         contact = BENCH Sinp <sinp-bench@example.org>\n\
         # notes: a multi-line value in double quotes, continuation lines indented\n\
         notes = \"Données synthétiques (graine {}, {} observations).\n    Ne pas diffuser : ce ne sont pas des observations réelles.\"\n",
        opts.export_date, opts.seed, opts.rows
    )
}

fn meta_additional_data_rows() -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec!["resource", "name", "desc", "keyword", "type", "unity"];
    let rows = vec![
        vec![
            n("synthese"),
            n("x_station_code"),
            n("Code de la station de suivi"),
            n("station"),
            n("QUAL"),
            n(NULL),
        ],
        vec![
            n("synthese"),
            n("x_weather"),
            n("Météo lors de l'observation"),
            n("météo"),
            n("QUAL"),
            n(NULL),
        ],
    ];
    (header, rows)
}

/// A `Write` that cuts the csv output into fixed-size chunks and hands each to `deliver`, which
/// returns an empty buffer to go on with. The chunk boundaries depend on the data only, so the
/// deflated bytes are the same whether chunks are compressed here or on another thread.
struct ChunkSink<F: FnMut(Vec<u8>) -> io::Result<Vec<u8>>> {
    buf: Vec<u8>,
    deliver: F,
}

const CHUNK: usize = 1 << 20;

impl<F: FnMut(Vec<u8>) -> io::Result<Vec<u8>>> ChunkSink<F> {
    fn new(deliver: F) -> Self {
        ChunkSink {
            buf: Vec::with_capacity(CHUNK),
            deliver,
        }
    }

    fn finish(mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let full = std::mem::take(&mut self.buf);
            (self.deliver)(full)?;
        }
        Ok(())
    }
}

impl<F: FnMut(Vec<u8>) -> io::Result<Vec<u8>>> Write for ChunkSink<F> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            let full = std::mem::take(&mut self.buf);
            self.buf = (self.deliver)(full)?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Generates and csv-encodes every synthese row into `sink`; returns the counters.
fn write_synthese_rows<F: FnMut(Vec<u8>) -> io::Result<Vec<u8>>>(
    ctx: &Ctx<'_>,
    sink: ChunkSink<F>,
) -> io::Result<Manifest> {
    let mut m = Manifest::default();
    let mut w = tsv_writer(sink);
    w.write_record(ctx.order.iter().map(|&k| ALL_COLUMNS[k]))?;
    let mut row = RowBuf::new();
    for i in 0..ctx.opts.rows {
        let facts = gen_row(ctx, i, &mut row);
        // the line numbers of synthese_line assume exactly literal_lfs(i) line feeds
        let lfs: usize = row
            .f
            .iter()
            .map(|s| s.bytes().filter(|&b| b == b'\n').count())
            .sum();
        assert_eq!(
            lfs,
            literal_lfs(i),
            "row {i}: line feeds differ from literal_lfs"
        );
        w.write_record(ctx.order.iter().map(|&k| row.f[k].as_bytes()))?;
        match facts.geom {
            Some(GeomSpelling::Ewkt) => m.ewkt_rows += 1,
            Some(GeomSpelling::Ewkb) => m.ewkb_rows += 1,
            Some(GeomSpelling::BareWkt) => m.bare_wkt_rows += 1,
            None => {}
        }
        m.area_only_rows += facts.area_only as usize;
        m.observer_links += facts.observer_links;
    }
    let sink = w.into_inner().map_err(|e| e.into_error())?;
    sink.finish()?;
    Ok(m)
}

/// From this many rows on, rows are generated on a second thread while the calling thread
/// deflates (the two halves cost about the same). Smaller archives (those the in-database tests
/// build) stay on the calling thread.
pub const THREADED_MIN_ROWS: usize = 50_000;

/// synthese.csv on the calling thread.
fn synthese_here<Z: Write>(ctx: &Ctx<'_>, zip: &mut Z) -> io::Result<Manifest> {
    let sink = ChunkSink::new(|mut full: Vec<u8>| {
        zip.write_all(&full)?;
        full.clear();
        Ok(full)
    });
    write_synthese_rows(ctx, sink)
}

/// synthese.csv generated on a second thread, deflated on this one.
fn synthese_threaded<Z: Write>(ctx: &Ctx<'_>, zip: &mut Z) -> io::Result<Manifest> {
    use std::sync::mpsc;
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(4);
    let (recycle_tx, recycle_rx) = mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || {
            let sink = ChunkSink::new(move |full: Vec<u8>| {
                tx.send(full).map_err(|_| {
                    io::Error::new(io::ErrorKind::BrokenPipe, "archive writer stopped")
                })?;
                Ok(recycle_rx
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(CHUNK)))
            });
            write_synthese_rows(ctx, sink)
        });
        let mut written: io::Result<()> = Ok(());
        for mut chunk in rx.iter() {
            written = zip.write_all(&chunk);
            if written.is_err() {
                break; // dropping rx makes the producer stop
            }
            chunk.clear();
            let _ = recycle_tx.send(chunk);
        }
        drop(rx);
        let produced = match producer.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        written?;
        produced
    })
}

/// The members of the archive between meta_archive.ini and synthese.csv: the five entity files
/// and meta_additional_data.csv (also written by the differential archives of `crate::diff`).
/// Returns the rows per entity file.
pub(crate) fn write_metadata_members<W: Write + Seek>(
    ctx: &Ctx<'_>,
    zip: &mut zip::ZipWriter<W>,
    options: zip::write::SimpleFileOptions,
) -> io::Result<Vec<(&'static str, usize)>> {
    let mut counts: Vec<(&'static str, usize)> = Vec::with_capacity(6);
    type Entity<'c> = fn(&Ctx<'c>) -> (Vec<&'static str>, Vec<Vec<String>>);
    let entities: [(&'static str, Entity<'_>); 5] = [
        ("source", source_rows),
        ("organism", organism_rows),
        ("user", user_rows),
        ("acquisition_framework", af_rows),
        ("dataset", dataset_rows),
    ];
    for (name, f) in entities {
        let (header, rows) = f(ctx);
        zip.start_file(format!("{name}.csv"), options)?;
        write_tsv(&mut *zip, &header, &rows)?;
        counts.push((name, rows.len()));
    }
    let (header, rows) = meta_additional_data_rows();
    zip.start_file("meta_additional_data.csv", options)?;
    write_tsv(&mut *zip, &header, &rows)?;
    Ok(counts)
}

/// Writes the whole synthetic archive.
pub fn write_archive<W: Write + Seek>(opts: &SynthOptions, out: W) -> io::Result<Manifest> {
    write_archive_with(opts, out, opts.rows >= THREADED_MIN_ROWS)
}

/// [`write_archive`], choosing whether synthese rows are generated on a second thread (the
/// bytes are the same either way).
pub fn write_archive_with<W: Write + Seek>(
    opts: &SynthOptions,
    out: W,
    threaded: bool,
) -> io::Result<Manifest> {
    let ctx = Ctx::new(opts);
    let stamp = zip_stamp(&opts.export_date);
    let small = zip_options(6, false, stamp);
    // fast deflate for the big member; zip64 when it could pass 4 GiB
    let big = zip_options(1, opts.rows >= 2_000_000, stamp);
    let mut zip = zip::ZipWriter::new(out);

    zip.start_file("meta_archive.ini", small)?;
    zip.write_all(meta_ini(opts).as_bytes())?;

    let mut counts = write_metadata_members(&ctx, &mut zip, small)?;

    zip.start_file("synthese.csv", big)?;
    let mut m = if threaded {
        synthese_threaded(&ctx, &mut zip)?
    } else {
        synthese_here(&ctx, &mut zip)?
    };
    counts.push(("synthese", opts.rows));
    m.counts = counts;
    zip.finish()?;
    Ok(m)
}
