//! What every fuzz target checks of the problems it gets.

use sinp_core::error::Problem;

/// What the journal stores must be text PostgreSQL can hold (no U+0000).
pub fn assert_journalable(p: &Problem) {
    for text in [
        Some(p.file.as_str()),
        p.column.as_deref(),
        Some(p.message.as_str()),
        p.value.as_deref(),
        p.raw_record.as_deref(),
    ]
    .into_iter()
    .flatten()
    {
        assert!(!text.contains('\0'), "a problem with U+0000: {p:?}");
    }
}
