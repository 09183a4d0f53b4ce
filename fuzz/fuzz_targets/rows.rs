//! The bytes as an entity file (the first byte picks which of the six, or the description of
//! additional fields), read as the loader reads one: the header mapped to the entity's fields,
//! then every record converted to its staging row (every value parsed, codes and links resolved
//! against a few known ones). Problems are fine; a panic, a hang or unbounded memory is a bug, and
//! so is a staging row COPY would refuse or a problem the journal cannot store (U+0000).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sinp_core::spec::{staging::StagingLayout, ENTITIES};
use sinp_core::tsv::TsvReader;
use sinp_core::validate::additional_fields::parse_additional_fields;
use sinp_core::validate::resolve::Resolver;
use sinp_core::validate::row::{HeaderPlan, RowConverter};
use sinp_core::validate::DateTime;
use sinp_core_fuzz::assert_journalable;

fn resolver() -> Resolver {
    let mut r = Resolver::default();
    r.sources.by_name.insert("SRC".into(), 3);
    r.datasets.by_name.insert("DFCP".into(), 9);
    r.organisms.by_name.insert("CEN PACA".into(), 5);
    r.nomenclatures
        .entry("SEXE".into())
        .or_default()
        .insert("2".into(), 42);
    r.synthese_defaults.insert("STATUT_OBS".into(), 77);
    r
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Some(&entity) = ENTITIES.get(selector as usize % (ENTITIES.len() + 1)) else {
        let (fields, problems) = parse_additional_fields("meta_additional_data.csv", rest);
        problems.iter().for_each(assert_journalable);
        for f in &fields {
            let texts = [
                Some(&f.resource),
                Some(&f.name),
                f.description.as_ref(),
                f.keyword.as_ref(),
            ];
            assert!(
                texts.into_iter().flatten().all(|t| !t.contains('\0')),
                "{f:?}"
            );
        }
        return;
    };
    let mut reader = match TsvReader::new(entity.file, rest) {
        Ok(reader) => reader,
        Err(problem) => return assert_journalable(&problem),
    };
    let (plan, mut problems) = HeaderPlan::new(entity, reader.header(), None);
    problems.iter().for_each(assert_journalable);
    if HeaderPlan::has_errors(&problems) {
        // The loader reads no record of a file whose header is refused.
        return;
    }
    let layout = StagingLayout::for_entity(entity);
    let resolver = resolver();
    let mut converter = RowConverter::new(
        entity,
        &layout,
        &plan,
        &resolver,
        DateTime::date(2026, 1, 1),
    );
    if selector & 0x80 != 0 {
        // A validation stages only a few columns (here the key's), and checks all the others.
        converter.stage_only(&layout.columns_read_by(&[entity.key_column()], &[]));
    }
    let mut out = Vec::new();
    loop {
        match reader.next_record() {
            Ok(true) => {}
            Ok(false) => break,
            Err(problem) => return assert_journalable(&problem),
        }
        let first = problems.len();
        match converter.convert(&reader, &mut problems) {
            Some(_) => {
                out.clear();
                converter.write_row(&mut out);
                // COPY refuses a row that is not UTF-8 or holds a NUL byte.
                let row = std::str::from_utf8(&out).expect("a staging row is UTF-8");
                assert!(!row.contains('\0'), "a staging row with U+0000: {row:?}");
            }
            None => {
                let _ = converter.keys_of(&reader);
            }
        }
        problems[first..].iter().for_each(assert_journalable);
        if problems.len() > 10_000 {
            problems.clear();
        }
    }
});
