-- The export benchmark's baseline (sinp-bench-export, docs/benchmarks.md): the observations'
-- records as export_archive() writes them (every field of synthese.csv in file order, as text:
-- nomenclatures as codes, links by UUID, the local geometry as EWKT, dates to the microsecond),
-- the codes joined; what a producer's own `COPY (SELECT ...) TO` would write, uncompressed.
SELECT s.unique_id_sinp::text,
       s.unique_id_sinp_grp::text,
       s.entity_source_pk_value::text,
       NULL::text,
       src.name_source::text,
       ds.unique_dataset_id::text,
       n0.cd_nomenclature::text,
       n1.cd_nomenclature::text,
       n2.cd_nomenclature::text,
       n3.cd_nomenclature::text,
       n4.cd_nomenclature::text,
       n5.cd_nomenclature::text,
       n6.cd_nomenclature::text,
       n7.cd_nomenclature::text,
       n8.cd_nomenclature::text,
       n9.cd_nomenclature::text,
       n10.cd_nomenclature::text,
       n11.cd_nomenclature::text,
       n12.cd_nomenclature::text,
       n13.cd_nomenclature::text,
       n14.cd_nomenclature::text,
       n15.cd_nomenclature::text,
       n16.cd_nomenclature::text,
       n17.cd_nomenclature::text,
       n18.cd_nomenclature::text,
       n19.cd_nomenclature::text,
       n20.cd_nomenclature::text,
       s.grp_method::text,
       s.reference_biblio::text,
       s.count_min::text,
       s.count_max::text,
       s.cd_nom::text,
       s.cd_hab::text,
       s.nom_cite::text,
       s.digital_proof::text,
       s.non_digital_proof::text,
       s.altitude_min::text,
       s.altitude_max::text,
       s.depth_min::text,
       s.depth_max::text,
       s.place_name::text,
       public.ST_AsEWKT(s.the_geom_local, 15),
       s."precision"::text,
       aty.type_code || '.' || ar.area_code,
       to_char(s.date_min, 'YYYY-MM-DD HH24:MI:SS.US'),
       to_char(s.date_max, 'YYYY-MM-DD HH24:MI:SS.US'),
       s.validator::text,
       s.validation_comment::text,
       to_char(s.meta_validation_date, 'YYYY-MM-DD HH24:MI:SS.US'),
       s.observers::text,
       s.determiner::text,
       NULL::text,
       dig.uuid_role::text,
       s.comment_context::text,
       s.comment_description::text,
       s.additional_data::text,
       to_char(s.meta_create_date, 'YYYY-MM-DD HH24:MI:SS.US'),
       to_char(s.meta_update_date, 'YYYY-MM-DD HH24:MI:SS.US'),
       'I'
  FROM gn_synthese.synthese AS s
  JOIN gn_synthese.t_sources AS src ON src.id_source = s.id_source
  JOIN gn_meta.t_datasets AS ds ON ds.id_dataset = s.id_dataset
  LEFT JOIN utilisateurs.t_roles AS dig ON dig.id_role = s.id_digitiser
  LEFT JOIN ref_geo.l_areas AS ar ON ar.id_area = s.id_area_attachment
  LEFT JOIN ref_geo.bib_areas_types AS aty ON aty.id_type = ar.id_type
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS n0 ON n0.id_nomenclature = s.id_nomenclature_geo_object_nature
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS n1 ON n1.id_nomenclature = s.id_nomenclature_grp_typ
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS n2 ON n2.id_nomenclature = s.id_nomenclature_obs_technique
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS n3 ON n3.id_nomenclature = s.id_nomenclature_bio_status
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS n4 ON n4.id_nomenclature = s.id_nomenclature_bio_condition
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS n5 ON n5.id_nomenclature = s.id_nomenclature_naturalness
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS n6 ON n6.id_nomenclature = s.id_nomenclature_exist_proof
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS n7 ON n7.id_nomenclature = s.id_nomenclature_valid_status
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS n8 ON n8.id_nomenclature = s.id_nomenclature_diffusion_level
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS n9 ON n9.id_nomenclature = s.id_nomenclature_life_stage
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS n10 ON n10.id_nomenclature = s.id_nomenclature_sex
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS n11 ON n11.id_nomenclature = s.id_nomenclature_obj_count
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS n12 ON n12.id_nomenclature = s.id_nomenclature_type_count
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS n13 ON n13.id_nomenclature = s.id_nomenclature_sensitivity
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS n14 ON n14.id_nomenclature = s.id_nomenclature_observation_status
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS n15 ON n15.id_nomenclature = s.id_nomenclature_blurring
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS n16 ON n16.id_nomenclature = s.id_nomenclature_source_status
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS n17 ON n17.id_nomenclature = s.id_nomenclature_info_geo_type
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS n18 ON n18.id_nomenclature = s.id_nomenclature_behaviour
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS n19 ON n19.id_nomenclature = s.id_nomenclature_biogeo_status
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS n20 ON n20.id_nomenclature = s.id_nomenclature_determination_method
 ORDER BY s.id_synthese
