//! Active `cd_nomenclature` codes per nomenclature type, copied from
//! `data/nomenclatures/nomenclatures.tsv` (SINP reference lists). Only the types the
//! generator writes are listed; a unit test checks them against the TSV of the project.

/// (type mnemonic, active codes in file order)
pub const CODES: &[(&str, &[&str])] = &[
    ("NAT_OBJ_GEO", &["In", "NSP", "St"]),
    (
        "TYP_GRP",
        &[
            "AUTR", "CAMP", "INVSTA", "LIEN", "NSP", "OBS", "OP", "PASS", "POINT", "REL", "STRAT",
        ],
    ),
    (
        "METH_OBS",
        &[
            "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
            "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27",
        ],
    ),
    ("STATUT_BIO", &["0", "1", "2", "3", "4", "5", "9", "13"]),
    ("ETA_BIO", &["0", "1", "2", "3"]),
    ("NATURALITE", &["0", "1", "2", "3", "4", "5"]),
    ("PREUVE_EXIST", &["0", "1", "2", "3"]),
    ("STATUT_VALID", &["1", "2", "3", "4", "5", "6", "0"]),
    ("NIV_PRECIS", &["0", "1", "2", "3", "4", "5"]),
    (
        "STADE_VIE",
        &[
            "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
            "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27",
        ],
    ),
    ("SEXE", &["0", "1", "2", "3", "4", "5", "6"]),
    (
        "OBJ_DENBR",
        &[
            "NSP", "IND", "CPL", "COL", "NID", "PON", "HAM", "TIGE", "TOUF", "SURF",
        ],
    ),
    ("TYP_DENBR", &["Ca", "Co", "Es", "NSP"]),
    ("SENSIBILITE", &["0", "1", "2", "3", "4"]),
    ("STATUT_OBS", &["No", "Pr", "NSP"]),
    ("DEE_FLOU", &["NON", "OUI", "NSP"]),
    ("STATUT_SOURCE", &["Co", "Li", "NSP", "Te"]),
    ("TYP_INF_GEO", &["1", "2"]),
    (
        "OCC_COMPORTEMENT",
        &[
            "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
            "16", "17", "18", "19", "20", "21", "22", "23",
        ],
    ),
    ("STAT_BIOGEO", &["0", "1", "2", "3", "4", "5", "6"]),
    (
        "METH_DETERMIN",
        &[
            "3", "4", "5", "6", "7", "8", "9", "10", "11", "2", "1", "12", "13", "14", "15", "16",
            "17", "18", "19", "20", "21", "22",
        ],
    ),
    ("DATA_TYP", &["1", "2", "3", "4", "5"]),
    (
        "JDD_OBJECTIFS",
        &[
            "1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.2", "2.3", "2.4", "2.5", "3.1", "3.2",
            "3.3", "3.4", "3.5", "3.6", "3.7", "4.1", "4.2", "5.1", "5.2", "5.3", "5.4", "5.5",
            "6.1", "6.2", "6.3", "6.4", "7.1", "7.2",
        ],
    ),
    (
        "METHO_RECUEIL",
        &[
            "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
        ],
    ),
    ("DS_PUBLIQUE", &["NSP", "Pr", "Pu"]),
    ("RESOURCE_TYP", &["1", "2"]),
    ("NIVEAU_TERRITORIAL", &["1", "2", "3", "4", "5", "6", "7"]),
    ("TYPE_FINANCEMENT", &["1", "2", "3", "4"]),
    ("CA_OBJECTIFS", &["8", "9", "10", "11"]),
    ("VOLET_SINP", &["1", "2", "3"]),
    ("ROLE_ACTEUR", &["1", "2", "3", "4", "5", "6", "7", "8"]),
    (
        "TERRITOIRE",
        &[
            "METROP", "GUF", "MTQ", "GLP", "MAF", "BLM", "SPM", "MYT", "REU", "NCL", "WLF", "PYF",
            "CLI", "EPA", "SUBANT", "TADL", "HORSFR",
        ],
    ),
];
