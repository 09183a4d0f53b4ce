//! From a TSV record to a staging row: every field parsed, checked and resolved as its field table
//! says, problems collected with file, line, column and raw record. The staging row is written in
//! PostgreSQL's COPY text format. No allocation per field once the buffers have grown.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::Read;

use serde_json::{Map, Value};

use super::geometry::check_geometry;
use super::resolve::Resolver;
use super::{
    check_length, error_code, observer_uuids, parse_action, parse_bool, parse_date, parse_datetime,
    parse_int, parse_json_array, parse_json_object, parse_real, parse_text_array,
    parse_text_array2, parse_uuid, synthese_uuid, DateTime, ValueError,
};
use crate::error::Problem;
use crate::spec::staging::{escape_copy_text, StagingLayout, ACTION_SLOT, LINE_SLOT};
use crate::spec::{Check, Entity, FieldType, LinkRows, Required, Role};
use crate::tsv::{decode_field, field_count_mismatch, TsvReader};

/// How the columns of a file's header map to the entity's fields.
#[derive(Debug, Clone)]
pub struct HeaderPlan {
    /// Column names as written in the file.
    pub header: Vec<String>,
    /// For each field of the entity, its position in the header.
    pub field_position: Vec<Option<usize>>,
    /// Header columns that are not format fields: (position, name), merged into additional_data.
    pub extras: Vec<(usize, String)>,
    /// Fields whose target column does not exist in this database: kept as extras.
    pub demoted: Vec<bool>,
}

/// Columns a file's header may have: every format field and many extra columns, far fewer than a
/// hostile header's million.
pub const MAX_HEADER_COLUMNS: usize = 10_000;

impl HeaderPlan {
    /// Maps the header; `target_columns` are the target table's real columns (None: trust the spec).
    pub fn new(
        entity: &Entity,
        header: &[String],
        target_columns: Option<&HashSet<String>>,
    ) -> (HeaderPlan, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut field_position = vec![None; entity.fields.len()];
        let mut extras = Vec::new();
        if header.len() > MAX_HEADER_COLUMNS {
            // A hostile header (a million columns) is refused before any per-column work.
            problems.push(
                Problem::error(
                    entity.file,
                    "TOO_MANY_COLUMNS",
                    format!(
                        "the header has {} columns; at most {MAX_HEADER_COLUMNS} are read",
                        header.len()
                    ),
                )
                .at_line(1),
            );
            let plan = HeaderPlan {
                header: Vec::new(),
                field_position,
                extras,
                demoted: vec![false; entity.fields.len()],
            };
            return (plan, problems);
        }
        // A set: finding the duplicates costs one pass, whatever the header's width.
        let mut seen: HashSet<&str> = HashSet::with_capacity(header.len());
        for (position, name) in header.iter().enumerate() {
            let canonical = entity.canonical_name(name);
            if seen.contains(&canonical) {
                problems.push(
                    Problem::error(
                        entity.file,
                        "HEADER_SAME_COLUMN_NAME",
                        format!("column \"{canonical}\" appears more than once in the header"),
                    )
                    .at_line(1)
                    .in_column(name),
                );
                continue;
            }
            seen.insert(canonical);
            match entity.fields.iter().position(|f| f.name == canonical) {
                Some(i) => field_position[i] = Some(position),
                None => extras.push((position, name.clone())),
            }
        }
        for (field, position) in entity.fields.iter().zip(&field_position) {
            let required_column = field.required != Required::No;
            if required_column && position.is_none() {
                problems.push(
                    Problem::error(
                        entity.file,
                        "MISSING_COLUMN",
                        format!(
                            "required column \"{}\" is missing from the header",
                            field.name
                        ),
                    )
                    .at_line(1)
                    .in_column(field.name),
                );
            }
        }
        let demoted = entity
            .fields
            .iter()
            .zip(&field_position)
            .map(|(field, position)| {
                let missing = match (target_columns, field.target_column()) {
                    (Some(columns), Some(column)) => !columns.contains(column),
                    _ => false,
                };
                if missing && position.is_some() {
                    let column = field.target_column().unwrap_or_default();
                    let kept = match (entity.additional_data_column(), target_columns) {
                        (Some(extra), Some(columns)) if extra != column && columns.contains(extra) => {
                            format!("its values are kept in {extra}")
                        }
                        _ => "its values are not stored (the table has no column for additional data)".to_string(),
                    };
                    problems.push(
                        Problem::warning(
                            entity.file,
                            "TARGET_COLUMN_MISSING",
                            format!(
                                "this database has no column {column} for field \"{}\"; {kept}",
                                field.name
                            ),
                        )
                        .at_line(1)
                        .in_column(field.name),
                    );
                }
                missing
            })
            .collect();
        (
            HeaderPlan {
                header: header.to_vec(),
                field_position,
                extras,
                demoted,
            },
            problems,
        )
    }

    pub fn has_errors(problems: &[Problem]) -> bool {
        problems.iter().any(Problem::is_error)
    }
}

/// One staging row being built: each cell's COPY text in a shared arena.
#[derive(Default)]
struct RowBuffer {
    arena: String,
    cells: Vec<Option<(usize, usize)>>,
    /// The slots staged (empty: all); the others are checked but not written.
    staged: Vec<bool>,
}

impl RowBuffer {
    fn reset(&mut self, width: usize) {
        self.arena.clear();
        self.cells.clear();
        self.cells.resize(width, None);
    }

    fn is_staged(&self, slot: usize) -> bool {
        self.staged.is_empty() || self.staged[slot]
    }

    /// A text value, escaped for COPY's text format.
    fn text(&mut self, slot: usize, value: &str) {
        if !self.is_staged(slot) {
            return;
        }
        let start = self.arena.len();
        escape_copy_text(value, &mut self.arena);
        self.cells[slot] = Some((start, self.arena.len()));
    }

    /// A value whose text form needs no escaping (numbers, UUIDs, dates, booleans).
    fn plain(&mut self, slot: usize, value: impl std::fmt::Display) {
        if !self.is_staged(slot) {
            return;
        }
        let start = self.arena.len();
        let _ = write!(self.arena, "{value}");
        self.cells[slot] = Some((start, self.arena.len()));
    }

    fn write_to(&self, out: &mut Vec<u8>) {
        let mut first = true;
        for (i, cell) in self.cells.iter().enumerate() {
            if !self.is_staged(i) {
                continue;
            }
            if !first {
                out.push(b'\t');
            }
            first = false;
            match cell {
                Some((a, b)) => out.extend_from_slice(&self.arena.as_bytes()[*a..*b]),
                None => out.extend_from_slice(b"\\N"),
            }
        }
        out.push(b'\n');
    }
}

/// A parsed value kept for the cross-field checks.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
enum Ordered {
    Number(f64),
    Time(DateTime),
}

/// Converts the records of one file into staging rows.
pub struct RowConverter<'a> {
    entity: &'static Entity,
    layout: &'a StagingLayout,
    plan: &'a HeaderPlan,
    resolver: &'a Resolver,
    /// The load's `now()`, for empty meta dates, as COPY text.
    now_text: String,
    now: DateTime,
    /// A row version (meta_update_date) later than this is suspect: a day of slack for clocks
    /// and time zones.
    latest_plausible_version: DateTime,
    /// The field of the row's version (Role::UpdateDate).
    version_field: Option<usize>,
    row: RowBuffer,
    ordered: Vec<Option<Ordered>>,
    present: Vec<bool>,
    /// Extra columns and format fields without a column, for additional_data.
    additional: Map<String, Value>,
    /// The additional_data column's own object.
    json_additional: Option<Map<String, Value>>,
    action_field: usize,
    /// Geometries written without SRID (the local SRID is assumed: one warning per file).
    pub geometries_without_srid: u64,
    /// Geometries with Z or M coordinates (only X and Y are written: one warning per file).
    pub geometries_z_or_m: u64,
}

impl<'a> RowConverter<'a> {
    pub fn new(
        entity: &'static Entity,
        layout: &'a StagingLayout,
        plan: &'a HeaderPlan,
        resolver: &'a Resolver,
        now: DateTime,
    ) -> RowConverter<'a> {
        let action_field = entity
            .fields
            .iter()
            .position(|f| matches!(f.role, Role::Action(_)))
            .expect("every entity has meta_last_action");
        RowConverter {
            entity,
            layout,
            plan,
            resolver,
            now_text: now.to_string(),
            now,
            latest_plausible_version: now.next_day(),
            version_field: entity
                .fields
                .iter()
                .position(|f| matches!(f.role, Role::UpdateDate(_))),
            row: RowBuffer::default(),
            ordered: vec![None; entity.fields.len()],
            present: vec![false; entity.fields.len()],
            additional: Map::new(),
            json_additional: None,
            action_field,
            geometries_without_srid: 0,
            geometries_z_or_m: 0,
        }
    }

    /// Converts the reader's current record. Returns the row's action when the row is valid (its
    /// staging row is then ready for `write_row`); problems are appended with the raw record.
    pub fn convert<R: Read>(
        &mut self,
        record: &TsvReader<R>,
        problems: &mut Vec<Problem>,
    ) -> Option<char> {
        let first_problem = problems.len();
        let action = self.convert_fields(record, problems);
        let valid = !problems[first_problem..].iter().any(Problem::is_error);
        if problems.len() > first_problem {
            let raw = crate::error::bounded(&record.raw_record());
            for p in &mut problems[first_problem..] {
                p.raw_record = Some(raw.clone());
            }
        }
        valid.then_some(action)
    }

    /// The key and legacy key of the current record, as written (for rows set aside).
    pub fn keys_of<R: Read>(&self, record: &TsvReader<R>) -> Vec<String> {
        let legacy = self.entity.linked_as.map(|(_, field)| field);
        self.entity
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| matches!(f.role, Role::Key(_)) || Some(f.name) == legacy)
            .filter_map(|(i, _)| self.plan.field_position[i])
            .filter(|&p| p < record.field_count())
            .filter_map(|p| decode_field(record.raw_field(p)).ok().flatten())
            .map(Cow::into_owned)
            .collect()
    }

    /// Stages only these columns of the layout (a validation): the others are still checked.
    pub fn stage_only(&mut self, columns: &[usize]) {
        self.row.staged = vec![false; self.layout.columns.len()];
        for &i in columns {
            self.row.staged[i] = true;
        }
    }

    pub fn write_row(&self, out: &mut Vec<u8>) {
        self.row.write_to(out);
    }

    fn problem(&self, code: &'static str, message: String, line: u64) -> Problem {
        Problem::error(self.entity.file, code, message).at_line(line)
    }

    fn field_problem(&self, field: usize, line: u64, e: ValueError, value: &str) -> Problem {
        self.problem(e.code, e.message, line)
            .in_column(self.column_label(field))
            .with_value(value)
    }

    /// The column as written in the file's header (or the field name when absent).
    fn column_label(&self, field: usize) -> &str {
        match self.plan.field_position[field] {
            Some(p) => &self.plan.header[p],
            None => self.entity.fields[field].name,
        }
    }

    fn raw_value<'r, R: Read>(
        &self,
        record: &'r TsvReader<R>,
        field: usize,
        problems: &mut Vec<Problem>,
    ) -> Result<Option<Cow<'r, str>>, ()> {
        let Some(position) = self.plan.field_position[field] else {
            return Ok(None);
        };
        match decode_field(record.raw_field(position)) {
            Ok(v) => Ok(v),
            Err(e) => {
                problems.push(
                    self.problem("ENCODING_ERROR", e.message().into(), record.line())
                        .in_column(self.column_label(field)),
                );
                Err(())
            }
        }
    }

    fn convert_fields<R: Read>(
        &mut self,
        record: &TsvReader<R>,
        problems: &mut Vec<Problem>,
    ) -> char {
        let line = record.line();
        let entity = self.entity;
        self.row.reset(self.layout.columns.len());
        self.additional.clear();
        self.json_additional = None;
        self.ordered.iter_mut().for_each(|o| *o = None);
        self.present.iter_mut().for_each(|p| *p = false);

        if let Some((code, message)) =
            field_count_mismatch(record.field_count(), self.plan.header.len())
        {
            problems.push(self.problem(code, message, line));
            return 'I';
        }

        let action = match self.raw_value(record, self.action_field, problems) {
            Ok(Some(text)) => match parse_action(&text) {
                Ok(a) => a,
                Err(e) => {
                    problems.push(self.field_problem(self.action_field, line, e, &text));
                    'I'
                }
            },
            Ok(None) => {
                problems.push(
                    self.problem(
                        "MISSING_VALUE",
                        "meta_last_action is required (I, U or D)".into(),
                        line,
                    )
                    .in_column(self.column_label(self.action_field)),
                );
                'I'
            }
            Err(()) => 'I',
        };
        self.row.plain(LINE_SLOT, line);
        self.row.plain(ACTION_SLOT, action);

        for (position, name) in &self.plan.extras {
            // A NULL adds no key; an extra column is kept as the text given in the file.
            match decode_field(record.raw_field(*position)) {
                Ok(Some(v)) => {
                    self.additional
                        .insert(name.clone(), Value::String(v.into_owned()));
                }
                Ok(None) => {}
                Err(e) => problems.push(
                    self.problem("ENCODING_ERROR", e.message().into(), line)
                        .in_column(name),
                ),
            }
        }

        for (i, field) in entity.fields.iter().enumerate() {
            if matches!(field.role, Role::Action(_)) {
                continue;
            }
            let Ok(raw) = self.raw_value(record, i, problems) else {
                continue;
            };
            // An empty field is NULL for every type but text; meta dates take the load's now().
            let is_text = matches!(field.ty, FieldType::Text | FieldType::Varchar(_));
            let empty = raw.as_deref() == Some("");
            let in_file = self.plan.field_position[i].is_some();
            let value = match (if empty && !is_text { None } else { raw }, field.default) {
                // A NULL of a field that has a default is that default (a D row stores nothing).
                (None, Some(default)) if in_file && action != 'D' => Some(Cow::Borrowed(default)),
                (value, _) => value,
            };
            self.present[i] = value.is_some();

            if self.plan.demoted[i] || field.role == Role::Extra {
                if let Some(v) = value {
                    let name = self.column_label(i).to_string();
                    self.additional.insert(name, Value::String(v.into_owned()));
                }
                continue;
            }
            let slots = self.layout.slots[i];
            let slot = slots.primary.expect("stored fields have a slot");

            let Some(text) = value else {
                if empty && matches!(field.role, Role::CreateDate(_) | Role::UpdateDate(_)) {
                    let now = self.now_text.clone();
                    self.row.plain(slot, now);
                    continue;
                }
                if field.required != Required::No && action != 'D' {
                    problems.push(
                        self.problem("MISSING_VALUE", format!("{} is required", field.name), line)
                            .in_column(self.column_label(i)),
                    );
                }
                if let Role::Nomenclature {
                    nomenclature_type,
                    default,
                    ..
                } = field.role
                {
                    // A default is only written, never checked: nothing to do when not staged.
                    if !self.row.is_staged(slot) {
                        continue;
                    }
                    let synthese = entity.name == "synthese";
                    if let Some(id) =
                        self.resolver
                            .nomenclature_default(nomenclature_type, default, synthese)
                    {
                        self.row.plain(slot, id);
                    }
                }
                continue;
            };

            if let Err(e) = self.convert_value(i, slot, slots.secondary, &text, action) {
                problems.push(self.field_problem(i, line, e, &text));
            }
        }

        self.finish_key(record, line, problems);
        self.finish_additional_data();
        self.run_checks(line, action, problems);
        action
    }

    fn convert_value(
        &mut self,
        field_index: usize,
        slot: usize,
        secondary: Option<usize>,
        text: &str,
        action: char,
    ) -> Result<(), ValueError> {
        let field = &self.entity.fields[field_index];
        // A D row needs only its key: other values are not stored, so not checked.
        if action == 'D' && !matches!(field.role, Role::Key(_)) && field.name != "code_source" {
            return Ok(());
        }
        match field.role {
            Role::Nomenclature {
                nomenclature_type, ..
            } => {
                let id = self.resolver.nomenclature(nomenclature_type, text)?;
                self.row.plain(slot, id);
            }
            Role::Link { kind, .. } => {
                check_type_length(field.ty, text)?;
                let id = self.resolver.link(kind, text)?;
                self.row.plain(slot, id);
            }
            Role::ParentLink(_) => {
                check_type_length(field.ty, text)?;
                self.row.text(slot, text);
            }
            Role::AreaAttachment(_) => {
                check_type_length(field.ty, text)?;
                let Some((area_type, area_code)) = text.split_once('.') else {
                    return Err(ValueError::new(
                        "INVALID_ATTACHMENT_CODE",
                        "expected TYPE.CODE, for example COM.05170 or DEP.05",
                    ));
                };
                self.row.text(slot, area_type.trim());
                self.row.text(
                    secondary.expect("area codes have two slots"),
                    area_code.trim(),
                );
            }
            Role::Geometry => {
                // Checked here; read and projected by PostGIS from the staging column.
                let facts = check_geometry(text)?;
                self.geometries_without_srid += u64::from(facts.srid.is_none());
                self.geometries_z_or_m += u64::from(facts.z_or_m);
                self.row.text(slot, text.trim());
            }
            Role::Observers(_) => {
                check_type_length(field.ty, text)?;
                self.row.text(slot, text);
                let ids = observer_uuids(text);
                if !ids.is_empty() {
                    let list: Vec<String> = ids.iter().map(|u| u.to_string()).collect();
                    self.row.plain(
                        secondary.expect("observers have two slots"),
                        format_args!("{{{}}}", list.join(",")),
                    );
                }
            }
            Role::AdditionalData(_) => {
                self.json_additional = Some(parse_json_object(text)?);
            }
            Role::LinkRows(kind) => {
                let json = self.link_rows(kind, field.ty, text)?;
                self.row.text(slot, &json.to_string());
            }
            Role::Column(_) | Role::Key(_) | Role::CreateDate(_) | Role::UpdateDate(_) => {
                self.typed(field_index, slot, field.ty, text)?;
            }
            Role::Extra | Role::Action(_) => {}
        }
        Ok(())
    }

    fn typed(
        &mut self,
        field_index: usize,
        slot: usize,
        ty: FieldType,
        text: &str,
    ) -> Result<(), ValueError> {
        match ty {
            FieldType::Uuid => {
                let id = parse_uuid(text)?;
                self.row.plain(slot, id);
            }
            FieldType::Int => {
                let v = parse_int(text)?;
                self.ordered[field_index] = Some(Ordered::Number(v as f64));
                self.row.plain(slot, v);
            }
            FieldType::Real => {
                let v = parse_real(text)?;
                self.ordered[field_index] = Some(Ordered::Number(v));
                self.row.plain(slot, v);
            }
            FieldType::Bool => {
                let v = parse_bool(text)?;
                self.row.plain(slot, if v { 't' } else { 'f' });
            }
            FieldType::Date => {
                let v = parse_date(text)?;
                self.ordered[field_index] = Some(Ordered::Time(v));
                self.row.plain(
                    slot,
                    format_args!("{:04}-{:02}-{:02}", v.year, v.month, v.day),
                );
            }
            FieldType::DateTime => {
                let v = parse_datetime(text)?;
                self.ordered[field_index] = Some(Ordered::Time(v));
                self.row.plain(slot, v);
            }
            FieldType::Varchar(_) | FieldType::Text => {
                check_type_length(ty, text)?;
                self.row.text(slot, text);
            }
            FieldType::JsonObject => {
                let v = parse_json_object(text)?;
                self.row.text(slot, &Value::Object(v).to_string());
            }
            FieldType::JsonArray => {
                let v = parse_json_array(text)?;
                self.row.text(slot, &Value::Array(v).to_string());
            }
            FieldType::TextArray
            | FieldType::TextArray2
            | FieldType::Action
            | FieldType::Geometry => {
                return Err(ValueError::new(
                    error_code(ty),
                    "this field type is not stored as a plain column",
                ))
            }
        }
        Ok(())
    }

    /// Resolves the items of a cor_* field into the JSON the merge SQL explodes into link rows.
    fn link_rows(&self, kind: LinkRows, ty: FieldType, text: &str) -> Result<Value, ValueError> {
        let r = self.resolver;
        let pairs = || -> Result<Vec<(String, Option<String>)>, ValueError> {
            let rows = parse_text_array2(text)?;
            rows.into_iter()
                .map(|row| match row.as_slice() {
                    [Some(a), b] => Ok((a.trim().to_string(), b.clone())),
                    [Some(a)] => Ok((a.trim().to_string(), None)),
                    _ => Err(ValueError::new(
                        "INVALID_ARRAY",
                        "each item must be {\"value\",\"code\"}",
                    )),
                })
                .collect()
        };
        let items: Vec<Value> = match kind {
            LinkRows::Nomenclatures(nomenclature_type) => {
                debug_assert_eq!(ty, FieldType::TextArray);
                parse_text_array(text)?
                    .into_iter()
                    .flatten()
                    .map(|code| r.nomenclature(nomenclature_type, &code).map(Value::from))
                    .collect::<Result<_, _>>()?
            }
            LinkRows::OrganismActors | LinkRows::UserActors => pairs()?
                .into_iter()
                .map(|(who, role)| {
                    let role = r.nomenclature("ROLE_ACTEUR", role.as_deref().unwrap_or(""))?;
                    let (key, id) = if kind == LinkRows::OrganismActors {
                        (
                            "id_organism",
                            r.link(crate::spec::LinkKind::Organism, &who)?,
                        )
                    } else {
                        ("id_role", r.actor_user(&who)?)
                    };
                    let mut item = Map::new();
                    item.insert(key.into(), id.into());
                    item.insert("id_nomenclature_actor_role".into(), role.into());
                    Ok(Value::Object(item))
                })
                .collect::<Result<_, ValueError>>()?,
            LinkRows::Territories => pairs()?
                .into_iter()
                .map(|(code, description)| {
                    let id = r.nomenclature("TERRITOIRE", &code)?;
                    let mut item = Map::new();
                    item.insert("id_nomenclature_territory".into(), id.into());
                    item.insert(
                        "territory_desc".into(),
                        description.map(Value::String).unwrap_or(Value::Null),
                    );
                    Ok(Value::Object(item))
                })
                .collect::<Result<_, ValueError>>()?,
            LinkRows::Publications => {
                let mut items = parse_json_array(text)?;
                for item in &mut items {
                    let Some(object) = item.as_object_mut() else {
                        return Err(ValueError::new(
                            "INVALID_JSON",
                            "each publication is an object {\"reference\", \"url\", \"uuid\"}",
                        ));
                    };
                    let reference = match object.get("reference").and_then(Value::as_str) {
                        Some(r) if !r.is_empty() => r.to_string(),
                        _ => {
                            return Err(ValueError::new(
                                "INVALID_JSON",
                                "every publication needs a \"reference\"",
                            ))
                        }
                    };
                    // A publication sent without a UUID gets a stable one, so re-sending it
                    // updates the same row.
                    let id = match object.get("uuid").and_then(Value::as_str) {
                        Some(id) => parse_uuid(id)?,
                        None => uuid::Uuid::new_v5(
                            &uuid::Uuid::NAMESPACE_URL,
                            format!("sinp:publication:{reference}").as_bytes(),
                        ),
                    };
                    object.insert("uuid".into(), Value::String(id.to_string()));
                }
                items
            }
        };
        Ok(Value::Array(items))
    }

    /// Rows without a key get a stable one (FORMAT.md §5).
    fn finish_key<R: Read>(
        &mut self,
        record: &TsvReader<R>,
        line: u64,
        problems: &mut Vec<Problem>,
    ) {
        let entity = self.entity;
        let key_index = entity
            .fields
            .iter()
            .position(|f| matches!(f.role, Role::Key(_)))
            .expect("every entity has a key");
        let slot = self.layout.slots[key_index]
            .primary
            .expect("keys are stored");
        if self.row.cells[slot].is_some() || self.present[key_index] {
            return;
        }
        let text_of = |name: &str| -> Option<String> {
            let i = entity.fields.iter().position(|f| f.name == name)?;
            let p = self.plan.field_position[i]?;
            decode_field(record.raw_field(p))
                .ok()
                .flatten()
                .map(Cow::into_owned)
        };
        match entity.name {
            "synthese" => {
                let source = text_of("code_source");
                let source_id = text_of("source_id");
                match (source, source_id) {
                    (Some(s), Some(id)) if !id.is_empty() => {
                        self.row.plain(slot, synthese_uuid(&s, &id));
                    }
                    _ => problems.push(
                        self.problem(
                            "MISSING_VALUE",
                            "a row without unique_id_sinp needs code_source and source_id".into(),
                            line,
                        )
                        .in_column(self.column_label(key_index)),
                    ),
                }
            }
            "organism" => {
                if let Some(name) = text_of("name") {
                    let id = self
                        .resolver
                        .organism_uuids_by_name
                        .get(&name)
                        .copied()
                        .unwrap_or_else(|| {
                            uuid::Uuid::new_v5(
                                &uuid::Uuid::NAMESPACE_URL,
                                format!("sinp:organism:{name}").as_bytes(),
                            )
                        });
                    self.row.plain(slot, id);
                }
            }
            _ => {}
        }
    }

    /// additional_data = extra columns, then format fields without a column, then the JSON
    /// column's own keys, which win (FORMAT.md §6).
    fn finish_additional_data(&mut self) {
        let entity = self.entity;
        let Some(i) = entity
            .fields
            .iter()
            .position(|f| matches!(f.role, Role::AdditionalData(_)))
        else {
            return;
        };
        let Some(slot) = self.layout.slots[i].primary else {
            return;
        };
        if self.plan.demoted[i] {
            return;
        }
        let mut merged = std::mem::take(&mut self.additional);
        // An object given, even empty (`{}`, or the field's default), is stored as given.
        let given = self.json_additional.is_some();
        if let Some(json) = self.json_additional.take() {
            merged.extend(json);
        }
        if given || !merged.is_empty() {
            self.row.text(slot, &Value::Object(merged).to_string());
        }
    }

    fn run_checks(&mut self, line: u64, action: char, problems: &mut Vec<Problem>) {
        if action == 'D' {
            return;
        }
        // A version in the future wins over every later real update of the row, which would then
        // be ignored as older (FORMAT.md §7): applied, but said.
        if let Some(i) = self.version_field {
            if let Some(Ordered::Time(t)) = self.ordered[i] {
                if t > self.latest_plausible_version {
                    problems.push(
                        Problem::warning(
                            self.entity.file,
                            "META_UPDATE_DATE_IN_FUTURE",
                            format!(
                                "{} {t} is after the load's date ({}): later updates of this row with earlier dates will be ignored as older",
                                self.entity.fields[i].name, self.now
                            ),
                        )
                        .at_line(line)
                        .in_column(self.column_label(i))
                        .with_value(&t.to_string()),
                    );
                }
            }
        }
        let entity = self.entity;
        let index = |name: &str| entity.fields.iter().position(|f| f.name == name);
        for check in entity.checks {
            match *check {
                Check::Order { min, max, code } => {
                    let (Some(a), Some(b)) = (index(min), index(max)) else {
                        continue;
                    };
                    if let (Some(lo), Some(hi)) = (self.ordered[a], self.ordered[b]) {
                        if lo > hi {
                            problems.push(
                                self.problem(code, format!("{min} is greater than {max}"), line)
                                    .in_column(self.column_label(a)),
                            );
                        }
                    }
                }
                Check::NotFuture { field, code } => {
                    let Some(i) = index(field) else { continue };
                    if let Some(Ordered::Time(t)) = self.ordered[i] {
                        if t > self.now {
                            problems.push(
                                self.problem(code, format!("{field} {t} is in the future"), line)
                                    .in_column(self.column_label(i)),
                            );
                        }
                    }
                }
                Check::OneOf { fields, code } => {
                    let any = fields
                        .iter()
                        .filter_map(|f| index(f))
                        .any(|i| self.present[i]);
                    if !any {
                        problems.push(self.problem(
                            code,
                            format!("one of {} is required", fields.join(", ")),
                            line,
                        ));
                    }
                }
            }
        }
    }
}

fn check_type_length(ty: FieldType, text: &str) -> Result<(), ValueError> {
    match ty {
        FieldType::Varchar(n) => check_length(text, n),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ACQUISITION_FRAMEWORK, SOURCE, SYNTHESE};

    fn resolver() -> Resolver {
        let mut r = Resolver::default();
        r.sources.by_name.insert("SRC".into(), 3);
        r.datasets.by_name.insert("DFCP".into(), 9);
        r.nomenclatures
            .entry("SEXE".into())
            .or_default()
            .insert("2".into(), 42);
        r.synthese_defaults.insert("STATUT_OBS".into(), 77);
        r
    }

    #[allow(clippy::type_complexity)]
    fn convert(
        entity: &'static Entity,
        text: &str,
    ) -> (Vec<Option<(u64, String)>>, Vec<Problem>, HeaderPlan) {
        let r = resolver();
        let layout = StagingLayout::for_entity(entity);
        let mut reader = TsvReader::new(entity.file, text.as_bytes()).unwrap();
        let (plan, mut problems) = HeaderPlan::new(entity, reader.header(), None);
        let mut conv = RowConverter::new(entity, &layout, &plan, &r, DateTime::date(2026, 1, 1));
        let mut rows = Vec::new();
        while reader.next_record().unwrap() {
            let ok = conv.convert(&reader, &mut problems);
            rows.push(ok.map(|_| {
                let mut out = Vec::new();
                conv.write_row(&mut out);
                (reader.line(), String::from_utf8(out).unwrap())
            }));
        }
        (rows, problems, plan)
    }

    fn cell<'a>(entity: &Entity, row: &'a str, column: &str) -> &'a str {
        let layout = StagingLayout::for_entity(entity);
        let i = layout
            .columns
            .iter()
            .position(|c| c.name == column)
            .unwrap();
        row.trim_end_matches('\n').split('\t').nth(i).unwrap()
    }

    const SYNTHESE_HEADER: &str = "code_source\tsource_id\tcode_dataset\tnom_cite\tcd_nom\tdate_min\tdate_max\tgeom\tcode_nomenclature_sex\tcomment_context\tx_extra\tadditional_data\tmeta_create_date\tlast_action";

    #[test]
    fn a_synthese_row_is_resolved_escaped_and_keyed() {
        let text = format!(
            "{SYNTHESE_HEADER}\nSRC\t42\tDFCP\tLarus\t3297\t1994-01-09\t1994-01-09 10:00\tSRID=2154;POINT(1 2)\t2\tline\\none\\ttab\tcol\t{{\"x_extra\":\"json\",\"k\":\"a\\\\\\\\b\"}}\t\tI\n"
        );
        let (rows, problems, _) = convert(&SYNTHESE, &text);
        assert!(problems.is_empty(), "{problems:?}");
        let (line, row) = rows[0].clone().unwrap();
        assert_eq!(line, 2);
        assert_eq!(cell(&SYNTHESE, &row, "id_source"), "3");
        assert_eq!(cell(&SYNTHESE, &row, "id_dataset"), "9");
        assert_eq!(cell(&SYNTHESE, &row, "id_nomenclature_sex"), "42");
        assert_eq!(
            cell(&SYNTHESE, &row, "id_nomenclature_observation_status"),
            "77"
        );
        assert_eq!(cell(&SYNTHESE, &row, "id_nomenclature_bio_status"), "\\N");
        assert_eq!(cell(&SYNTHESE, &row, "comment_context"), "line\\none\\ttab");
        assert_eq!(cell(&SYNTHESE, &row, "date_min"), "1994-01-09 00:00:00");
        assert_eq!(
            cell(&SYNTHESE, &row, "meta_create_date"),
            "2026-01-01 00:00:00"
        );
        assert_eq!(
            cell(&SYNTHESE, &row, "unique_id_sinp"),
            synthese_uuid("SRC", "42").to_string()
        );
        let additional: Value =
            serde_json::from_str(&cell(&SYNTHESE, &row, "additional_data").replace("\\\\", "\\"))
                .unwrap();
        assert_eq!(additional["x_extra"], "json");
        assert_eq!(additional["k"], "a\\b");
    }

    #[test]
    fn bad_values_are_reported_with_line_column_and_raw_record() {
        let text = format!(
            "{SYNTHESE_HEADER}\nSRC\t1\tNOPE\tLarus\tabc\t1994-01-09\t1993-01-09\t\\N\t9\t\t\t\\N\t\tX\n"
        );
        let (rows, problems, _) = convert(&SYNTHESE, &text);
        assert!(rows[0].is_none());
        let codes: Vec<_> = problems
            .iter()
            .map(|p| (p.code, p.column.clone()))
            .collect();
        for expected in [
            ("INVALID_ACTION", Some("last_action".to_string())),
            ("DATASET_NOT_FOUND", Some("code_dataset".to_string())),
            ("INVALID_INTEGER", Some("cd_nom".to_string())),
            (
                "INVALID_NOMENCLATURE",
                Some("code_nomenclature_sex".to_string()),
            ),
            ("DATE_MIN_SUP_DATE_MAX", Some("date_min".to_string())),
            ("MISSING_GEOM", None),
        ] {
            assert!(codes.contains(&expected), "{expected:?} not in {codes:?}");
        }
        assert!(problems.iter().all(|p| p.line == Some(2)));
        assert!(problems[0]
            .raw_record
            .as_deref()
            .unwrap()
            .starts_with("SRC\t1\tNOPE"));
    }

    #[test]
    fn a_header_wider_than_the_limit_is_refused_and_duplicates_are_found_in_one_pass() {
        let wide: Vec<String> = (0..MAX_HEADER_COLUMNS + 1)
            .map(|i| format!("x_{i}"))
            .collect();
        let (_, problems) = HeaderPlan::new(&SOURCE, &wide, None);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].code, "TOO_MANY_COLUMNS");
        assert!(HeaderPlan::has_errors(&problems));
        // 10 000 columns of one name: 9 999 duplicates, found at once.
        let same = vec!["x_col".to_string(); MAX_HEADER_COLUMNS];
        let started = std::time::Instant::now();
        let (_, problems) = HeaderPlan::new(&SOURCE, &same, None);
        let duplicates = problems
            .iter()
            .filter(|p| p.code == "HEADER_SAME_COLUMN_NAME")
            .count();
        assert_eq!(duplicates, MAX_HEADER_COLUMNS - 1);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn header_problems_are_found_before_any_row() {
        let (_, problems, plan) = convert(&SOURCE, "name\tname\tx_col\n");
        let codes: Vec<_> = problems.iter().map(|p| p.code).collect();
        assert!(codes.contains(&"HEADER_SAME_COLUMN_NAME"));
        assert!(codes.contains(&"MISSING_COLUMN"));
        assert_eq!(plan.extras, vec![(2, "x_col".to_string())]);
    }

    #[test]
    fn a_version_after_the_load_is_applied_with_a_warning() {
        // The load's date is 2026-01-01 00:00: a day of slack, then a warning.
        let text = "name\tmeta_update_date\tmeta_last_action\n\
                    A\t2026-01-01 23:59\tI\n\
                    B\t2026-01-02 00:00:01\tU\n\
                    C\t2099-01-01\tD\n";
        let (rows, problems, _) = convert(&SOURCE, text);
        assert!(rows.iter().all(Option::is_some));
        let found: Vec<_> = problems
            .iter()
            .map(|p| (p.code, p.line, p.column.as_deref(), p.is_error()))
            .collect();
        assert_eq!(
            found,
            vec![(
                "META_UPDATE_DATE_IN_FUTURE",
                Some(3),
                Some("meta_update_date"),
                false
            )]
        );
        assert_eq!(problems[0].value.as_deref(), Some("2026-01-02 00:00:01"));
    }

    #[test]
    fn field_count_mismatches_are_row_errors() {
        let (rows, problems, _) = convert(&SOURCE, "name\tmeta_last_action\nA\tI\textra\nB\n");
        assert!(rows.iter().all(Option::is_none));
        assert_eq!(problems[0].code, "ROW_HAVE_TOO_MUCH_COLUMN");
        assert_eq!(problems[1].code, "ROW_HAVE_LESS_COLUMN");
        assert_eq!(problems[1].line, Some(3));
    }

    #[test]
    fn publications_without_uuid_get_a_stable_one() {
        let text = "unique_id\tname\tdesc\tstart_date\tcor_publications\tmeta_last_action\n\
                    5a433bd0-1fc0-25d9-e053-2614a8c026f8\tAF\td\t2020-01-01\t[{\"reference\":\"Ref A\"}]\tI\n";
        let (rows, problems, _) = convert(&ACQUISITION_FRAMEWORK, text);
        assert!(problems.is_empty(), "{problems:?}");
        let row = rows[0].clone().unwrap().1;
        let cell = cell(&ACQUISITION_FRAMEWORK, &row, "_cor_publications");
        let expected = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, b"sinp:publication:Ref A");
        assert!(cell.contains(&expected.to_string()), "{cell}");
    }
}
