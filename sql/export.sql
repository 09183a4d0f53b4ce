-- How target rows become the records of an exported archive (docs/export.md). Each statement is
-- named by a `-- name:` line; the exporter fills the {placeholders} with identifiers and
-- expressions it builds from the field tables (a field a plain column gives is not listed here),
-- and passes every value as a parameter: $1 the sources' names (text[], NULL: all), $2 the
-- datasets' UUIDs (uuid[], NULL: all), $3 whether restricted observations go out, $4 the time a
-- differential export starts from (NULL: a full export), $5 the entity.

-- name: exported synthese
-- The observations that go out, by id: of the sources and datasets asked for, restricted ones
-- only when asked (the condition of sinp_import.restricted_condition('t')).
CREATE TEMP TABLE sinp_exported ON COMMIT DROP AS
SELECT t.id_synthese AS id
  FROM gn_synthese.synthese AS t
 WHERE ($1::text[] IS NULL
        OR t.id_source IN (SELECT s.id_source FROM gn_synthese.t_sources AS s WHERE s.name_source = ANY ($1::text[])))
   AND ($2::uuid[] IS NULL
        OR t.id_dataset IN (SELECT d.id_dataset FROM gn_meta.t_datasets AS d WHERE d.unique_dataset_id = ANY ($2::uuid[])))
   AND ($3::boolean OR NOT {restricted});

-- name: exported dataset
-- The datasets that go out: all of them in a full export; else those asked for and those of the
-- observations that go out (their links must resolve on the receiving side).
CREATE TEMP TABLE sinp_exported_dataset ON COMMIT DROP AS
SELECT t.id_dataset AS id
  FROM gn_meta.t_datasets AS t
 WHERE ($1::text[] IS NULL AND $2::uuid[] IS NULL)
    OR t.unique_dataset_id = ANY ($2::uuid[])
    OR t.id_dataset IN (SELECT s.id_dataset FROM gn_synthese.synthese AS s JOIN sinp_exported AS e ON e.id = s.id_synthese);

-- name: exported acquisition_framework
-- The frameworks of the datasets that go out, and their parents up the tree (all of them in a
-- full export).
CREATE TEMP TABLE sinp_exported_acquisition_framework ON COMMIT DROP AS
WITH RECURSIVE up AS (
    SELECT t.id_acquisition_framework AS id
      FROM gn_meta.t_acquisition_frameworks AS t
     WHERE ($1::text[] IS NULL AND $2::uuid[] IS NULL)
        OR t.id_acquisition_framework IN (SELECT d.id_acquisition_framework FROM gn_meta.t_datasets AS d
                                           JOIN sinp_exported_dataset AS e ON e.id = d.id_dataset)
    UNION
    SELECT a.acquisition_framework_parent_id
      FROM gn_meta.t_acquisition_frameworks AS a JOIN up ON a.id_acquisition_framework = up.id
     WHERE a.acquisition_framework_parent_id IS NOT NULL)
SELECT DISTINCT up.id FROM up;

-- name: exported user
-- The users the rows that go out name: digitisers, observers (their links), the actors of the
-- datasets and frameworks. Not the others: a platform's own accounts stay home (and would collide
-- with the receiver's own by identifier).
CREATE TEMP TABLE sinp_exported_user ON COMMIT DROP AS
SELECT s.id_digitiser AS id FROM gn_synthese.synthese AS s JOIN sinp_exported AS e ON e.id = s.id_synthese
 WHERE s.id_digitiser IS NOT NULL
UNION
SELECT c.id_role FROM gn_synthese.cor_observer_synthese AS c JOIN sinp_exported AS e ON e.id = c.id_synthese
UNION
SELECT c.id_role FROM gn_meta.cor_dataset_actor AS c JOIN sinp_exported_dataset AS e ON e.id = c.id_dataset
 WHERE c.id_role IS NOT NULL
UNION
SELECT c.id_role FROM gn_meta.cor_acquisition_framework_actor AS c
  JOIN sinp_exported_acquisition_framework AS e ON e.id = c.id_acquisition_framework
 WHERE c.id_role IS NOT NULL;

-- name: exported organism
-- The organisms of those users, and the actors of the datasets and frameworks.
CREATE TEMP TABLE sinp_exported_organism ON COMMIT DROP AS
SELECT r.id_organisme AS id FROM utilisateurs.t_roles AS r JOIN sinp_exported_user AS e ON e.id = r.id_role
 WHERE r.id_organisme IS NOT NULL
UNION
SELECT c.id_organism FROM gn_meta.cor_dataset_actor AS c JOIN sinp_exported_dataset AS e ON e.id = c.id_dataset
 WHERE c.id_organism IS NOT NULL
UNION
SELECT c.id_organism FROM gn_meta.cor_acquisition_framework_actor AS c
  JOIN sinp_exported_acquisition_framework AS e ON e.id = c.id_acquisition_framework
 WHERE c.id_organism IS NOT NULL;

-- name: exported source
-- Every source in a full export; else those asked for and those of the observations that go out.
CREATE TEMP TABLE sinp_exported_source ON COMMIT DROP AS
SELECT t.id_source AS id
  FROM gn_synthese.t_sources AS t
 WHERE ($1::text[] IS NULL AND $2::uuid[] IS NULL)
    OR t.name_source = ANY ($1::text[])
    OR t.id_source IN (SELECT s.id_source FROM gn_synthese.synthese AS s JOIN sinp_exported AS e ON e.id = s.id_synthese);

-- A differential export (since $4) carries, of the rows a full export with the same arguments
-- would carry (the tables above, renamed sinp_scope_<entity>), those created or changed since $4
-- (sinp_import.changed_rows), and the rows those name: a receiver in step at $4 gets what
-- changed, and every link resolves. Each row is I when created since $4 (and its key was not
-- there before, deleted since), else U. Made in the order of the full export's tables.

-- name: scope
-- A full export's TEMP table of ids, set aside as the differential's scope ({exported} and
-- {scope}: names the exporter gives, from the entity's name).
ALTER TABLE pg_temp.{exported} RENAME TO {scope};

-- name: differential synthese
-- The observations changed since $4, of the sources and datasets asked for. A restricted one,
-- when restricted observations stay home, is left out; one that a write since $4 made restricted
-- is withdrawn: a D row, unless it was created since $4 (its receiver never had it).
CREATE TEMP TABLE sinp_exported ON COMMIT DROP AS
SELECT x.id, x.action
  FROM (SELECT t.id_synthese AS id,
               CASE WHEN NOT $3::boolean AND {restricted}
                    THEN CASE WHEN c.withdrawn_at > $4 AND (c.created_at IS NULL OR c.created_at <= $4) THEN 'D' END
                    WHEN c.created_at > $4 AND NOT EXISTS (
                         SELECT FROM sinp_import.deleted_rows AS d
                          WHERE d.entity = 'synthese' AND d.key = t.unique_id_sinp::text AND d.deleted_at > $4
                            AND (d.created_at IS NULL OR d.created_at <= $4))
                    THEN 'I'
                    ELSE 'U'
               END AS action
          FROM sinp_import.changed_rows AS c
          JOIN gn_synthese.synthese AS t ON t.id_synthese = c.id
         WHERE c.entity = 'synthese' AND c.changed_at > $4
           AND ($1::text[] IS NULL
                OR t.id_source IN (SELECT s.id_source FROM gn_synthese.t_sources AS s WHERE s.name_source = ANY ($1::text[])))
           AND ($2::uuid[] IS NULL
                OR t.id_dataset IN (SELECT d.id_dataset FROM gn_meta.t_datasets AS d WHERE d.unique_dataset_id = ANY ($2::uuid[])))
       ) AS x
 WHERE x.action IS NOT NULL;

-- name: differential
-- Another entity's rows ($5): those of its scope changed since $4, and those the rows that go
-- out name (the statement "named <entity>" below).
CREATE TEMP TABLE {exported} ON COMMIT DROP AS
SELECT n.id,
       CASE WHEN c.created_at > $4 AND NOT EXISTS (
                 SELECT FROM sinp_import.deleted_rows AS d JOIN {table} AS t ON d.key = t.{key}::text
                  WHERE t.{id} = n.id AND d.entity = $5 AND d.deleted_at > $4
                    AND (d.created_at IS NULL OR d.created_at <= $4))
            THEN 'I' ELSE 'U' END AS action
  FROM (SELECT s.id
          FROM {scope} AS s
          JOIN sinp_import.changed_rows AS c ON c.entity = $5 AND c.id = s.id AND c.changed_at > $4
        UNION
        {named}) AS n
  LEFT JOIN sinp_import.changed_rows AS c ON c.entity = $5 AND c.id = n.id;

-- name: named dataset
SELECT s.id_dataset FROM gn_synthese.synthese AS s JOIN sinp_exported AS e ON e.id = s.id_synthese
 WHERE e.action <> 'D'

-- name: named acquisition_framework
SELECT up.id
  FROM (WITH RECURSIVE up AS (
            SELECT d.id_acquisition_framework AS id
              FROM gn_meta.t_datasets AS d JOIN sinp_exported_dataset AS e ON e.id = d.id_dataset
            UNION
            SELECT a.acquisition_framework_parent_id
              FROM gn_meta.t_acquisition_frameworks AS a JOIN up ON a.id_acquisition_framework = up.id
             WHERE a.acquisition_framework_parent_id IS NOT NULL)
        SELECT up.id FROM up) AS up

-- name: named user
SELECT s.id_digitiser FROM gn_synthese.synthese AS s JOIN sinp_exported AS e ON e.id = s.id_synthese
 WHERE s.id_digitiser IS NOT NULL AND e.action <> 'D'
UNION
SELECT c.id_role FROM gn_synthese.cor_observer_synthese AS c JOIN sinp_exported AS e ON e.id = c.id_synthese
 WHERE e.action <> 'D'
UNION
SELECT c.id_role FROM gn_meta.cor_dataset_actor AS c JOIN sinp_exported_dataset AS e ON e.id = c.id_dataset
 WHERE c.id_role IS NOT NULL
UNION
SELECT c.id_role FROM gn_meta.cor_acquisition_framework_actor AS c
  JOIN sinp_exported_acquisition_framework AS e ON e.id = c.id_acquisition_framework
 WHERE c.id_role IS NOT NULL

-- name: named organism
SELECT r.id_organisme FROM utilisateurs.t_roles AS r JOIN sinp_exported_user AS e ON e.id = r.id_role
 WHERE r.id_organisme IS NOT NULL
UNION
SELECT c.id_organism FROM gn_meta.cor_dataset_actor AS c JOIN sinp_exported_dataset AS e ON e.id = c.id_dataset
 WHERE c.id_organism IS NOT NULL
UNION
SELECT c.id_organism FROM gn_meta.cor_acquisition_framework_actor AS c
  JOIN sinp_exported_acquisition_framework AS e ON e.id = c.id_acquisition_framework
 WHERE c.id_organism IS NOT NULL

-- name: named source
SELECT s.id_source FROM gn_synthese.synthese AS s JOIN sinp_exported AS e ON e.id = s.id_synthese
 WHERE e.action <> 'D'

-- name: rows
-- One entity's records: every field of the format, as text, in file order; the rows that go out
-- are in the TEMP table sinp_exported_<entity> (sinp_exported for the synthese); of a
-- differential, its I and U rows only. Codes and keys are joined, not looked up row by row.
SELECT {columns}
  FROM {table} AS t
  JOIN {exported} AS e ON e.id = t.{id}{written}
{joins}
 ORDER BY t.{id};

-- name: deleted rows
-- A differential's D rows of entity $5, after its I and U rows: the keys the change log saw
-- deleted since $4 (sinp_import.deleted_rows), of rows created before $4 (a receiver in step at
-- $4 has them), not there again (then they went out as I or U rows). Of an export of some
-- sources or datasets, only the observations of those (and the datasets asked for). The columns:
-- the key, code_source and source_id where the format has them, 'D', NULL elsewhere. Any
-- observation's, restricted or not: a D row carries only its keys.
SELECT {columns}
  FROM (SELECT DISTINCT ON (d.key) d.key, d.code_source, d.source_id
          FROM sinp_import.deleted_rows AS d
         WHERE d.entity = $5 AND d.deleted_at > $4
           AND (d.created_at IS NULL OR d.created_at <= $4)
           AND (($1::text[] IS NULL AND $2::uuid[] IS NULL)
                OR ($5 = 'synthese' AND ($1::text[] IS NULL OR d.code_source = ANY ($1::text[]))
                                    AND ($2::uuid[] IS NULL OR d.dataset = ANY ($2::uuid[])))
                OR ($5 = 'dataset' AND d.key = ANY ($2::uuid[]::text[])))
           AND NOT EXISTS (SELECT FROM {table} AS t WHERE t.{key}::text = d.key)
         ORDER BY d.key, d.deleted_at DESC) AS d
 ORDER BY d.key;

-- name: withdrawn rows
-- The D rows of observations made restricted since $4, when restricted observations stay home
-- ("differential synthese"): their receiver must not keep them.
SELECT {columns}
  FROM (SELECT t.unique_id_sinp::text AS key, s.name_source AS code_source, t.entity_source_pk_value AS source_id
          FROM sinp_exported AS e
          JOIN gn_synthese.synthese AS t ON t.id_synthese = e.id
          LEFT JOIN gn_synthese.t_sources AS s ON s.id_source = t.id_source
         WHERE e.action = 'D') AS d
 ORDER BY d.key;

-- name: change log start
-- Whether every table of the export has its changes logged, since when (the latest start), and
-- whether $1 (the export's since) is earlier.
SELECT count(*) FILTER (WHERE l.table_name IS NULL), max(l.logged_since)::text, $1::timestamptz < max(l.logged_since)
  FROM (VALUES ('gn_synthese.t_sources'), ('utilisateurs.bib_organismes'), ('utilisateurs.t_roles'),
               ('gn_meta.t_acquisition_frameworks'), ('gn_meta.t_datasets'), ('gn_synthese.synthese')) AS v(name)
  LEFT JOIN sinp_import.logged_tables AS l ON l.table_name = v.name;

-- name: nomenclature join
LEFT JOIN ref_nomenclatures.t_nomenclatures AS {alias} ON {alias}.id_nomenclature = t.{column}

-- name: nomenclature
{alias}.cd_nomenclature::text

-- name: link join
LEFT JOIN {table} AS {alias} ON {alias}.{id} = t.{column}

-- name: link
{alias}.{key}::text

-- name: area attachment join
LEFT JOIN ref_geo.l_areas AS {alias} ON {alias}.id_area = t.{column}
LEFT JOIN ref_geo.bib_areas_types AS {alias}_type ON {alias}_type.id_type = {alias}.id_type

-- name: area attachment
{alias}_type.type_code || '.' || {alias}.area_code

-- name: geometry
-- EWKT in the local SRID, every decimal PostGIS keeps (a coordinate reads back as stored).
public.ST_AsEWKT(t.the_geom_local, 15)

-- name: link rows acquisition_framework cor_objectifs
(SELECT jsonb_agg(n.cd_nomenclature ORDER BY n.cd_nomenclature)::text
   FROM gn_meta.cor_acquisition_framework_objectif AS c
   JOIN ref_nomenclatures.t_nomenclatures AS n ON n.id_nomenclature = c.id_nomenclature_objectif
  WHERE c.id_acquisition_framework = t.id_acquisition_framework)

-- name: link rows acquisition_framework cor_voletsinp
(SELECT jsonb_agg(n.cd_nomenclature ORDER BY n.cd_nomenclature)::text
   FROM gn_meta.cor_acquisition_framework_voletsinp AS c
   JOIN ref_nomenclatures.t_nomenclatures AS n ON n.id_nomenclature = c.id_nomenclature_voletsinp
  WHERE c.id_acquisition_framework = t.id_acquisition_framework)

-- name: link rows acquisition_framework cor_actors_organism
(SELECT jsonb_agg(jsonb_build_array(o.uuid_organisme, n.cd_nomenclature) ORDER BY o.uuid_organisme, n.cd_nomenclature)::text
   FROM gn_meta.cor_acquisition_framework_actor AS c
   JOIN utilisateurs.bib_organismes AS o ON o.id_organisme = c.id_organism
   JOIN ref_nomenclatures.t_nomenclatures AS n ON n.id_nomenclature = c.id_nomenclature_actor_role
  WHERE c.id_acquisition_framework = t.id_acquisition_framework)

-- name: link rows acquisition_framework cor_actors_user
(SELECT jsonb_agg(jsonb_build_array(r.uuid_role, n.cd_nomenclature) ORDER BY r.uuid_role, n.cd_nomenclature)::text
   FROM gn_meta.cor_acquisition_framework_actor AS c
   JOIN utilisateurs.t_roles AS r ON r.id_role = c.id_role
   JOIN ref_nomenclatures.t_nomenclatures AS n ON n.id_nomenclature = c.id_nomenclature_actor_role
  WHERE c.id_acquisition_framework = t.id_acquisition_framework)

-- name: link rows acquisition_framework cor_publications
(SELECT jsonb_agg(jsonb_build_object('reference', p.publication_reference, 'url', p.publication_url,
                                     'uuid', p.unique_publication_id) ORDER BY p.unique_publication_id)::text
   FROM gn_meta.cor_acquisition_framework_publication AS c
   JOIN gn_meta.sinp_datatype_publications AS p ON p.id_publication = c.id_publication
  WHERE c.id_acquisition_framework = t.id_acquisition_framework)

-- name: link rows dataset cor_territory
(SELECT jsonb_agg(jsonb_build_array(n.cd_nomenclature, c.territory_desc) ORDER BY n.cd_nomenclature)::text
   FROM gn_meta.cor_dataset_territory AS c
   JOIN ref_nomenclatures.t_nomenclatures AS n ON n.id_nomenclature = c.id_nomenclature_territory
  WHERE c.id_dataset = t.id_dataset)

-- name: link rows dataset cor_actors_organism
(SELECT jsonb_agg(jsonb_build_array(o.uuid_organisme, n.cd_nomenclature) ORDER BY o.uuid_organisme, n.cd_nomenclature)::text
   FROM gn_meta.cor_dataset_actor AS c
   JOIN utilisateurs.bib_organismes AS o ON o.id_organisme = c.id_organism
   JOIN ref_nomenclatures.t_nomenclatures AS n ON n.id_nomenclature = c.id_nomenclature_actor_role
  WHERE c.id_dataset = t.id_dataset)

-- name: link rows dataset cor_actors_user
(SELECT jsonb_agg(jsonb_build_array(r.uuid_role, n.cd_nomenclature) ORDER BY r.uuid_role, n.cd_nomenclature)::text
   FROM gn_meta.cor_dataset_actor AS c
   JOIN utilisateurs.t_roles AS r ON r.id_role = c.id_role
   JOIN ref_nomenclatures.t_nomenclatures AS n ON n.id_nomenclature = c.id_nomenclature_actor_role
  WHERE c.id_dataset = t.id_dataset)

-- name: additional fields
-- meta_additional_data.csv: what the additional_data keys mean, as the providers described them
-- (sinp_import.additional_fields); a key several providers described, as described last.
SELECT f.resource, f.name, f.description, f.keyword, f.field_type, f.unity
  FROM (SELECT DISTINCT ON (a.resource, a.name) a.*
          FROM sinp_import.additional_fields AS a
         ORDER BY a.resource, a.name, a.updated_at DESC, a.provider) AS f
 ORDER BY f.resource, f.name

-- name: taxref version
-- meta_archive.ini's taxref_version: the version the observations that go out were loaded with.
SELECT max(s.meta_v_taxref) FROM gn_synthese.synthese AS s JOIN sinp_exported AS e ON e.id = s.id_synthese;
