-- How staged rows become target rows. Each statement is named by a `-- name:` line; the loader
-- runs them with the placeholders in braces filled from the entity's field table:
--   {table}   the target table            {stage}  the entity's TEMP staging table
--   {key}     the key column              {id}     the target's serial id column
--   {entity}  the entity name             {local_srid}
-- Values are never placeholders: the source of the synthese takes the archive's taxref_version
-- as the parameter $1.
-- Every staging table has _line (the record's line in the file) and _action (I, U or D).
-- pg_temp.sinp_written lists the target rows this load inserted or updated, for the post-work;
-- relink says whether the links computed from the row (the areas of an observation) must be made
-- again: an inserted row, or an updated one whose geometry changed.

-- name: written
-- Indexed: the post-work reads it by batches of ids. Created by each load, silently, and dropped
-- at its end.
DO $$
BEGIN
    IF to_regclass('pg_temp.sinp_written') IS NULL THEN
        CREATE TEMP TABLE sinp_written (entity text NOT NULL, id integer NOT NULL, inserted boolean NOT NULL,
                                        relink boolean NOT NULL DEFAULT true);
        CREATE INDEX sinp_written_entity_id ON sinp_written (entity, id);
    END IF;
END
$$;
TRUNCATE sinp_written;

-- name: classify
-- Rows whose key is already in the target are marked when staged, before anything is written: the
-- checks and the warnings below read it, and the insert never looks into the table it is filling
-- (a plan that did could rescan it per row).
UPDATE {stage} AS s
   SET _exists = true
  FROM {table} AS t
 WHERE t.{key} = s.{key};

-- name: out of step
-- FORMAT.md §7's decisions, said to the provider, whose differential is then out of step with
-- this database: an I of a key present is applied as a U (EXISTING_KEY), a U of a key absent is
-- inserted (UPDATE_OF_MISSING_KEY), a D of a key absent changes nothing (DELETE_OF_MISSING_KEY).
-- The first $1 lines of each code, and how many rows have it.
SELECT o._line, o.key, o.code, o.total
  FROM (SELECT s._line, s.{key}::text AS key, c.code,
               count(*) OVER (PARTITION BY c.code) AS total,
               row_number() OVER (PARTITION BY c.code ORDER BY s._line) AS nth
          FROM {stage} AS s
         CROSS JOIN LATERAL (
               SELECT CASE WHEN s._action = 'I' AND s._exists THEN 'EXISTING_KEY'
                           WHEN s._action = 'U' AND NOT s._exists THEN 'UPDATE_OF_MISSING_KEY'
                           WHEN s._action = 'D' AND NOT s._exists THEN 'DELETE_OF_MISSING_KEY'
                      END AS code
               ) AS c
         WHERE c.code IS NOT NULL) AS o
 WHERE o.nth <= $1
 ORDER BY o._line;

-- name: foreign keys
-- The foreign keys on the table $1 ($2 = 'from') or that reference it ($2 = 'to'), read from the
-- catalog so that the checks miss none: the constraint, the table at the other end, the
-- referencing columns and the referenced ones, and what deleting a referenced row does (a NO
-- ACTION, r RESTRICT, c CASCADE, n SET NULL, d SET DEFAULT). A partitioned table's key is read
-- once, not per partition.
SELECT con.conname::text,
       pg_catalog.format('%I.%I', n.nspname, other.relname),
       pg_catalog.array_agg(pg_catalog.quote_ident(a.attname) ORDER BY k.ord),
       pg_catalog.array_agg(pg_catalog.quote_ident(ra.attname) ORDER BY k.ord),
       con.confdeltype::text
  FROM pg_catalog.pg_constraint AS con
  JOIN pg_catalog.pg_class AS other
    ON other.oid = CASE WHEN $2 = 'from' THEN con.confrelid ELSE con.conrelid END
  JOIN pg_catalog.pg_namespace AS n ON n.oid = other.relnamespace
 CROSS JOIN LATERAL ROWS FROM (pg_catalog.unnest(con.conkey), pg_catalog.unnest(con.confkey))
       WITH ORDINALITY AS k (attnum, ref_attnum, ord)
  JOIN pg_catalog.pg_attribute AS a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
  JOIN pg_catalog.pg_attribute AS ra ON ra.attrelid = con.confrelid AND ra.attnum = k.ref_attnum
 WHERE con.contype = 'f'
   AND con.conparentid = 0
   AND $1::pg_catalog.regclass = CASE WHEN $2 = 'from' THEN con.conrelid ELSE con.confrelid END
 GROUP BY con.oid, con.conname, n.nspname, other.relname, con.confdeltype
 ORDER BY con.oid;

-- name: foreign key values
-- The staged I and U rows whose values ({values}) the target's foreign key to {referenced} would
-- refuse: no referenced row matches ({matches}). MATCH SIMPLE: a key with a NULL is not checked.
SELECT s._line, concat_ws(', ', {values})
  FROM {stage} AS s
 WHERE s._action <> 'D' AND {not_null}
   AND NOT EXISTS (SELECT FROM {referenced} AS r WHERE {matches})
 ORDER BY s._line;

-- name: target checks
-- The CHECK constraints of the table $1 (a partitioned table's are read on it, once), with their
-- expression over the table's column names and the columns it reads, quoted, with their types.
SELECT con.conname::text,
       pg_catalog.pg_get_expr(con.conbin, con.conrelid),
       pg_catalog.array_agg(pg_catalog.quote_ident(a.attname) ORDER BY a.attnum),
       pg_catalog.array_agg(pg_catalog.format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)
  FROM pg_catalog.pg_constraint AS con
  JOIN pg_catalog.pg_attribute AS a ON a.attrelid = con.conrelid AND a.attnum = ANY (con.conkey)
 WHERE con.contype = 'c'
   AND con.conrelid = $1::pg_catalog.regclass
 GROUP BY con.oid, con.conname, con.conbin, con.conrelid
 ORDER BY con.oid;

-- name: target check values
-- The staged I and U rows the target's CHECK constraint would refuse: its expression
-- ({expression}, as the catalog gives it) is false over the row's staged values, each cast to the
-- target column's type and named as that column ({columns}). NULL passes, as in PostgreSQL.
SELECT t._line, concat_ws(', ', {values})
  FROM (SELECT s._line, {columns} FROM {stage} AS s WHERE s._action <> 'D') AS t
 WHERE NOT ({expression})
 ORDER BY t._line;

-- name: referenced deletes
-- The D rows of {stage} whose row of {table} rows of {referencing} still reference through the
-- foreign key {constraint} ({matches}): PostgreSQL would refuse the delete. Rows this archive
-- deletes too do not count ({not_deleted}): in a load they are gone already (D rows are applied
-- in reverse entity order, and before this check for the entity's own table), in a validation
-- they are still there. The line, the key, how many rows, and the first three.
SELECT s._line, s.{key}::text, refs.n, samples.first
  FROM {stage} AS s
  JOIN {table} AS t ON t.{key} = s.{key}
 CROSS JOIN LATERAL (
       SELECT count(*) AS n FROM {referencing} AS r WHERE {matches} AND {not_deleted}
       ) AS refs
 CROSS JOIN LATERAL (
       SELECT pg_catalog.string_agg(x.sample, ', ') AS first
         FROM (SELECT {sample} AS sample FROM {referencing} AS r
                WHERE {matches} AND {not_deleted} LIMIT 3) AS x
       ) AS samples
 WHERE s._action = 'D' AND refs.n > 0
 ORDER BY s._line;

-- name: upsert
-- I and U rows: a row whose key exists is updated when the archive's version (meta_update_date)
-- is newer, or the stored one unknown; a row whose key is absent is inserted (FORMAT.md §7).
-- The column lists and the version test are built from the entity's field table.
WITH updated AS (
    UPDATE {table} AS t
       SET {update_set}
      FROM {source} AS s
     WHERE s._action IN ('I', 'U')
       AND s._exists
       AND t.{key} = s.{key}
       AND ({newer})
 RETURNING t.{id} AS id, {relink} AS relink
), inserted AS (
    INSERT INTO {table} ({insert_columns})
    SELECT {insert_values}
      FROM {source} AS s
     WHERE s._action IN ('I', 'U')
       AND NOT s._exists
 RETURNING {id} AS id
)
INSERT INTO sinp_written (entity, id, inserted, relink)
SELECT '{entity}', id, false, relink FROM updated
UNION ALL
SELECT '{entity}', id, true, true FROM inserted;

-- name: classify synthese
-- As "classify", and an observation's stored geometry kept beside its row of the archive: an
-- update that leaves it as it was keeps its area links (most rows of a nightly differential).
-- Whether it is restricted as stored, too ({restricted}: sinp_import.restricted_condition('t')): the
-- change log notes the observations a load makes restricted ("log withdrawn").
ALTER TABLE {stage} ADD COLUMN IF NOT EXISTS _stored_geom public.geometry;
ALTER TABLE {stage} ADD COLUMN IF NOT EXISTS _stored_restricted boolean;
UPDATE {stage} AS s
   SET _exists = true, _stored_geom = t.the_geom_local, _stored_restricted = {restricted}
  FROM gn_synthese.synthese AS t
 WHERE t.unique_id_sinp = s.unique_id_sinp;

-- name: relink synthese
-- For the upsert's RETURNING: the updated observation's areas are computed again only when its
-- local geometry changed (exact equality: the same coordinates in the same order).
coalesce(NOT (t.the_geom_local OPERATOR(public.=) s._stored_geom), true)

-- name: delete
-- D rows, applied after every I and U row, entities in reverse order, as the caller (who needs
-- DELETE on the table).
DELETE FROM {table} AS t
 USING {stage} AS s
 WHERE s._action = 'D'
   AND t.{key} = s.{key}
RETURNING t.{key}::text;

-- name: delete synthese
-- An observation is only deleted by an archive of its own source (FORMAT.md §7).
DELETE FROM gn_synthese.synthese AS t
 USING {stage} AS s
 WHERE s._action = 'D'
   AND t.unique_id_sinp = s.unique_id_sinp
   AND t.id_source = s.id_source
RETURNING t.id_synthese::text;

-- name: log deletes synthese
-- Every deletion is logged in t_log_synthese, as GeoNature's tri_log_delete_synthese does; run
-- as the log's owner. $1: the ids "delete synthese" returned.
INSERT INTO gn_synthese.t_log_synthese (id_synthese, last_action, meta_last_action_date)
SELECT d.id::bigint, 'D', now() FROM pg_catalog.unnest($1::text[]) AS d(id)
ON CONFLICT (id_synthese) DO UPDATE SET last_action = 'D', meta_last_action_date = now();

-- name: unlink deletes synthese areas
-- The area links of the deleted observations: gone already where a foreign key cascades the
-- delete (GeoNature's), left behind where none can (a partitioned synthese, docs/partitioning.md).
-- Run as the links' owner. $1: the ids "delete synthese" returned.
DELETE FROM gn_synthese.cor_area_synthese AS c
 WHERE c.id_synthese = ANY ($1::text[]::integer[]);

-- name: unlink deletes synthese observers
-- The observer links of the deleted observations, likewise.
DELETE FROM gn_synthese.cor_observer_synthese AS c
 WHERE c.id_synthese = ANY ($1::text[]::integer[]);

-- name: source synthese
-- The synthese rows as they are written: the geometry read by PostGIS (EWKT, hex EWKB, or WKT
-- in the local SRID), or the attached area's geometry, projected to the local SRID and 4326.
-- GeoNature's geometry columns are 2D: Z and M are dropped (a warning counts them).
-- The attached area is looked up per row (LATERAL, by the key of l_areas; not at all for a row
-- without one): the rows come out in the order of the staging table whatever the batch's size
-- and plan, so that the ids follow the file.
SELECT s.*,
       g.geom_local                                              AS the_geom_local,
       public.ST_Transform(g.geom_input, 4326)                   AS the_geom_4326,
       public.ST_Transform(public.ST_Centroid(g.geom_local), 4326) AS the_geom_point,
       area.id_area                                              AS id_area_attachment,
       $1::varchar(50)                                           AS meta_v_taxref
  FROM {stage} AS s
  LEFT JOIN LATERAL (
       SELECT a.id_area, a.geom
         FROM ref_geo.l_areas AS a
         JOIN ref_geo.bib_areas_types AS area_type ON area_type.id_type = a.id_type
        WHERE s._area_code IS NOT NULL
          AND area_type.type_code = s._area_type AND a.area_code = s._area_code
       OFFSET 0
       ) AS area ON true
 CROSS JOIN LATERAL (
       SELECT i.geom_input, public.ST_Transform(i.geom_input, {local_srid}) AS geom_local
         FROM (SELECT CASE WHEN s._geom IS NULL THEN area.geom
                           WHEN public.ST_SRID(s._geom) = 0
                           THEN public.ST_SetSRID(public.ST_Force2D(s._geom), {local_srid})
                           ELSE public.ST_Force2D(s._geom)
                      END AS geom_input) AS i
       ) AS g

-- name: check synthese INVALID_ATTACHMENT_CODE code_area_attachment
SELECT s._line, s._area_type || '.' || s._area_code
  FROM {stage} AS s
 WHERE s._area_type IS NOT NULL
   AND NOT EXISTS (SELECT 1
                     FROM ref_geo.l_areas AS a
                     JOIN ref_geo.bib_areas_types AS t ON t.id_type = a.id_type
                    WHERE t.type_code = s._area_type AND a.area_code = s._area_code)
 ORDER BY s._line;

-- name: check synthese UNKNOWN_SRID geom
SELECT s._line, public.ST_SRID(s._geom)::text
  FROM {stage} AS s
 WHERE s._geom IS NOT NULL
   AND public.ST_SRID(s._geom) <> 0
   AND NOT EXISTS (SELECT 1 FROM public.spatial_ref_sys AS r WHERE r.srid = public.ST_SRID(s._geom))
 ORDER BY s._line;

-- name: check synthese INVALID_GEOMETRY geom projection
-- A geometry PostGIS cannot project into the local SRID would stop the load with an ERROR: it is
-- a row problem instead (most often longitude and latitude swapped, or out of their range).
SELECT p.line, p.geom,
       'cannot be projected to the local SRID {local_srid}: ' || p.reason
       || CASE WHEN r.proj4text LIKE '%+proj=longlat%'
                    AND (public.ST_XMin(s._geom) < -180 OR public.ST_XMax(s._geom) > 180
                         OR public.ST_YMin(s._geom) < -90 OR public.ST_YMax(s._geom) > 90)
               THEN ' (longitude must be within -180..180 and latitude within -90..90: are X and Y swapped?)'
               ELSE ''
          END
  FROM sinp_import.unprojectable_geometries('{stage}', {local_srid}) AS p
  JOIN {stage} AS s ON s._line = p.line
  JOIN public.spatial_ref_sys AS r ON r.srid = public.ST_SRID(s._geom)
 ORDER BY p.line;

-- name: check synthese INVALID_GEOMETRY geom
-- Readable but not valid (self-intersections...): GeoNature cannot compute its areas reliably.
SELECT s._line, left(public.ST_AsText(s._geom), 200), (public.ST_IsValidDetail(s._geom)).reason
  FROM {stage} AS s
 WHERE s._geom IS NOT NULL
   AND public.GeometryType(s._geom) NOT IN ('POINT', 'MULTIPOINT')
   AND NOT (public.ST_IsValidDetail(s._geom)).valid
 ORDER BY s._line;

-- name: prepare synthese sources
-- A D row needs only its key (FORMAT.md §5): one that names no source stands for the source the
-- other rows of its file name, when they name only one; the checks and the delete then take it
-- as that source's row (otherwise it names none, and deletes nothing of any source).
UPDATE {stage} AS s
   SET id_source = a.id_source
  FROM (SELECT min(o.id_source) AS id_source
          FROM {stage} AS o
         WHERE o.id_source IS NOT NULL
        HAVING count(DISTINCT o.id_source) = 1) AS a
 WHERE s._action = 'D' AND s.id_source IS NULL;

-- name: check synthese FOREIGN_SOURCE_ROW code_source
-- An observation is updated or deleted only by an archive of its own source (FORMAT.md §7; the
-- scripts this format came from deleted across sources). Refused: a row (I, U or D) whose key is
-- an observation of another source in the database, or is on an earlier line of this file under
-- another source. The value is the source the row names.
SELECT s._line, named.name_source,
       'the observation ' || s.unique_id_sinp || ' belongs to the source "' || owner.name_source
       || '": only an archive of that source may update or delete it'
  FROM {stage} AS s
  JOIN gn_synthese.synthese AS t ON t.unique_id_sinp = s.unique_id_sinp
  JOIN gn_synthese.t_sources AS owner ON owner.id_source = t.id_source
  LEFT JOIN gn_synthese.t_sources AS named ON named.id_source = s.id_source
 WHERE s._exists AND s.id_source IS DISTINCT FROM t.id_source
UNION ALL
SELECT d._line, named.name_source,
       'the observation ' || d.unique_id_sinp || ' is also on line ' || d.first_line
       || ' under another source: an observation belongs to one source'
  FROM (SELECT s._line, s.unique_id_sinp, s.id_source,
               first_value(s._line) OVER w AS first_line,
               first_value(s.id_source) OVER w AS first_source
          FROM {stage} AS s
         WHERE NOT s._exists
           AND s.unique_id_sinp IN (SELECT o.unique_id_sinp FROM {stage} AS o
                                     GROUP BY o.unique_id_sinp HAVING count(*) > 1)
        WINDOW w AS (PARTITION BY s.unique_id_sinp ORDER BY s._line)) AS d
  LEFT JOIN gn_synthese.t_sources AS named ON named.id_source = d.id_source
 WHERE d.id_source IS DISTINCT FROM d.first_source
 ORDER BY 1;

-- name: check synthese CD_NOM_NOT_FOUND cd_nom
-- Where no foreign key to taxonomie.taxref enforces it (GeoNature has one: then "check foreign
-- key" finds these rows), only when taxref has rows (an empty taxref means: do not check).
SELECT s._line, s.cd_nom::text
  FROM {stage} AS s
 WHERE s.cd_nom IS NOT NULL
   AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint AS k
                    WHERE k.conrelid = 'gn_synthese.synthese'::pg_catalog.regclass
                      AND k.confrelid = 'taxonomie.taxref'::pg_catalog.regclass AND k.contype = 'f')
   AND EXISTS (SELECT 1 FROM taxonomie.taxref)
   AND NOT EXISTS (SELECT 1 FROM taxonomie.taxref AS t WHERE t.cd_nom = s.cd_nom)
 ORDER BY s._line;

-- name: check acquisition_framework PARENT_NOT_FOUND parent_code
-- A parent may come later in the same file, or already be in the database.
SELECT s._line, s._parent_code
  FROM {stage} AS s
 WHERE s._parent_code IS NOT NULL
   AND s._action <> 'D'
   AND NOT EXISTS (SELECT 1 FROM {stage} AS p
                    WHERE p.unique_acquisition_framework_id::text = lower(s._parent_code))
   AND NOT EXISTS (SELECT 1 FROM gn_meta.t_acquisition_frameworks AS p
                    WHERE p.unique_acquisition_framework_id::text = lower(s._parent_code)
                       OR p.acquisition_framework_name = s._parent_code)
 ORDER BY s._line;

-- name: check organism ORGANISM_NAME_CONFLICT name
-- Organism names are unique (uq_bib_organismes_nom_organisme): another organism, with another
-- UUID, already has this name, in the database or in this file.
SELECT s._line, s.nom_organisme
  FROM {stage} AS s
 WHERE s._action <> 'D'
   AND (EXISTS (SELECT 1 FROM utilisateurs.bib_organismes AS o
                 WHERE o.nom_organisme = s.nom_organisme AND o.uuid_organisme <> s.uuid_organisme)
        OR EXISTS (SELECT 1 FROM {stage} AS o
                    WHERE o.nom_organisme = s.nom_organisme AND o.uuid_organisme <> s.uuid_organisme))
 ORDER BY s._line;

-- name: check user USER_IDENTIFIER_CONFLICT identifier
-- Logins are unique: another user, with another UUID, already has this identifier.
SELECT s._line, s.identifiant
  FROM {stage} AS s
 WHERE s._action <> 'D'
   AND (EXISTS (SELECT 1 FROM utilisateurs.t_roles AS r
                 WHERE r.identifiant = s.identifiant AND r.uuid_role <> s.uuid_role)
        OR EXISTS (SELECT 1 FROM {stage} AS r
                    WHERE r.identifiant = s.identifiant AND r.uuid_role <> s.uuid_role))
 ORDER BY s._line;

-- name: post acquisition_framework parents
-- Parents are linked once every framework of the file is written, so their order is free.
UPDATE gn_meta.t_acquisition_frameworks AS t
   SET acquisition_framework_parent_id = parent.id_acquisition_framework
  FROM {stage} AS s
  JOIN gn_meta.t_acquisition_frameworks AS parent
    ON parent.unique_acquisition_framework_id::text = lower(s._parent_code)
    OR parent.acquisition_framework_name = s._parent_code
 WHERE t.unique_acquisition_framework_id = s.unique_acquisition_framework_id
   AND t.id_acquisition_framework IN (SELECT id FROM sinp_written WHERE entity = '{entity}');

-- name: links acquisition_framework cor_objectifs
-- Link rows of a written entity are replaced by the archive's.
DELETE FROM gn_meta.cor_acquisition_framework_objectif
 WHERE id_acquisition_framework IN (SELECT id FROM sinp_written WHERE entity = '{entity}');
INSERT INTO gn_meta.cor_acquisition_framework_objectif (id_acquisition_framework, id_nomenclature_objectif)
SELECT DISTINCT t.id_acquisition_framework, item::int
  FROM {stage} AS s
  JOIN gn_meta.t_acquisition_frameworks AS t ON t.unique_acquisition_framework_id = s.unique_acquisition_framework_id
  JOIN sinp_written AS w ON w.entity = '{entity}' AND w.id = t.id_acquisition_framework
 CROSS JOIN LATERAL jsonb_array_elements_text(s._cor_objectifs) AS item;

-- name: links acquisition_framework cor_voletsinp
DELETE FROM gn_meta.cor_acquisition_framework_voletsinp
 WHERE id_acquisition_framework IN (SELECT id FROM sinp_written WHERE entity = '{entity}');
INSERT INTO gn_meta.cor_acquisition_framework_voletsinp (id_acquisition_framework, id_nomenclature_voletsinp)
SELECT DISTINCT t.id_acquisition_framework, item::int
  FROM {stage} AS s
  JOIN gn_meta.t_acquisition_frameworks AS t ON t.unique_acquisition_framework_id = s.unique_acquisition_framework_id
  JOIN sinp_written AS w ON w.entity = '{entity}' AND w.id = t.id_acquisition_framework
 CROSS JOIN LATERAL jsonb_array_elements_text(s._cor_voletsinp) AS item;

-- name: links acquisition_framework cor_actors_organism
DELETE FROM gn_meta.cor_acquisition_framework_actor
 WHERE id_organism IS NOT NULL
   AND id_acquisition_framework IN (SELECT id FROM sinp_written WHERE entity = '{entity}');
INSERT INTO gn_meta.cor_acquisition_framework_actor (id_acquisition_framework, id_organism, id_nomenclature_actor_role)
SELECT DISTINCT t.id_acquisition_framework, (item->>'id_organism')::int, (item->>'id_nomenclature_actor_role')::int
  FROM {stage} AS s
  JOIN gn_meta.t_acquisition_frameworks AS t ON t.unique_acquisition_framework_id = s.unique_acquisition_framework_id
  JOIN sinp_written AS w ON w.entity = '{entity}' AND w.id = t.id_acquisition_framework
 CROSS JOIN LATERAL jsonb_array_elements(s._cor_actors_organism) AS item;

-- name: links acquisition_framework cor_actors_user
DELETE FROM gn_meta.cor_acquisition_framework_actor
 WHERE id_role IS NOT NULL
   AND id_acquisition_framework IN (SELECT id FROM sinp_written WHERE entity = '{entity}');
INSERT INTO gn_meta.cor_acquisition_framework_actor (id_acquisition_framework, id_role, id_nomenclature_actor_role)
SELECT DISTINCT t.id_acquisition_framework, (item->>'id_role')::int, (item->>'id_nomenclature_actor_role')::int
  FROM {stage} AS s
  JOIN gn_meta.t_acquisition_frameworks AS t ON t.unique_acquisition_framework_id = s.unique_acquisition_framework_id
  JOIN sinp_written AS w ON w.entity = '{entity}' AND w.id = t.id_acquisition_framework
 CROSS JOIN LATERAL jsonb_array_elements(s._cor_actors_user) AS item;

-- name: links acquisition_framework cor_publications
-- Publications are shared: upserted by their UUID, then linked.
INSERT INTO gn_meta.sinp_datatype_publications (unique_publication_id, publication_reference, publication_url)
SELECT DISTINCT ON ((item->>'uuid')::uuid) (item->>'uuid')::uuid, item->>'reference', item->>'url'
  FROM {stage} AS s
 CROSS JOIN LATERAL jsonb_array_elements(s._cor_publications) AS item
 WHERE s._action <> 'D'
ON CONFLICT (unique_publication_id) DO UPDATE
   SET publication_reference = excluded.publication_reference,
       publication_url = excluded.publication_url;
DELETE FROM gn_meta.cor_acquisition_framework_publication
 WHERE id_acquisition_framework IN (SELECT id FROM sinp_written WHERE entity = '{entity}');
INSERT INTO gn_meta.cor_acquisition_framework_publication (id_acquisition_framework, id_publication)
SELECT DISTINCT t.id_acquisition_framework, p.id_publication
  FROM {stage} AS s
  JOIN gn_meta.t_acquisition_frameworks AS t ON t.unique_acquisition_framework_id = s.unique_acquisition_framework_id
  JOIN sinp_written AS w ON w.entity = '{entity}' AND w.id = t.id_acquisition_framework
 CROSS JOIN LATERAL jsonb_array_elements(s._cor_publications) AS item
  JOIN gn_meta.sinp_datatype_publications AS p ON p.unique_publication_id = (item->>'uuid')::uuid;

-- name: links dataset cor_territory
DELETE FROM gn_meta.cor_dataset_territory
 WHERE id_dataset IN (SELECT id FROM sinp_written WHERE entity = '{entity}');
INSERT INTO gn_meta.cor_dataset_territory (id_dataset, id_nomenclature_territory, territory_desc)
SELECT DISTINCT ON (t.id_dataset, (item->>'id_nomenclature_territory')::int)
       t.id_dataset, (item->>'id_nomenclature_territory')::int, item->>'territory_desc'
  FROM {stage} AS s
  JOIN gn_meta.t_datasets AS t ON t.unique_dataset_id = s.unique_dataset_id
  JOIN sinp_written AS w ON w.entity = '{entity}' AND w.id = t.id_dataset
 CROSS JOIN LATERAL jsonb_array_elements(s._cor_territory) AS item;

-- name: links dataset cor_actors_organism
DELETE FROM gn_meta.cor_dataset_actor
 WHERE id_organism IS NOT NULL
   AND id_dataset IN (SELECT id FROM sinp_written WHERE entity = '{entity}');
INSERT INTO gn_meta.cor_dataset_actor (id_dataset, id_organism, id_nomenclature_actor_role)
SELECT DISTINCT t.id_dataset, (item->>'id_organism')::int, (item->>'id_nomenclature_actor_role')::int
  FROM {stage} AS s
  JOIN gn_meta.t_datasets AS t ON t.unique_dataset_id = s.unique_dataset_id
  JOIN sinp_written AS w ON w.entity = '{entity}' AND w.id = t.id_dataset
 CROSS JOIN LATERAL jsonb_array_elements(s._cor_actors_organism) AS item;

-- name: links dataset cor_actors_user
DELETE FROM gn_meta.cor_dataset_actor
 WHERE id_role IS NOT NULL
   AND id_dataset IN (SELECT id FROM sinp_written WHERE entity = '{entity}');
INSERT INTO gn_meta.cor_dataset_actor (id_dataset, id_role, id_nomenclature_actor_role)
SELECT DISTINCT t.id_dataset, (item->>'id_role')::int, (item->>'id_nomenclature_actor_role')::int
  FROM {stage} AS s
  JOIN gn_meta.t_datasets AS t ON t.unique_dataset_id = s.unique_dataset_id
  JOIN sinp_written AS w ON w.entity = '{entity}' AND w.id = t.id_dataset
 CROSS JOIN LATERAL jsonb_array_elements(s._cor_actors_user) AS item;

-- name: post synthese observers
-- Every [uuid] of observers that names a user links the observation to that user. The links of
-- updated observations are replaced (a delete queues no foreign-key checks: one statement).
-- The ids as an array: the link table is read by its key, not scanned whole (a hash join the
-- planner chose read all its rows for the 10 000 of a nightly differential).
DELETE FROM gn_synthese.cor_observer_synthese AS c
 WHERE c.id_synthese = ANY (ARRAY(SELECT w.id FROM sinp_written AS w
                                   WHERE w.entity = 'synthese' AND NOT w.inserted));

-- name: post synthese observer links
-- By batches of the staging table's pages (a TID range each), read in their physical
-- order, so that the queue of foreign-key checks stays small and no batch reads the staging
-- table at random (a TEMP table larger than temp_buffers is read from disk). Inserted rows got
-- their ids in that same order, so the lookups of sinp_written follow it too. The observation is
-- found by its key (OFFSET 0 keeps the index lookup: a hash join would read the whole synthese
-- table once per batch).
INSERT INTO gn_synthese.cor_observer_synthese (id_synthese, id_role)
SELECT DISTINCT t.id_synthese, r.id_role
  FROM {stage} AS s
 CROSS JOIN LATERAL (
       SELECT t.id_synthese
         FROM gn_synthese.synthese AS t
        WHERE t.unique_id_sinp = s.unique_id_sinp
          AND EXISTS (SELECT 1 FROM sinp_written AS w WHERE w.entity = 'synthese' AND w.id = t.id_synthese)
       OFFSET 0
       ) AS t
 CROSS JOIN LATERAL unnest(s._observer_uuids) AS o(uuid_role)
  JOIN utilisateurs.t_roles AS r ON r.uuid_role = o.uuid_role
 WHERE s._observer_uuids IS NOT NULL AND s._action IN ('I', 'U') AND {stage_batch};

-- name: post synthese areas
-- The work of tri_insert_cor_area_synthese / tri_update_cor_area_synthese, done once: every
-- enabled area the local geometry intersects (for shapes other than points: not only touches).
-- The links of updated observations are replaced (one statement: a delete queues no checks).
-- Only for updated observations whose geometry changed; the ids as an array (the key is read).
DELETE FROM gn_synthese.cor_area_synthese AS c
 WHERE c.id_synthese = ANY (ARRAY(SELECT w.id FROM sinp_written AS w
                                   WHERE w.entity = 'synthese' AND NOT w.inserted AND w.relink));

-- name: post synthese area links
-- By batches of written ids ({batch}), so that the queue of foreign-key checks stays small; each
-- written row read by primary key. Observations sharing a geometry (the same site, the same
-- attached commune) are grouped, so that the areas of each distinct geometry are computed once;
-- the candidates come from the GiST index of l_areas.geom (OFFSET 0 keeps that plan: the planner
-- may not turn it into a scan of the areas). Geometry equality is exact (same coordinates, same
-- order, same SRID).
INSERT INTO gn_synthese.cor_area_synthese (id_synthese, id_area)
SELECT o.id_synthese, a.id_area
  FROM (SELECT t.the_geom_local AS geom, array_agg(t.id_synthese) AS ids
          FROM sinp_written AS w
         CROSS JOIN LATERAL (
               SELECT t.id_synthese, t.the_geom_local FROM gn_synthese.synthese AS t
                WHERE t.id_synthese = w.id AND t.the_geom_local IS NOT NULL OFFSET 0
               ) AS t
         WHERE w.entity = 'synthese' AND w.relink AND {batch}
         GROUP BY t.the_geom_local) AS g
 CROSS JOIN LATERAL (
       SELECT a.id_area
         FROM ref_geo.l_areas AS a
        WHERE a.enable
          AND public.ST_Intersects(a.geom, g.geom)
          AND (public.GeometryType(g.geom) IN ('POINT', 'MULTIPOINT')
               OR NOT public.ST_Touches(a.geom, g.geom))
       OFFSET 0
       ) AS a
 CROSS JOIN LATERAL unnest(g.ids) AS o(id_synthese);

-- name: validations synthese
-- GeoNature's validation module reads an observation's validation from gn_commons.t_validations, one
-- row per validation of the observation's unique_id_sinp, as GeoNature's own imports write it. The
-- written observations that carry a validation (a status other than 0, "waiting for validation", a
-- validator or a validation date) get the archive's; those of updated observations are replaced.
-- Run only where the table exists; its trigger that rewrites the synthese from it is disabled.
WITH replaced AS (
    DELETE FROM gn_commons.t_validations AS v
     WHERE v.uuid_attached_row IN (SELECT t.unique_id_sinp
                                     FROM sinp_written AS w
                                     JOIN gn_synthese.synthese AS t ON t.id_synthese = w.id
                                    WHERE w.entity = 'synthese' AND NOT w.inserted)
)
INSERT INTO gn_commons.t_validations
       (uuid_attached_row, id_nomenclature_valid_status, validation_comment, validation_date)
SELECT t.unique_id_sinp, t.id_nomenclature_valid_status, t.validation_comment, t.meta_validation_date
  FROM sinp_written AS w
  JOIN gn_synthese.synthese AS t ON t.id_synthese = w.id
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS n ON n.id_nomenclature = t.id_nomenclature_valid_status
 WHERE w.entity = 'synthese'
   AND ((n.cd_nomenclature IS NOT NULL AND n.cd_nomenclature <> '0')
        OR t.validator IS NOT NULL OR t.meta_validation_date IS NOT NULL);

-- name: validations synthese deleted
-- The validations of the observations the archive deleted (D rows of {stage} whose observation is
-- gone: a refused delete keeps its observation and its validations).
DELETE FROM gn_commons.t_validations AS v
 USING {stage} AS s
 WHERE s._action = 'D'
   AND v.uuid_attached_row = s.unique_id_sinp
   AND NOT EXISTS (SELECT FROM gn_synthese.synthese AS t WHERE t.unique_id_sinp = s.unique_id_sinp);

-- name: sensitivity synthese
-- The work of GeoNature's tri_insert_calculate_sensitivity / tri_update_calculate_sensitivity, done
-- once for the written observations, set-based: the rules of gn_sensitivity (as its function
-- get_id_nomenclature_sensitivity reads them: the observation's cd_ref, its day of the year, its
-- year within the rule's duration, its local geometry within the rule's areas, its biological
-- status or behaviour among the rule's criteria; the strictest matching rule wins). Unlike
-- GeoNature's triggers, the result never lowers what the archive declared: the stricter of the two
-- is kept (an observation the archive left without one was staged as code 0, "not sensitive", as
-- GeoNature's function says of what no rule covers). Returns how many the rules raised.
WITH candidates AS (
    SELECT t.id_synthese, t.date_min::date AS day, t.the_geom_local AS geom, x.cd_ref,
           t.id_nomenclature_bio_status AS bio_status, t.id_nomenclature_behaviour AS behaviour
      FROM sinp_written AS w
      JOIN gn_synthese.synthese AS t ON t.id_synthese = w.id
      JOIN taxonomie.taxref AS x ON x.cd_nom = t.cd_nom
     WHERE w.entity = 'synthese'
       AND x.cd_ref IN (SELECT r.cd_ref FROM gn_sensitivity.t_sensitivity_rules_cd_ref AS r)
), computed AS (
    SELECT DISTINCT ON (o.id_synthese) o.id_synthese, r.id_nomenclature_sensitivity, n.cd_nomenclature
      FROM candidates AS o
      JOIN gn_sensitivity.t_sensitivity_rules_cd_ref AS r ON r.cd_ref = o.cd_ref
      JOIN ref_nomenclatures.t_nomenclatures AS n ON n.id_nomenclature = r.id_nomenclature_sensitivity
      LEFT JOIN gn_sensitivity.cor_sensitivity_area AS ra ON ra.id_sensitivity = r.id_sensitivity
      LEFT JOIN ref_geo.l_areas AS a ON a.id_area = ra.id_area
      LEFT JOIN gn_sensitivity.cor_sensitivity_criteria AS c ON c.id_sensitivity = r.id_sensitivity
     WHERE (a.geom IS NULL OR public.ST_Intersects(o.geom, a.geom))
       AND to_char(o.day, 'MMDD') BETWEEN to_char(r.date_min, 'MMDD') AND to_char(r.date_max, 'MMDD')
       AND date_part('year', CURRENT_TIMESTAMP) - r.sensitivity_duration <= date_part('year', o.day)
       AND (c.id_criteria IS NULL OR c.id_criteria IN (o.bio_status, o.behaviour))
     ORDER BY o.id_synthese, n.cd_nomenclature DESC
), raised AS (
    UPDATE gn_synthese.synthese AS t
       SET id_nomenclature_sensitivity = c.id_nomenclature_sensitivity
      FROM computed AS c
     WHERE t.id_synthese = c.id_synthese
       AND (t.id_nomenclature_sensitivity IS NULL
            OR (SELECT d.cd_nomenclature FROM ref_nomenclatures.t_nomenclatures AS d
                 WHERE d.id_nomenclature = t.id_nomenclature_sensitivity) < c.cd_nomenclature)
    RETURNING t.id_synthese
)
SELECT count(*) FROM raised;

-- name: unchecked links
-- Whether the post-work may insert into {table} with session_replication_role = replica for that
-- statement only: then PostgreSQL does not check the foreign keys of each new row (a check is a
-- query per row and key: half the time of the area links), and "link keys" below checks them
-- afterwards, once per referenced row. The link rows are made by joining the rows they reference,
-- so a failed check can only mean a concurrent delete. Allowed when the role may set the
-- parameter (superuser, or GRANT SET ON PARAMETER session_replication_role) and replica mode would
-- skip nothing else on the table: no rules, and no enabled trigger but foreign-key ones (the
-- triggers the loader replaces are disabled by now; any other keeps the per-row checks, as
-- DESIGN.md says of unknown triggers). Only for a caller with the owner's privileges: a writer
-- that does not own the table writes its rows with every check (src/load/owner.rs).
SELECT has_parameter_privilege('session_replication_role', 'SET')
       AND pg_has_role(c.relowner, 'USAGE')
       AND NOT c.relhasrules
       AND NOT EXISTS (SELECT FROM pg_trigger AS t
                        WHERE t.tgrelid = c.oid
                          AND t.tgenabled <> 'D'
                          AND NOT (t.tgisinternal
                                   AND t.tgfoid IN (SELECT p.oid FROM pg_proc AS p
                                                     WHERE p.pronamespace = 'pg_catalog'::regnamespace
                                                       AND p.proname LIKE 'RI\_FKey\_%')))
  FROM pg_class AS c
 WHERE c.oid = '{table}'::regclass;

-- name: link keys
-- Run, after a link table was filled unchecked, for each of its foreign keys but the one to the
-- written rows (c.{owner}: this load wrote them and holds them until it commits). The rows the
-- new links reference are locked as a check would lock them (FOR KEY SHARE, which only a delete
-- or a key change waits for), and one that another transaction deleted since it was read is not
-- found: the count of such rows, and one of them. {columns} are the link's columns, {matches} the
-- key's equalities (MATCH SIMPLE: a link with a NULL key column is not checked).
SELECT count(*), min(concat_ws(', ', {used_columns}))
  FROM (SELECT DISTINCT {columns}
          FROM sinp_written AS w
          JOIN {table} AS c ON c.{owner} = w.id
         WHERE w.entity = '{entity}' AND {not_null}) AS used
 WHERE NOT EXISTS (SELECT FROM {referenced} AS r
                    WHERE {matches}
                      FOR KEY SHARE OF r);

-- name: additional fields
-- The description of additional fields (meta_additional_data.csv), one statement for the file:
-- a field described again takes the new description. $1 the provider, $2 the import, $3 the
-- descriptions as a JSON array of objects.
INSERT INTO sinp_import.additional_fields AS f
       (provider, resource, name, description, keyword, field_type, unity, import_id)
SELECT $1, d.resource, d.name, d.description, d.keyword, d.field_type, d.unity, $2
  FROM jsonb_to_recordset($3::jsonb)
       AS d(resource text, name text, description text, keyword text, field_type text, unity text)
    ON CONFLICT (provider, resource, name) DO UPDATE
   SET description = excluded.description, keyword = excluded.keyword,
       field_type = excluded.field_type, unity = excluded.unity,
       import_id = excluded.import_id, updated_at = now();

-- name: new rows
-- How many staged rows of {stage} the write inserts (after "classify"): sinp_import.rebuild_indexes
-- compares them with the rows {table} already holds ("held rows").
SELECT (SELECT count(*) FROM {stage} WHERE _action IN ('I', 'U') AND NOT _exists);

-- name: held rows
-- Counted up to $1, one more than the new rows: a large table is not scanned to the end.
SELECT count(*) FROM (SELECT FROM {table} LIMIT $1) AS held;

-- name: table owned
SELECT pg_has_role(relowner, 'USAGE') AND relkind IN ('r', 'p') FROM pg_class WHERE oid = '{table}'::regclass;

-- name: deferrable indexes
-- sinp_import.rebuild_indexes: the indexes of {table} a load that at least doubles the table drops
-- before writing and builds once after (a build sorts the rows; maintenance inserts them one by
-- one into every index). Plain ones only: an index behind a constraint or unique checks the rows
-- as they are written, and one that carries more than its definition, tablespace and comment (a
-- CLUSTER mark, statistics targets, dependent objects, a partition's, invalid or being built) is
-- left as it is. A partitioned table's index is built again on every partition (its definition
-- without ONLY); its partitions' indexes are its only dependents. Its name, definition,
-- tablespace and comment.
SELECT c.oid::regclass::text,
       CASE WHEN c.relkind = 'I' THEN regexp_replace(pg_get_indexdef(c.oid), ' ON ONLY ', ' ON ')
            ELSE pg_get_indexdef(c.oid) END,
       s.spcname, obj_description(c.oid, 'pg_class')
  FROM pg_index AS i
  JOIN pg_class AS c ON c.oid = i.indexrelid
  LEFT JOIN pg_tablespace AS s ON s.oid = c.reltablespace
 WHERE i.indrelid = '{table}'::regclass
   AND NOT (i.indisunique OR i.indisexclusion OR i.indisclustered OR i.indisreplident
            OR c.relispartition)
   AND i.indisvalid AND i.indisready AND i.indislive
   AND NOT EXISTS (SELECT FROM pg_constraint AS k WHERE k.conindid = c.oid)
   AND NOT EXISTS (SELECT FROM pg_depend AS d
                    WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = c.oid
                      AND NOT (c.relkind = 'I' AND d.deptype = 'P'))
   AND NOT EXISTS (SELECT FROM pg_attribute AS a
                    WHERE a.attrelid = c.oid AND a.attstattarget <> -1)
 ORDER BY c.oid;

-- name: log written
-- The change log (sql/changes.sql), when log_changes() installed it: the rows this load inserted
-- or updated, with the time, as its disabled write triggers would have recorded them. Run as the
-- log's owner.
INSERT INTO sinp_import.changed_rows AS c (entity, id, created_at, changed_at)
SELECT DISTINCT ON (w.entity, w.id) w.entity, w.id,
       CASE WHEN w.inserted THEN pg_catalog.clock_timestamp() END, pg_catalog.clock_timestamp()
  FROM sinp_written AS w
 WHERE w.entity IN (SELECT l.entity FROM sinp_import.logged_tables AS l)
 ORDER BY w.entity, w.id, w.inserted DESC
ON CONFLICT (entity, id) DO UPDATE
   SET changed_at = excluded.changed_at, created_at = coalesce(c.created_at, excluded.created_at);

-- name: log withdrawn
-- The observations this load made restricted (unrestricted as stored before it, restricted now,
-- the sensitivity rules applied): a differential export that leaves restricted observations out
-- sends their D rows, since their receivers may have them ({stage}: the synthese's staging
-- table, {restricted}: sinp_import.restricted_condition('t')).
UPDATE sinp_import.changed_rows AS c
   SET withdrawn_at = pg_catalog.clock_timestamp()
  FROM sinp_written AS w
  JOIN gn_synthese.synthese AS t ON t.id_synthese = w.id
  JOIN {stage} AS s ON s.unique_id_sinp = t.unique_id_sinp
 WHERE w.entity = 'synthese' AND NOT w.inserted
   AND c.entity = 'synthese' AND c.id = w.id
   AND s._exists AND NOT coalesce(s._stored_restricted, true) AND {restricted};
