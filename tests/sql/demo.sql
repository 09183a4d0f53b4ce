-- make demo: run by psql on a fresh database; :archives is the folder of the sample archives.
\set QUIET on
\pset footer off
-- Loads report their steps as NOTICEs; the demo shows only the WARNING that summarises problems.
SET client_min_messages = warning;
CREATE EXTENSION sinp_import CASCADE;
\echo
\echo '== 1. A GeoNature-compatible target (the database has no GeoNature)'
SELECT sinp_import.create_target_schema();
\ir areas.sql
\ir referentials.sql
SELECT type_code, count(*) AS areas FROM ref_geo.l_areas JOIN ref_geo.bib_areas_types USING (id_type) GROUP BY 1 ORDER BY 1;

\echo '== 2. The real CEN PACA observations (897 rows, format 1.0 archive)'
SELECT * FROM sinp_import.load_archive(:'archives' || '/2020-02-13_sinp_paca_cenpaca.zip');

\echo '== 3. A synthetic archive with every column, link kind and geometry spelling'
\timing on
SELECT * FROM sinp_import.load_archive(:'archives' || '/2020-08-26_sinp_paca_demo.zip');
\timing off

\echo '== 4. The same archive again: nothing to do'
SELECT import_id, status, entity, inserted FROM sinp_import.load_archive(:'archives' || '/2020-08-26_sinp_paca_demo.zip') WHERE entity = 'synthese';

\echo '== 5. Rows per table'
SELECT 'gn_synthese.t_sources' AS "table", count(*) AS rows FROM gn_synthese.t_sources
UNION ALL SELECT 'utilisateurs.bib_organismes', count(*) FROM utilisateurs.bib_organismes
UNION ALL SELECT 'utilisateurs.t_roles', count(*) FROM utilisateurs.t_roles
UNION ALL SELECT 'gn_meta.t_acquisition_frameworks', count(*) FROM gn_meta.t_acquisition_frameworks
UNION ALL SELECT 'gn_meta.t_datasets', count(*) FROM gn_meta.t_datasets
UNION ALL SELECT 'gn_synthese.synthese', count(*) FROM gn_synthese.synthese
UNION ALL SELECT 'gn_synthese.cor_observer_synthese', count(*) FROM gn_synthese.cor_observer_synthese
UNION ALL SELECT 'gn_synthese.cor_area_synthese', count(*) FROM gn_synthese.cor_area_synthese;

\echo '== 6. A few observations with their nomenclature labels and coordinates'
SELECT s.nom_cite, s.date_min, d.dataset_shortname AS dataset,
       obs.label_default AS "statut d'observation", sex.label_default AS sexe,
       meth.label_default AS "méthode d'observation",
       round(public.ST_X(s.the_geom_point)::numeric, 4) AS lon,
       round(public.ST_Y(s.the_geom_point)::numeric, 4) AS lat
  FROM gn_synthese.synthese AS s
  JOIN gn_meta.t_datasets AS d USING (id_dataset)
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS obs ON obs.id_nomenclature = s.id_nomenclature_observation_status
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS sex ON sex.id_nomenclature = s.id_nomenclature_sex
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS meth ON meth.id_nomenclature = s.id_nomenclature_obs_technique
 ORDER BY s.id_synthese
 LIMIT 6;

\echo '== 7. The import journal'
SELECT import_id, archive_name, status, inserted, error_count, warning_count, duration
  FROM sinp_import.imports ORDER BY import_id;

\echo '== 8. The inbox: what CALL sinp_import.load_inbox() (pg_cron, nightly) would load from this folder'
SELECT archive_name, archive_date, provider, state, import_id FROM sinp_import.inbox(:'archives');
\echo 'Open it with: make psql'
