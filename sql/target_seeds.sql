-- sinp_import: GeoNature-compatible target schema, part 3 of 3 (after sql/target_functions.sql):
-- the seeds (nomenclatures, defaults, area types) and the comments of the tables this run created.

-- -----------------------------------------------------------------------------------------------------
-- Seeds (from the caller's TEMP tables). Nothing is updated: existing rows win.
-- -----------------------------------------------------------------------------------------------------

-- Nomenclature types, with the ids of the reference list when they are free...
INSERT INTO ref_nomenclatures.bib_nomenclatures_types
    (id_type, mnemonique, label_default, definition_default, label_fr, definition_fr, source)
SELECT s.id_type::integer, s.mnemonique, s.label_fr, s.definition_fr, s.label_fr, s.definition_fr, s.source
FROM pg_temp.sinp_seed_nomenclature_types AS s
WHERE NOT EXISTS (SELECT 1 FROM ref_nomenclatures.bib_nomenclatures_types AS t
                  WHERE t.mnemonique = s.mnemonique)
  AND NOT EXISTS (SELECT 1 FROM ref_nomenclatures.bib_nomenclatures_types AS t
                  WHERE t.id_type = s.id_type::integer)
ORDER BY s.id_type::integer;

-- ...and new ids after the largest one when a database already uses that id for another type.
INSERT INTO ref_nomenclatures.bib_nomenclatures_types
    (id_type, mnemonique, label_default, definition_default, label_fr, definition_fr, source)
SELECT (SELECT coalesce(max(id_type), 0) FROM ref_nomenclatures.bib_nomenclatures_types)
           + row_number() OVER (ORDER BY s.id_type::integer),
       s.mnemonique, s.label_fr, s.definition_fr, s.label_fr, s.definition_fr, s.source
FROM pg_temp.sinp_seed_nomenclature_types AS s
WHERE NOT EXISTS (SELECT 1 FROM ref_nomenclatures.bib_nomenclatures_types AS t
                  WHERE t.mnemonique = s.mnemonique);

-- Explicit ids were inserted: move the serial's sequence past them (never backwards).
SELECT pg_catalog.setval(q.seq, q.v, true)
FROM (SELECT s.seq,
             greatest((SELECT max(id_type) FROM ref_nomenclatures.bib_nomenclatures_types),
                      pg_catalog.pg_sequence_last_value(s.seq)) AS v
      FROM (SELECT pg_catalog.pg_get_serial_sequence('ref_nomenclatures.bib_nomenclatures_types',
                                                     'id_type')::regclass AS seq) AS s
      WHERE s.seq IS NOT NULL) AS q
WHERE q.v IS NOT NULL
  AND q.v IS DISTINCT FROM pg_catalog.pg_sequence_last_value(q.seq);

-- Nomenclatures (id_nomenclature from the serial; NOT EXISTS rather than ON CONFLICT so that a second
-- run does not consume sequence values).
INSERT INTO ref_nomenclatures.t_nomenclatures
    (id_type, cd_nomenclature, mnemonique, label_default, definition_default, label_fr, definition_fr,
     source, hierarchy, active)
SELECT t.id_type, s.cd_nomenclature, s.mnemonique, s.label_fr, s.definition_fr, s.label_fr,
       s.definition_fr, s.source, s.hierarchy, coalesce(s.active::boolean, true)
FROM pg_temp.sinp_seed_nomenclatures AS s
JOIN ref_nomenclatures.bib_nomenclatures_types AS t ON t.mnemonique = s.type_mnemonique
WHERE NOT EXISTS (SELECT 1 FROM ref_nomenclatures.t_nomenclatures AS n
                  WHERE n.id_type = t.id_type AND n.cd_nomenclature = s.cd_nomenclature)
ORDER BY t.id_type, s.hierarchy, s.cd_nomenclature;

-- Synthese defaults (all organisms, all kingdoms, all groups), for the nomenclature types that
-- have none: a real GeoNature's defaults are kept as they are. Written for organism 0 only where
-- that can be referenced (GeoNature's foreign key id_organism -> bib_organismes, when its
-- database has no organism 0).
INSERT INTO gn_synthese.defaults_nomenclatures_value
    (mnemonique_type, id_organism, regne, group2_inpn, id_nomenclature)
SELECT d.type_mnemonique, 0, '0', '0', n.id_nomenclature
FROM pg_temp.sinp_seed_synthese_defaults AS d
JOIN ref_nomenclatures.bib_nomenclatures_types AS t ON t.mnemonique = d.type_mnemonique
JOIN ref_nomenclatures.t_nomenclatures AS n
  ON n.id_type = t.id_type AND n.cd_nomenclature = d.cd_nomenclature
WHERE NOT EXISTS (SELECT FROM gn_synthese.defaults_nomenclatures_value AS v
                   WHERE v.mnemonique_type = d.type_mnemonique)
  AND (EXISTS (SELECT FROM utilisateurs.bib_organismes AS o WHERE o.id_organisme = 0)
       OR NOT EXISTS (SELECT FROM pg_catalog.pg_constraint AS k
                       WHERE k.conrelid = 'gn_synthese.defaults_nomenclatures_value'::pg_catalog.regclass
                         AND k.confrelid = 'utilisateurs.bib_organismes'::pg_catalog.regclass
                         AND k.contype = 'f'))
ON CONFLICT DO NOTHING;

-- Area types used by code_area_attachment (TYPE.CODE); no areas are loaded.
INSERT INTO ref_geo.bib_areas_types (type_name, type_code, type_desc, ref_name, ref_version)
SELECT v.type_name, v.type_code, v.type_desc, v.ref_name, v.ref_version
FROM (VALUES
    ('Communes',     'COM', 'Type commune',             'IGN admin_express', 2017),
    ('Départements', 'DEP', 'Type département',         'IGN admin_express', 2017),
    ('Mailles1*1',   'M1',  'Type maille INPN 1*1km',   NULL,                NULL),
    ('Mailles10*10', 'M10', 'Type maille INPN 10*10km', NULL,                NULL)
) AS v(type_name, type_code, type_desc, ref_name, ref_version)
WHERE NOT EXISTS (SELECT 1 FROM ref_geo.bib_areas_types AS b WHERE b.type_code = v.type_code);

-- -----------------------------------------------------------------------------------------------------
-- Comments, on the tables created by this run only (a real GeoNature's comments are kept).
-- -----------------------------------------------------------------------------------------------------
DO $do$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT table_name FROM pg_temp.sinp_target_new_tables ORDER BY table_name LOOP
        EXECUTE format('COMMENT ON TABLE %s IS %L', r.table_name,
            format('GeoNature-compatible subset: %s, created by sinp_import.create_target_schema(). '
                   'Not a member of the extension sinp_import (DROP EXTENSION does not drop it).',
                   r.table_name));
    END LOOP;
END
$do$;

SELECT pg_catalog.set_config(name, setting, true) FROM pg_temp.sinp_target_saved_settings;

DROP TABLE pg_temp.sinp_target_new_tables;
DROP TABLE pg_temp.sinp_target_saved_settings;
