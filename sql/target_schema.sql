-- =====================================================================================================
-- sinp_import: GeoNature-compatible target schema
--
-- Run by sinp_import.create_target_schema(), in ONE SPI call inside the caller's transaction.
-- Creates, on a database WITHOUT GeoNature, the subset of GeoNature 2.x that sinp_import writes to:
-- same schemas, tables, column names and types, keys and checks as GeoNature's own DDL.
--
-- Contract with the caller (src, Rust):
--   * the literal @LOCAL_SRID@ is replaced by the local SRID (setting sinp_import.local_srid, 2154)
--     before the script runs;
--   * three TEMP tables, all columns text, are created and filled before the script runs:
--       pg_temp.sinp_seed_nomenclature_types (id_type, mnemonique, label_fr, definition_fr, source)
--       pg_temp.sinp_seed_nomenclatures      (type_mnemonique, cd_nomenclature, mnemonique, label_fr,
--                                             definition_fr, source, hierarchy, active)
--       pg_temp.sinp_seed_synthese_defaults  (type_mnemonique, cd_nomenclature)
--   * PostGIS is installed in schema public (GeoNature's own requirement): PostGIS names are written
--     public.xxx so that nothing depends on the caller's search_path.
--
-- Rules followed by every statement below:
--   * idempotent, creates only what is missing: CREATE ... IF NOT EXISTS, seeds with NOT EXISTS /
--     ON CONFLICT DO NOTHING. A second run succeeds and changes nothing.
--   * an existing object is never replaced: functions are created only when to_regprocedure() finds
--     none, triggers only when the table has no trigger of that name. On a real GeoNature database
--     this script therefore leaves GeoNature's tables, functions, triggers and comments untouched.
--   * every constraint has a name (GeoNature's names where GeoNature has the constraint).
--   * none of these objects belongs to the extension: DROP EXTENSION sinp_import never drops them.
-- =====================================================================================================

-- Two concurrent calls would race on CREATE ... IF NOT EXISTS: serialise them (released at commit).
SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('sinp_import.create_target_schema'));

-- Remember which tables this run creates: only those get the "created by sinp_import" comment and the
-- indexes that GeoNature itself does not have (see the end of the script).
CREATE TEMP TABLE IF NOT EXISTS sinp_target_new_tables (table_name text PRIMARY KEY) ON COMMIT DROP;
TRUNCATE pg_temp.sinp_target_new_tables;

-- Silence the "already exists, skipping" NOTICEs of a re-run; the caller's level is restored at the end
-- (and by PostgreSQL itself if the transaction aborts, the change being local to it).
CREATE TEMP TABLE IF NOT EXISTS sinp_target_saved_settings (name text PRIMARY KEY, setting text)
    ON COMMIT DROP;
TRUNCATE pg_temp.sinp_target_saved_settings;
INSERT INTO pg_temp.sinp_target_saved_settings (name, setting)
VALUES ('client_min_messages', pg_catalog.current_setting('client_min_messages'));
SELECT pg_catalog.set_config('client_min_messages', 'warning', true);
INSERT INTO pg_temp.sinp_target_new_tables (table_name)
SELECT t
FROM unnest(ARRAY[
    'ref_nomenclatures.bib_nomenclatures_types',
    'ref_nomenclatures.t_nomenclatures',
    'ref_geo.bib_areas_types',
    'ref_geo.l_areas',
    'taxonomie.taxref',
    'utilisateurs.bib_organismes',
    'utilisateurs.t_roles',
    'gn_meta.t_acquisition_frameworks',
    'gn_meta.cor_acquisition_framework_objectif',
    'gn_meta.cor_acquisition_framework_voletsinp',
    'gn_meta.cor_acquisition_framework_actor',
    'gn_meta.sinp_datatype_publications',
    'gn_meta.cor_acquisition_framework_publication',
    'gn_meta.t_datasets',
    'gn_meta.cor_dataset_actor',
    'gn_meta.cor_dataset_territory',
    'gn_synthese.t_sources',
    'gn_synthese.defaults_nomenclatures_value',
    'gn_synthese.synthese',
    'gn_synthese.cor_area_synthese',
    'gn_synthese.cor_observer_synthese',
    'gn_synthese.t_log_synthese',
    'gn_sensitivity.t_sensitivity_rules',
    'gn_sensitivity.cor_sensitivity_area',
    'gn_sensitivity.cor_sensitivity_criteria',
    'ref_habitats.habref',
    'gn_commons.t_modules',
    'gn_commons.t_validations'
]) AS t
WHERE pg_catalog.to_regclass(t) IS NULL;

-- -----------------------------------------------------------------------------------------------------
-- Schemas
-- -----------------------------------------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS ref_nomenclatures;
CREATE SCHEMA IF NOT EXISTS ref_geo;
CREATE SCHEMA IF NOT EXISTS taxonomie;
CREATE SCHEMA IF NOT EXISTS utilisateurs;
CREATE SCHEMA IF NOT EXISTS gn_commons;
CREATE SCHEMA IF NOT EXISTS gn_meta;
CREATE SCHEMA IF NOT EXISTS gn_synthese;
CREATE SCHEMA IF NOT EXISTS gn_sensitivity;
CREATE SCHEMA IF NOT EXISTS ref_habitats;

-- -----------------------------------------------------------------------------------------------------
-- ref_nomenclatures
-- -----------------------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS ref_nomenclatures.bib_nomenclatures_types (
    id_type             serial,
    mnemonique          character varying(255),
    label_default       character varying(255) NOT NULL,
    definition_default  text,
    label_fr            character varying(255) NOT NULL,
    definition_fr       text,
    label_en            character varying(255),
    definition_en       text,
    label_es            character varying(255),
    definition_es       text,
    label_de            character varying(255),
    definition_de       text,
    label_it            character varying(255),
    definition_it       text,
    source              character varying(50),
    statut              character varying(20),
    meta_create_date    timestamp without time zone DEFAULT now(),
    meta_update_date    timestamp without time zone DEFAULT now(),
    CONSTRAINT pk_bib_nomenclatures_types PRIMARY KEY (id_type),
    CONSTRAINT unique_bib_nomenclatures_types_mnemonique UNIQUE (mnemonique)
);

CREATE TABLE IF NOT EXISTS ref_nomenclatures.t_nomenclatures (
    id_nomenclature     serial,
    id_type             integer NOT NULL,
    cd_nomenclature     character varying(255) NOT NULL,
    mnemonique          character varying(255),
    label_default       character varying(255) NOT NULL,
    definition_default  text,
    label_fr            character varying(255) NOT NULL,
    definition_fr       text,
    label_en            character varying(255),
    definition_en       text,
    label_es            character varying(255),
    definition_es       text,
    label_de            character varying(255),
    definition_de       text,
    label_it            character varying(255),
    definition_it       text,
    source              character varying(50),
    statut              character varying(20),
    id_broader          integer,
    hierarchy           character varying(255),
    meta_create_date    timestamp without time zone DEFAULT now(),
    meta_update_date    timestamp without time zone,
    active              boolean NOT NULL DEFAULT true,
    CONSTRAINT pk_t_nomenclatures PRIMARY KEY (id_nomenclature),
    CONSTRAINT unique_id_type_cd_nomenclature UNIQUE (id_type, cd_nomenclature),
    CONSTRAINT fk_t_nomenclatures_id_type FOREIGN KEY (id_type)
        REFERENCES ref_nomenclatures.bib_nomenclatures_types (id_type) ON UPDATE CASCADE,
    CONSTRAINT fk_t_nomenclatures_id_broader FOREIGN KEY (id_broader)
        REFERENCES ref_nomenclatures.t_nomenclatures (id_nomenclature)
);
CREATE INDEX IF NOT EXISTS index_t_nomenclatures_bib_nomenclatures_types_fkey
    ON ref_nomenclatures.t_nomenclatures USING btree (id_type);

-- -----------------------------------------------------------------------------------------------------
-- ref_geo
-- -----------------------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS ref_geo.bib_areas_types (
    id_type         serial,
    type_name       character varying(200) NOT NULL,
    type_code       character varying(25) NOT NULL,
    type_desc       text,
    ref_name        character varying(200),
    ref_version     integer,
    num_version     character varying(50),
    size_hierarchy  integer,
    CONSTRAINT pk_bib_areas_types PRIMARY KEY (id_type),
    CONSTRAINT unique_bib_areas_types_type_code UNIQUE (type_code)
);

CREATE TABLE IF NOT EXISTS ref_geo.l_areas (
    id_area          serial,
    id_type          integer NOT NULL,
    area_name        character varying(250),
    area_code        character varying(25),
    geom             public.geometry(MultiPolygon,@LOCAL_SRID@),
    centroid         public.geometry(Point,@LOCAL_SRID@),
    source           character varying(250),
    comment          text,
    enable           boolean NOT NULL DEFAULT true,
    additional_data  jsonb,
    meta_create_date timestamp without time zone,
    meta_update_date timestamp without time zone,
    geom_4326        public.geometry(MultiPolygon,4326),
    description      text,
    CONSTRAINT pk_l_areas PRIMARY KEY (id_area),
    CONSTRAINT unique_id_type_area_code UNIQUE (id_type, area_code),
    CONSTRAINT fk_l_areas_id_type FOREIGN KEY (id_type)
        REFERENCES ref_geo.bib_areas_types (id_type) ON UPDATE CASCADE,
    CONSTRAINT enforce_geotype_l_areas_geom
        CHECK (public.geometrytype(geom) = 'MULTIPOLYGON'::text OR geom IS NULL),
    CONSTRAINT enforce_geotype_l_areas_centroid
        CHECK (public.geometrytype(centroid) = 'POINT'::text OR centroid IS NULL),
    CONSTRAINT enforce_srid_l_areas_geom CHECK (public.st_srid(geom) = @LOCAL_SRID@),
    CONSTRAINT enforce_srid_l_areas_centroid CHECK (public.st_srid(centroid) = @LOCAL_SRID@)
);
CREATE INDEX IF NOT EXISTS index_l_areas_geom ON ref_geo.l_areas USING gist (geom);
CREATE INDEX IF NOT EXISTS idx_l_areas_geom_4326 ON ref_geo.l_areas USING gist (geom_4326);
CREATE INDEX IF NOT EXISTS index_l_areas_centroid ON ref_geo.l_areas USING gist (centroid);

-- -----------------------------------------------------------------------------------------------------
-- taxonomie (left empty: the loader checks cd_nom only when taxref has rows)
-- -----------------------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS taxonomie.taxref (
    cd_nom                integer NOT NULL,
    id_statut             character(1),
    id_habitat            integer,
    id_rang               character varying(10),
    regne                 character varying(20),
    phylum                character varying(50),
    classe                character varying(50),
    ordre                 character varying(50),
    famille               character varying(50),
    sous_famille          character varying(50),
    tribu                 character varying(50),
    cd_taxsup             integer,
    cd_sup                integer,
    cd_ref                integer,
    lb_nom                character varying(250),
    lb_auteur             character varying(500),
    nom_complet           character varying(500),
    nom_complet_html      character varying(500),
    nom_valide            character varying(500),
    nom_vern              character varying(1000),
    nom_vern_eng          character varying(500),
    group1_inpn           character varying(50),
    group2_inpn           character varying(50),
    url                   text,
    group3_inpn           character varying(250),
    cd_ba                 integer,
    nomenclatural_comment character varying(500),
    CONSTRAINT pk_taxref PRIMARY KEY (cd_nom)
);
CREATE INDEX IF NOT EXISTS i_taxref_cd_ref ON taxonomie.taxref USING btree (cd_ref);
CREATE INDEX IF NOT EXISTS i_fk_taxref_group2_inpn ON taxonomie.taxref USING btree (group2_inpn);

-- -----------------------------------------------------------------------------------------------------
-- ref_habitats (HABREF; empty: load the referential) and gn_commons.t_modules (GeoNature's modules)
-- -----------------------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS ref_habitats.habref (
    cd_hab             integer NOT NULL,
    fg_validite        character varying(20),
    cd_typo            integer,
    lb_code            character varying(50),
    lb_hab_fr          character varying(500),
    lb_hab_fr_complet  character varying(500),
    lb_hab_en          character varying(500),
    lb_auteur          character varying(500),
    niveau             integer,
    lb_niveau          character varying(100),
    cd_hab_sup         integer,
    path_cd_hab        character varying(2000),
    france             character varying(5),
    lb_description     character varying(4000),
    CONSTRAINT pk_habref PRIMARY KEY (cd_hab)
);

CREATE TABLE IF NOT EXISTS gn_commons.t_modules (
    id_module            serial,
    module_code          character varying(50) NOT NULL,
    module_label         character varying(255) NOT NULL,
    module_picto         character varying(255),
    module_desc          text,
    module_group         character varying(50),
    module_path          character varying(255),
    module_external_url  character varying(255),
    module_target        character varying(10),
    module_comment       text,
    active_frontend      boolean NOT NULL DEFAULT true,
    active_backend       boolean NOT NULL DEFAULT true,
    module_doc_url       character varying(255),
    module_order         integer,
    type                 character varying(255),
    meta_create_date     timestamp without time zone DEFAULT now(),
    meta_update_date     timestamp without time zone DEFAULT now(),
    CONSTRAINT pk_t_modules PRIMARY KEY (id_module),
    CONSTRAINT unique_t_modules_module_code UNIQUE (module_code)
);

-- -----------------------------------------------------------------------------------------------------
-- utilisateurs (UsersHub)
-- -----------------------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS utilisateurs.bib_organismes (
    id_organisme       serial,
    uuid_organisme     uuid NOT NULL DEFAULT gen_random_uuid(),
    nom_organisme      character varying(500) NOT NULL,
    adresse_organisme  character varying(128),
    cp_organisme       character varying(5),
    ville_organisme    character varying(100),
    tel_organisme      character varying(14),
    fax_organisme      character varying(14),
    email_organisme    character varying(100),
    url_organisme      character varying(255),
    url_logo           character varying(255),
    id_parent          integer,
    additional_data    jsonb DEFAULT '{}'::jsonb,
    meta_create_date   timestamp without time zone DEFAULT now(),
    meta_update_date   timestamp without time zone DEFAULT now(),
    CONSTRAINT pk_bib_organismes PRIMARY KEY (id_organisme),
    CONSTRAINT bib_organismes_un UNIQUE (uuid_organisme),
    CONSTRAINT uq_bib_organismes_nom_organisme UNIQUE (nom_organisme),
    CONSTRAINT fk_bib_organismes_id_parent FOREIGN KEY (id_parent)
        REFERENCES utilisateurs.bib_organismes (id_organisme) ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS utilisateurs.t_roles (
    groupe        boolean NOT NULL DEFAULT false,
    id_role       serial,
    uuid_role     uuid NOT NULL DEFAULT gen_random_uuid(),
    identifiant   character varying(100),
    nom_role      character varying(50),
    prenom_role   character varying(50),
    desc_role     text,
    pass          character varying(100),
    pass_plus     text,
    email         character varying(250),
    id_organisme  integer,
    remarques     text,
    active        boolean DEFAULT true,
    champs_addi   jsonb,
    date_insert   timestamp without time zone,
    date_update   timestamp without time zone,
    CONSTRAINT pk_t_roles PRIMARY KEY (id_role),
    CONSTRAINT t_roles_uuid_un UNIQUE (uuid_role),
    CONSTRAINT t_roles_id_organisme_fkey FOREIGN KEY (id_organisme)
        REFERENCES utilisateurs.bib_organismes (id_organisme) ON UPDATE CASCADE
);
CREATE UNIQUE INDEX IF NOT EXISTS uq_t_roles_identifiant ON utilisateurs.t_roles USING btree (identifiant)
    WHERE identifiant::text <> ''::text AND identifiant IS NOT NULL;
CREATE INDEX IF NOT EXISTS i_utilisateurs_active ON utilisateurs.t_roles USING btree (active);
CREATE INDEX IF NOT EXISTS i_utilisateurs_groupe ON utilisateurs.t_roles USING btree (groupe);
CREATE INDEX IF NOT EXISTS i_utilisateurs_nom_prenom ON utilisateurs.t_roles USING btree (nom_role, prenom_role);

-- -----------------------------------------------------------------------------------------------------
-- gn_meta (SINP metadata standard 1.3.10)
-- GeoNature checks the nomenclature type of these columns with per-row CHECKs calling
-- ref_nomenclatures.check_nomenclature_type_by_mnemonique(); here they are plain foreign keys and the
-- loader validates the types itself.
-- -----------------------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS gn_meta.t_acquisition_frameworks (
    id_acquisition_framework           serial,
    unique_acquisition_framework_id    uuid NOT NULL DEFAULT gen_random_uuid(),
    acquisition_framework_name         character varying(255) NOT NULL,
    acquisition_framework_desc         text NOT NULL,
    id_nomenclature_territorial_level  integer,
    territory_desc                     text,
    keywords                           text,
    id_nomenclature_financing_type     integer,
    target_description                 text,
    ecologic_or_geologic_target        text,
    acquisition_framework_parent_id    integer,
    is_parent                          boolean,
    opened                             boolean DEFAULT true,
    id_digitizer                       integer,
    acquisition_framework_start_date   date NOT NULL,
    acquisition_framework_end_date     date,
    meta_create_date                   timestamp without time zone NOT NULL DEFAULT now(),
    meta_update_date                   timestamp without time zone,
    initial_closing_date               timestamp without time zone,
    additional_data                    jsonb DEFAULT '{}'::jsonb,
    CONSTRAINT pk_t_acquisition_frameworks PRIMARY KEY (id_acquisition_framework),
    CONSTRAINT unique_acquisition_frameworks_uuid UNIQUE (unique_acquisition_framework_id),
    CONSTRAINT fk_t_acquisition_frameworks_territorial_level FOREIGN KEY (id_nomenclature_territorial_level)
        REFERENCES ref_nomenclatures.t_nomenclatures (id_nomenclature) ON UPDATE CASCADE,
    CONSTRAINT fk_t_acquisition_frameworks_financing_type FOREIGN KEY (id_nomenclature_financing_type)
        REFERENCES ref_nomenclatures.t_nomenclatures (id_nomenclature) ON UPDATE CASCADE,
    CONSTRAINT fk_t_acquisition_frameworks_parent_id FOREIGN KEY (acquisition_framework_parent_id)
        REFERENCES gn_meta.t_acquisition_frameworks (id_acquisition_framework) ON UPDATE CASCADE,
    CONSTRAINT fk_t_acquisition_frameworks_id_digitizer FOREIGN KEY (id_digitizer)
        REFERENCES utilisateurs.t_roles (id_role) ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS gn_meta.cor_acquisition_framework_objectif (
    id_acquisition_framework  integer NOT NULL,
    id_nomenclature_objectif  integer NOT NULL,
    CONSTRAINT pk_cor_acquisition_framework_objectif
        PRIMARY KEY (id_acquisition_framework, id_nomenclature_objectif),
    CONSTRAINT fk_cor_acquisition_framework_objectif_id_acquisition_framework
        FOREIGN KEY (id_acquisition_framework)
        REFERENCES gn_meta.t_acquisition_frameworks (id_acquisition_framework)
        ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT fk_cor_acquisition_framework_objectif_id_nomenclature_objectif
        FOREIGN KEY (id_nomenclature_objectif)
        REFERENCES ref_nomenclatures.t_nomenclatures (id_nomenclature) ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS gn_meta.cor_acquisition_framework_voletsinp (
    id_acquisition_framework   integer NOT NULL,
    id_nomenclature_voletsinp  integer NOT NULL,
    CONSTRAINT pk_cor_acquisition_framework_voletsinp
        PRIMARY KEY (id_acquisition_framework, id_nomenclature_voletsinp),
    CONSTRAINT fk_cor_acquisition_framework_voletsinp_id_acquisition_framework
        FOREIGN KEY (id_acquisition_framework)
        REFERENCES gn_meta.t_acquisition_frameworks (id_acquisition_framework)
        ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT fk_cor_acquisition_framework_voletsinp_id_nomenclature_voletsin
        FOREIGN KEY (id_nomenclature_voletsinp)
        REFERENCES ref_nomenclatures.t_nomenclatures (id_nomenclature) ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS gn_meta.cor_acquisition_framework_actor (
    id_cafa                     serial,
    id_acquisition_framework    integer NOT NULL,
    id_role                     integer,
    id_organism                 integer,
    id_nomenclature_actor_role  integer NOT NULL,
    CONSTRAINT pk_cor_acquisition_framework_actor PRIMARY KEY (id_cafa),
    CONSTRAINT check_is_actor_in_cor_acquisition_framework_actor
        CHECK (id_role IS NOT NULL OR id_organism IS NOT NULL),
    CONSTRAINT check_is_unique_cor_acquisition_framework_actor_organism
        UNIQUE (id_acquisition_framework, id_organism, id_nomenclature_actor_role),
    CONSTRAINT check_is_unique_cor_acquisition_framework_actor_role
        UNIQUE (id_acquisition_framework, id_role, id_nomenclature_actor_role),
    CONSTRAINT fk_cor_acquisition_framework_actor_id_acquisition_framework
        FOREIGN KEY (id_acquisition_framework)
        REFERENCES gn_meta.t_acquisition_frameworks (id_acquisition_framework)
        ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT fk_cor_acquisition_framework_actor_id_nomenclature_actor_role
        FOREIGN KEY (id_nomenclature_actor_role)
        REFERENCES ref_nomenclatures.t_nomenclatures (id_nomenclature) ON UPDATE CASCADE,
    CONSTRAINT fk_cor_acquisition_framework_actor_id_organism FOREIGN KEY (id_organism)
        REFERENCES utilisateurs.bib_organismes (id_organisme) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT fk_cor_acquisition_framework_actor_id_role FOREIGN KEY (id_role)
        REFERENCES utilisateurs.t_roles (id_role) ON UPDATE CASCADE ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS gn_meta.sinp_datatype_publications (
    id_publication         serial,
    unique_publication_id  uuid NOT NULL DEFAULT gen_random_uuid(),
    publication_reference  text NOT NULL,
    publication_url        text,
    CONSTRAINT pk_sinp_datatype_publications PRIMARY KEY (id_publication),
    CONSTRAINT unique_sinp_datatype_publications_uuid UNIQUE (unique_publication_id)
);

CREATE TABLE IF NOT EXISTS gn_meta.cor_acquisition_framework_publication (
    id_acquisition_framework  integer NOT NULL,
    id_publication            integer NOT NULL,
    CONSTRAINT pk_cor_acquisition_framework_publication
        PRIMARY KEY (id_acquisition_framework, id_publication),
    CONSTRAINT fk_cor_acquisition_framework_publication_id_acquisition_framewo
        FOREIGN KEY (id_acquisition_framework)
        REFERENCES gn_meta.t_acquisition_frameworks (id_acquisition_framework)
        ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT fk_cor_acquisition_framework_publication_id_publication
        FOREIGN KEY (id_publication)
        REFERENCES gn_meta.sinp_datatype_publications (id_publication)
        ON UPDATE CASCADE ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS gn_meta.t_datasets (
    id_dataset                        serial,
    unique_dataset_id                 uuid NOT NULL DEFAULT gen_random_uuid(),
    id_acquisition_framework          integer NOT NULL,
    dataset_name                      character varying(255) NOT NULL,
    dataset_shortname                 character varying(255) NOT NULL,
    dataset_desc                      text NOT NULL,
    id_nomenclature_data_type         integer NOT NULL,
    keywords                          text,
    marine_domain                     boolean NOT NULL,
    terrestrial_domain                boolean NOT NULL,
    id_nomenclature_dataset_objectif  integer NOT NULL,
    bbox_west                         real,
    bbox_east                         real,
    bbox_south                        real,
    bbox_north                        real,
    id_nomenclature_collecting_method integer NOT NULL,
    id_nomenclature_data_origin       integer NOT NULL,
    id_nomenclature_source_status     integer NOT NULL,
    id_nomenclature_resource_type     integer NOT NULL,
    active                            boolean NOT NULL DEFAULT true,
    validable                         boolean DEFAULT true,
    id_digitizer                      integer,
    id_taxa_list                      integer,
    meta_create_date                  timestamp without time zone NOT NULL DEFAULT now(),
    meta_update_date                  timestamp without time zone,
    additional_data                   jsonb DEFAULT '{}'::jsonb,
    CONSTRAINT pk_t_datasets PRIMARY KEY (id_dataset),
    CONSTRAINT unique_dataset_uuid UNIQUE (unique_dataset_id),
    CONSTRAINT fk_t_datasets_t_acquisition_frameworks FOREIGN KEY (id_acquisition_framework)
        REFERENCES gn_meta.t_acquisition_frameworks (id_acquisition_framework) ON UPDATE CASCADE,
    CONSTRAINT fk_t_datasets_data_type FOREIGN KEY (id_nomenclature_data_type)
        REFERENCES ref_nomenclatures.t_nomenclatures (id_nomenclature) ON UPDATE CASCADE,
    CONSTRAINT fk_t_datasets_objectif FOREIGN KEY (id_nomenclature_dataset_objectif)
        REFERENCES ref_nomenclatures.t_nomenclatures (id_nomenclature) ON UPDATE CASCADE,
    CONSTRAINT fk_t_datasets_collecting_method FOREIGN KEY (id_nomenclature_collecting_method)
        REFERENCES ref_nomenclatures.t_nomenclatures (id_nomenclature) ON UPDATE CASCADE,
    CONSTRAINT fk_t_datasets_data_origin FOREIGN KEY (id_nomenclature_data_origin)
        REFERENCES ref_nomenclatures.t_nomenclatures (id_nomenclature) ON UPDATE CASCADE,
    CONSTRAINT fk_t_datasets_source_status FOREIGN KEY (id_nomenclature_source_status)
        REFERENCES ref_nomenclatures.t_nomenclatures (id_nomenclature) ON UPDATE CASCADE,
    CONSTRAINT fk_t_datasets_resource_type FOREIGN KEY (id_nomenclature_resource_type)
        REFERENCES ref_nomenclatures.t_nomenclatures (id_nomenclature) ON UPDATE CASCADE,
    CONSTRAINT fk_t_datasets_id_digitizer FOREIGN KEY (id_digitizer)
        REFERENCES utilisateurs.t_roles (id_role) ON UPDATE CASCADE
);
CREATE INDEX IF NOT EXISTS i_t_datasets_id_acquisition_framework
    ON gn_meta.t_datasets USING btree (id_acquisition_framework);

CREATE TABLE IF NOT EXISTS gn_meta.cor_dataset_actor (
    id_cda                      serial,
    id_dataset                  integer NOT NULL,
    id_role                     integer,
    id_organism                 integer,
    id_nomenclature_actor_role  integer NOT NULL,
    CONSTRAINT pk_cor_dataset_actor PRIMARY KEY (id_cda),
    CONSTRAINT check_is_actor_in_cor_dataset_actor CHECK (id_role IS NOT NULL OR id_organism IS NOT NULL),
    CONSTRAINT check_is_unique_cor_dataset_actor_organism
        UNIQUE (id_dataset, id_organism, id_nomenclature_actor_role),
    CONSTRAINT check_is_unique_cor_dataset_actor_role
        UNIQUE (id_dataset, id_role, id_nomenclature_actor_role),
    CONSTRAINT fk_cor_dataset_actor_id_dataset FOREIGN KEY (id_dataset)
        REFERENCES gn_meta.t_datasets (id_dataset) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT fk_cor_dataset_actor_id_nomenclature_actor_role FOREIGN KEY (id_nomenclature_actor_role)
        REFERENCES ref_nomenclatures.t_nomenclatures (id_nomenclature) ON UPDATE CASCADE,
    CONSTRAINT fk_dataset_actor_id_organism FOREIGN KEY (id_organism)
        REFERENCES utilisateurs.bib_organismes (id_organisme) ON UPDATE CASCADE,
    CONSTRAINT fk_dataset_actor_id_role FOREIGN KEY (id_role)
        REFERENCES utilisateurs.t_roles (id_role) ON UPDATE CASCADE ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS gn_meta.cor_dataset_territory (
    id_dataset                 integer NOT NULL,
    id_nomenclature_territory  integer NOT NULL,
    territory_desc             text,
    CONSTRAINT pk_cor_dataset_territory PRIMARY KEY (id_dataset, id_nomenclature_territory),
    CONSTRAINT fk_cor_dataset_territory_id_dataset FOREIGN KEY (id_dataset)
        REFERENCES gn_meta.t_datasets (id_dataset) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT fk_cor_dataset_territory_id_nomenclature_territory FOREIGN KEY (id_nomenclature_territory)
        REFERENCES ref_nomenclatures.t_nomenclatures (id_nomenclature) ON UPDATE CASCADE
);

-- -----------------------------------------------------------------------------------------------------
-- gn_synthese
-- -----------------------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS gn_synthese.t_sources (
    id_source               serial,
    name_source             character varying(255) NOT NULL,
    desc_source             text,
    entity_source_pk_field  character varying(255),
    url_source              character varying(255),
    meta_create_date        timestamp without time zone DEFAULT now(),
    meta_update_date        timestamp without time zone DEFAULT now(),
    id_module               integer,
    CONSTRAINT pk_t_sources PRIMARY KEY (id_source),
    CONSTRAINT unique_name_source UNIQUE (name_source)
);

CREATE TABLE IF NOT EXISTS gn_synthese.defaults_nomenclatures_value (
    mnemonique_type  character varying(50) NOT NULL,
    id_organism      integer NOT NULL DEFAULT 0,
    regne            character varying(20) NOT NULL DEFAULT '0',
    group2_inpn      character varying(255) NOT NULL DEFAULT '0',
    id_nomenclature  integer NOT NULL,
    CONSTRAINT pk_gn_synthese_defaults_nomenclatures_value
        PRIMARY KEY (mnemonique_type, id_organism, regne, group2_inpn),
    CONSTRAINT fk_gn_synthese_defaults_nomenclatures_value_mnemonique_type FOREIGN KEY (mnemonique_type)
        REFERENCES ref_nomenclatures.bib_nomenclatures_types (mnemonique) ON UPDATE CASCADE,
    CONSTRAINT fk_gn_synthese_defaults_nomenclatures_value_id_nomenclature FOREIGN KEY (id_nomenclature)
        REFERENCES ref_nomenclatures.t_nomenclatures (id_nomenclature) ON UPDATE CASCADE
);

-- The observations, with GeoNature's keys and checks (added below, once the functions they call
-- exist): a foreign key per nomenclature column and to TAXREF, HABREF and the modules, and the
-- per-row nomenclature type checks. No default calling gn_synthese.get_default_nomenclature_value():
-- sinp_import applies the defaults of gn_synthese.defaults_nomenclatures_value itself.
CREATE TABLE IF NOT EXISTS gn_synthese.synthese (
    id_synthese                           serial,
    unique_id_sinp                        uuid,
    unique_id_sinp_grp                    uuid,
    id_source                             integer NOT NULL,
    id_module                             integer,
    entity_source_pk_value                character varying,
    id_dataset                            integer,
    id_nomenclature_geo_object_nature     integer,
    id_nomenclature_grp_typ               integer,
    grp_method                            character varying(255),
    id_nomenclature_obs_technique         integer,
    id_nomenclature_bio_status            integer,
    id_nomenclature_bio_condition         integer,
    id_nomenclature_naturalness           integer,
    id_nomenclature_exist_proof           integer,
    id_nomenclature_valid_status          integer,
    id_nomenclature_diffusion_level       integer,
    id_nomenclature_life_stage            integer,
    id_nomenclature_sex                   integer,
    id_nomenclature_obj_count             integer,
    id_nomenclature_type_count            integer,
    id_nomenclature_sensitivity           integer,
    id_nomenclature_observation_status    integer,
    id_nomenclature_blurring              integer,
    id_nomenclature_source_status         integer,
    id_nomenclature_info_geo_type         integer,
    id_nomenclature_behaviour             integer,
    id_nomenclature_biogeo_status         integer,
    reference_biblio                      character varying(5000),
    count_min                             integer,
    count_max                             integer,
    cd_nom                                integer,
    cd_hab                                integer,
    nom_cite                              character varying(1000) NOT NULL,
    meta_v_taxref                         character varying(50),
    sample_number_proof                   text,
    digital_proof                         text,
    non_digital_proof                     text,
    altitude_min                          integer,
    altitude_max                          integer,
    depth_min                             integer,
    depth_max                             integer,
    place_name                            character varying(500),
    the_geom_4326                         public.geometry(Geometry,4326),
    the_geom_point                        public.geometry(Point,4326),
    the_geom_local                        public.geometry(Geometry,@LOCAL_SRID@),
    "precision"                           integer,
    id_area_attachment                    integer,
    date_min                              timestamp without time zone NOT NULL,
    date_max                              timestamp without time zone NOT NULL,
    validator                             character varying(1000),
    validation_comment                    text,
    observers                             character varying(1000),
    determiner                            character varying(1000),
    id_digitiser                          integer,
    id_nomenclature_determination_method  integer,
    comment_context                       text,
    comment_description                   text,
    additional_data                       jsonb,
    meta_validation_date                  timestamp without time zone,
    meta_create_date                      timestamp without time zone DEFAULT now(),
    meta_update_date                      timestamp without time zone DEFAULT now(),
    last_action                           character(1),
    CONSTRAINT pk_synthese PRIMARY KEY (id_synthese),
    CONSTRAINT unique_id_sinp_unique UNIQUE (unique_id_sinp),
    CONSTRAINT fk_synthese_id_source FOREIGN KEY (id_source)
        REFERENCES gn_synthese.t_sources (id_source) ON UPDATE CASCADE,
    CONSTRAINT fk_synthese_id_dataset FOREIGN KEY (id_dataset)
        REFERENCES gn_meta.t_datasets (id_dataset) ON UPDATE CASCADE,
    CONSTRAINT fk_synthese_id_area_attachment FOREIGN KEY (id_area_attachment)
        REFERENCES ref_geo.l_areas (id_area) ON UPDATE CASCADE,
    CONSTRAINT fk_synthese_id_digitiser FOREIGN KEY (id_digitiser)
        REFERENCES utilisateurs.t_roles (id_role) ON UPDATE CASCADE,
    CONSTRAINT check_synthese_date_max CHECK (date_max >= date_min),
    CONSTRAINT check_synthese_count_max CHECK (count_max >= count_min),
    CONSTRAINT check_synthese_altitude_max CHECK (altitude_max >= altitude_min),
    CONSTRAINT check_synthese_depth_max CHECK (depth_max >= depth_min),
    CONSTRAINT enforce_dims_the_geom_4326 CHECK (public.st_ndims(the_geom_4326) = 2),
    CONSTRAINT enforce_dims_the_geom_local CHECK (public.st_ndims(the_geom_local) = 2),
    CONSTRAINT enforce_dims_the_geom_point CHECK (public.st_ndims(the_geom_point) = 2),
    CONSTRAINT enforce_geotype_the_geom_point
        CHECK (public.geometrytype(the_geom_point) = 'POINT'::text OR the_geom_point IS NULL),
    CONSTRAINT enforce_srid_the_geom_4326 CHECK (public.st_srid(the_geom_4326) = 4326),
    CONSTRAINT enforce_srid_the_geom_local CHECK (public.st_srid(the_geom_local) = @LOCAL_SRID@),
    CONSTRAINT enforce_srid_the_geom_point CHECK (public.st_srid(the_geom_point) = 4326)
);
-- GeoNature's indexes (same names), so that IF NOT EXISTS finds them on a real GeoNature.
CREATE INDEX IF NOT EXISTS i_synthese_t_sources ON gn_synthese.synthese USING btree (id_source);
CREATE INDEX IF NOT EXISTS i_synthese_id_dataset ON gn_synthese.synthese USING btree (id_dataset);
CREATE INDEX IF NOT EXISTS i_synthese_cd_nom ON gn_synthese.synthese USING btree (cd_nom);
CREATE INDEX IF NOT EXISTS i_synthese_date_min ON gn_synthese.synthese USING btree (date_min DESC);
CREATE INDEX IF NOT EXISTS i_synthese_date_max ON gn_synthese.synthese USING btree (date_max DESC);
CREATE INDEX IF NOT EXISTS i_synthese_altitude_min ON gn_synthese.synthese USING btree (altitude_min);
CREATE INDEX IF NOT EXISTS i_synthese_altitude_max ON gn_synthese.synthese USING btree (altitude_max);
CREATE INDEX IF NOT EXISTS i_synthese_the_geom_4326 ON gn_synthese.synthese USING gist (the_geom_4326);
CREATE INDEX IF NOT EXISTS i_synthese_the_geom_local ON gn_synthese.synthese USING gist (the_geom_local);
CREATE INDEX IF NOT EXISTS i_synthese_the_geom_point ON gn_synthese.synthese USING gist (the_geom_point);

CREATE TABLE IF NOT EXISTS gn_synthese.cor_area_synthese (
    id_synthese  integer NOT NULL,
    id_area      integer NOT NULL,
    CONSTRAINT pk_cor_area_synthese PRIMARY KEY (id_synthese, id_area),
    CONSTRAINT fk_cor_area_synthese_id_synthese FOREIGN KEY (id_synthese)
        REFERENCES gn_synthese.synthese (id_synthese) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT fk_cor_area_synthese_id_area FOREIGN KEY (id_area)
        REFERENCES ref_geo.l_areas (id_area) ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS i_cor_area_synthese_id_area ON gn_synthese.cor_area_synthese USING btree (id_area);

CREATE TABLE IF NOT EXISTS gn_synthese.cor_observer_synthese (
    id_synthese  integer NOT NULL,
    id_role      integer NOT NULL,
    CONSTRAINT pk_cor_observer_synthese PRIMARY KEY (id_synthese, id_role),
    CONSTRAINT fk_gn_synthese_id_synthese FOREIGN KEY (id_synthese)
        REFERENCES gn_synthese.synthese (id_synthese) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT fk_gn_synthese_id_role FOREIGN KEY (id_role)
        REFERENCES utilisateurs.t_roles (id_role) ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS gn_synthese.t_log_synthese (
    id_synthese            integer NOT NULL,
    last_action            character(1) NOT NULL,
    meta_last_action_date  timestamp without time zone DEFAULT now(),
    CONSTRAINT t_log_synthese_pkey PRIMARY KEY (id_synthese)
);

-- GeoNature's validations: one row per validation of an observation (uuid_attached_row is its
-- unique_id_sinp), read by the validation module.
CREATE TABLE IF NOT EXISTS gn_commons.t_validations (
    id_validation                 serial,
    uuid_attached_row             uuid NOT NULL,
    id_nomenclature_valid_status  integer,
    validation_auto               boolean NOT NULL DEFAULT true,
    id_validator                  integer,
    validation_comment            text,
    validation_date               timestamp without time zone DEFAULT now(),
    CONSTRAINT pk_t_validations PRIMARY KEY (id_validation),
    CONSTRAINT fk_t_validations_t_roles FOREIGN KEY (id_validator)
        REFERENCES utilisateurs.t_roles (id_role) ON UPDATE CASCADE,
    CONSTRAINT fk_t_validations_valid_status FOREIGN KEY (id_nomenclature_valid_status)
        REFERENCES ref_nomenclatures.t_nomenclatures (id_nomenclature) ON UPDATE CASCADE
);
CREATE INDEX IF NOT EXISTS i_t_validations_uuid_attached_row
    ON gn_commons.t_validations USING btree (uuid_attached_row);

-- -----------------------------------------------------------------------------------------------------
-- gn_sensitivity: GeoNature's sensitivity rules (empty: load your referential, e.g. the INPN's, then
-- REFRESH MATERIALIZED VIEW gn_sensitivity.t_sensitivity_rules_cd_ref). A rule gives a taxon (and the
-- taxa below it) a sensitivity, possibly only within areas, a period of the year, a number of years
-- after the observation, and for some biological statuses or behaviours.
-- -----------------------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS gn_sensitivity.t_sensitivity_rules (
    id_sensitivity               serial,
    cd_nom                       integer NOT NULL,
    nom_cite                     character varying(1000),
    id_nomenclature_sensitivity  integer NOT NULL,
    sensitivity_duration         integer NOT NULL,
    sensitivity_territory        character varying(1000),
    id_territory                 character varying(50),
    date_min                     date,
    date_max                     date,
    source                       character varying(250),
    active                       boolean DEFAULT true,
    comments                     character varying(500),
    meta_create_date             timestamp without time zone DEFAULT now(),
    meta_update_date             timestamp without time zone,
    CONSTRAINT t_sensitivity_rules_pkey PRIMARY KEY (id_sensitivity),
    CONSTRAINT fk_t_sensitivity_rules_cd_nom FOREIGN KEY (cd_nom)
        REFERENCES taxonomie.taxref (cd_nom) ON UPDATE CASCADE,
    CONSTRAINT fk_t_sensitivity_rules_id_nomenclature_sensitivity FOREIGN KEY (id_nomenclature_sensitivity)
        REFERENCES ref_nomenclatures.t_nomenclatures (id_nomenclature) ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS gn_sensitivity.cor_sensitivity_area (
    id_sensitivity  integer,
    id_area         integer,
    CONSTRAINT fk_cor_sensitivity_area_id_area_fkey FOREIGN KEY (id_area)
        REFERENCES ref_geo.l_areas (id_area),
    CONSTRAINT fk_cor_sensitivity_area_id_sensitivity_fkey FOREIGN KEY (id_sensitivity)
        REFERENCES gn_sensitivity.t_sensitivity_rules (id_sensitivity)
);

CREATE TABLE IF NOT EXISTS gn_sensitivity.cor_sensitivity_criteria (
    id_sensitivity        integer,
    id_criteria           integer,
    id_type_nomenclature  integer,
    CONSTRAINT criteria_id_type_nomenclature_fkey FOREIGN KEY (id_type_nomenclature)
        REFERENCES ref_nomenclatures.bib_nomenclatures_types (id_type),
    CONSTRAINT criteria_id_criteria_fkey FOREIGN KEY (id_criteria)
        REFERENCES ref_nomenclatures.t_nomenclatures (id_nomenclature),
    CONSTRAINT criteria_id_sensitivity_fkey FOREIGN KEY (id_sensitivity)
        REFERENCES gn_sensitivity.t_sensitivity_rules (id_sensitivity)
);

-- The active rules by the cd_ref they apply to: the rule's own taxon and every taxon below it
-- (cd_taxsup), a rule without period covering the whole year.
CREATE MATERIALIZED VIEW IF NOT EXISTS gn_sensitivity.t_sensitivity_rules_cd_ref AS
WITH RECURSIVE below (cd_ref, id_sensitivity, cd_nom, nom_cite, id_nomenclature_sensitivity,
                      sensitivity_duration, sensitivity_territory, id_territory, date_min, date_max,
                      active, comments, meta_create_date, meta_update_date) AS (
    SELECT t.cd_ref, r.id_sensitivity, r.cd_nom, r.nom_cite, r.id_nomenclature_sensitivity,
           r.sensitivity_duration, r.sensitivity_territory, r.id_territory,
           coalesce(r.date_min, DATE '1900-01-01'), coalesce(r.date_max, DATE '1900-12-31'),
           r.active, r.comments, r.meta_create_date, r.meta_update_date
      FROM gn_sensitivity.t_sensitivity_rules AS r
      JOIN taxonomie.taxref AS t ON t.cd_nom = r.cd_nom
     WHERE r.active
    UNION ALL
    SELECT t.cd_ref, b.id_sensitivity, t.cd_nom, b.nom_cite, b.id_nomenclature_sensitivity,
           b.sensitivity_duration, b.sensitivity_territory, b.id_territory, b.date_min, b.date_max,
           b.active, b.comments, b.meta_create_date, b.meta_update_date
      FROM below AS b
      JOIN taxonomie.taxref AS t ON t.cd_taxsup = b.cd_ref
)
SELECT * FROM below
WITH DATA;

-- Indexes GeoNature does not have: built only together with a synthese created by this run, never on
-- an existing (possibly large, production) table.
DO $do$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_temp.sinp_target_new_tables WHERE table_name = 'gn_synthese.synthese') THEN
        CREATE INDEX IF NOT EXISTS i_synthese_id_nomenclature_sensitivity
            ON gn_synthese.synthese USING btree (id_nomenclature_sensitivity);
        CREATE INDEX IF NOT EXISTS i_synthese_id_nomenclature_diffusion_level
            ON gn_synthese.synthese USING btree (id_nomenclature_diffusion_level);
        CREATE INDEX IF NOT EXISTS i_synthese_entity_source_pk_value
            ON gn_synthese.synthese USING btree (entity_source_pk_value);
        CREATE INDEX IF NOT EXISTS i_synthese_id_area_attachment
            ON gn_synthese.synthese USING btree (id_area_attachment);
    END IF;
END
$do$;

-- -----------------------------------------------------------------------------------------------------
-- Trigger functions: created only when missing (a real GeoNature's own versions are kept).
-- -----------------------------------------------------------------------------------------------------
DO $do$
BEGIN
    -- meta dates, as GeoNature's public.fct_trg_meta_dates_change(): overwrites the dates.
    IF pg_catalog.to_regprocedure('gn_commons.fct_trg_meta_dates_change()') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION gn_commons.fct_trg_meta_dates_change() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF (TG_OP = 'INSERT') THEN
        NEW.meta_create_date = now();
    ELSIF (TG_OP = 'UPDATE') THEN
        NEW.meta_update_date = now();
        IF (NEW.meta_create_date IS NULL) THEN
            NEW.meta_create_date = now();
        END IF;
    END IF;
    RETURN NEW;
END;
$fn$
$ddl$;
    END IF;

    -- UsersHub's copy of the same function, for utilisateurs.bib_organismes.
    IF pg_catalog.to_regprocedure('utilisateurs.fct_trg_meta_dates_change()') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION utilisateurs.fct_trg_meta_dates_change() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF (TG_OP = 'INSERT') THEN
        NEW.meta_create_date = now();
    ELSIF (TG_OP = 'UPDATE') THEN
        NEW.meta_update_date = now();
        IF (NEW.meta_create_date IS NULL) THEN
            NEW.meta_create_date = now();
        END IF;
    END IF;
    RETURN NEW;
END;
$fn$
$ddl$;
    END IF;

    IF pg_catalog.to_regprocedure('utilisateurs.modify_date_insert()') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION utilisateurs.modify_date_insert() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    NEW.date_insert := now();
    NEW.date_update := now();
    RETURN NEW;
END;
$fn$
$ddl$;
    END IF;

    IF pg_catalog.to_regprocedure('utilisateurs.modify_date_update()') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION utilisateurs.modify_date_update() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    NEW.date_update := now();
    RETURN NEW;
END;
$fn$
$ddl$;
    END IF;

    -- Area links of new observations, per statement, from the transition table "new".
    -- Points: ST_Intersects; other shapes: intersects and does not merely touch. Enabled areas only.
    IF pg_catalog.to_regprocedure('gn_synthese.fct_trig_insert_in_cor_area_synthese_on_each_statement()') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION gn_synthese.fct_trig_insert_in_cor_area_synthese_on_each_statement() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO gn_synthese.cor_area_synthese (id_synthese, id_area)
    SELECT n.id_synthese, a.id_area
    FROM new AS n
    JOIN ref_geo.l_areas AS a ON public.st_intersects(n.the_geom_local, a.geom)
    WHERE a.enable IS TRUE
      AND (public.st_geometrytype(n.the_geom_local) = 'ST_Point'
           OR NOT public.st_touches(n.the_geom_local, a.geom))
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$fn$
$ddl$;
    END IF;

    -- Area links of one updated observation: delete and recompute.
    IF pg_catalog.to_regprocedure('gn_synthese.fct_trig_update_in_cor_area_synthese()') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION gn_synthese.fct_trig_update_in_cor_area_synthese() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM gn_synthese.cor_area_synthese WHERE id_synthese = NEW.id_synthese;
    INSERT INTO gn_synthese.cor_area_synthese (id_synthese, id_area)
    SELECT NEW.id_synthese, a.id_area
    FROM ref_geo.l_areas AS a
    WHERE a.enable IS TRUE
      AND public.st_intersects(NEW.the_geom_local, a.geom)
      AND (public.st_geometrytype(NEW.the_geom_local) = 'ST_Point'
           OR NOT public.st_touches(NEW.the_geom_local, a.geom));
    RETURN NULL;
END;
$fn$
$ddl$;
    END IF;

    -- Deletion log, per statement, from the transition table "old_table".
    IF pg_catalog.to_regprocedure('gn_synthese.fct_tri_log_delete_on_synthese()') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION gn_synthese.fct_tri_log_delete_on_synthese() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF (TG_OP = 'DELETE') THEN
        INSERT INTO gn_synthese.t_log_synthese (id_synthese, last_action, meta_last_action_date)
        SELECT o.id_synthese, 'D', now()
        FROM old_table AS o
        ON CONFLICT (id_synthese)
        DO UPDATE SET last_action = 'D', meta_last_action_date = now();
    END IF;
    RETURN NULL;
END;
$fn$
$ddl$;
    END IF;

    -- The id of a nomenclature from its type's mnemonic and its code (NULL when there is none).
    IF pg_catalog.to_regprocedure('ref_nomenclatures.get_id_nomenclature(character varying, character varying)') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION ref_nomenclatures.get_id_nomenclature(mytype character varying, mycdnomenclature character varying)
RETURNS integer
LANGUAGE sql STABLE AS $fn$
    SELECT n.id_nomenclature
      FROM ref_nomenclatures.t_nomenclatures AS n
      JOIN ref_nomenclatures.bib_nomenclatures_types AS t ON t.id_type = n.id_type
     WHERE t.mnemonique OPERATOR(pg_catalog.=) mytype
       AND n.cd_nomenclature OPERATOR(pg_catalog.=) mycdnomenclature
$fn$
$ddl$;
    END IF;

    -- The id of a nomenclature type from its mnemonic.
    IF pg_catalog.to_regprocedure('ref_nomenclatures.get_id_nomenclature_type(character varying)') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION ref_nomenclatures.get_id_nomenclature_type(mytype character varying) RETURNS integer
LANGUAGE sql STABLE AS $fn$
    SELECT t.id_type FROM ref_nomenclatures.bib_nomenclatures_types AS t
     WHERE t.mnemonique OPERATOR(pg_catalog.=) mytype
$fn$
$ddl$;
    END IF;

    -- The code of a nomenclature from its id.
    IF pg_catalog.to_regprocedure('ref_nomenclatures.get_cd_nomenclature(integer)') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION ref_nomenclatures.get_cd_nomenclature(myidnomenclature integer) RETURNS character varying
LANGUAGE sql STABLE AS $fn$
    SELECT n.cd_nomenclature FROM ref_nomenclatures.t_nomenclatures AS n
     WHERE n.id_nomenclature OPERATOR(pg_catalog.=) myidnomenclature
$fn$
$ddl$;
    END IF;

    -- GeoNature's per-row type check of a nomenclature column: true when the id is NULL or a
    -- nomenclature of the type; RAISEs (P0001) otherwise, as GeoNature's does.
    IF pg_catalog.to_regprocedure('ref_nomenclatures.check_nomenclature_type_by_mnemonique(integer, character varying)') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION ref_nomenclatures.check_nomenclature_type_by_mnemonique(id integer, mytype character varying)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $fn$
BEGIN
    IF id IS NULL OR EXISTS (
           SELECT FROM ref_nomenclatures.t_nomenclatures AS n
            WHERE n.id_nomenclature OPERATOR(pg_catalog.=) id
              AND n.id_type OPERATOR(pg_catalog.=) ref_nomenclatures.get_id_nomenclature_type(mytype)) THEN
        RETURN true;
    END IF;
    RAISE EXCEPTION 'Error : id_nomenclature --> (%) and nomenclature --> (%) type didn''t match. Use id_nomenclature in corresponding type (mnemonique field). See ref_nomenclatures.t_nomenclatures.id_type.', id, mytype;
END;
$fn$
$ddl$;
    END IF;

    -- The cd_ref (valid name) of a taxon, from its cd_nom.
    IF pg_catalog.to_regprocedure('taxonomie.find_cdref(integer)') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION taxonomie.find_cdref(id integer) RETURNS integer
LANGUAGE sql STABLE AS $fn$
    SELECT t.cd_ref FROM taxonomie.taxref AS t WHERE t.cd_nom OPERATOR(pg_catalog.=) id
$fn$
$ddl$;
    END IF;

    -- The sensitivity GeoNature's rules give an observation: the strictest (highest code) of the
    -- rules of its cd_ref that match its day of the year, its year (within the rule's duration),
    -- its geometry (when the rule has areas) and its biological status or behaviour (when the rule
    -- has criteria); code 0 (not sensitive) when none matches.
    IF pg_catalog.to_regprocedure('gn_sensitivity.get_id_nomenclature_sensitivity(date, integer, public.geometry, jsonb)') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION gn_sensitivity.get_id_nomenclature_sensitivity(my_date_obs date, my_cd_ref integer,
                                                               my_geom public.geometry, my_criterias jsonb)
RETURNS integer
LANGUAGE sql STABLE AS $fn$
    SELECT coalesce(
        (SELECT r.id_nomenclature_sensitivity
           FROM gn_sensitivity.t_sensitivity_rules_cd_ref AS r
           JOIN ref_nomenclatures.t_nomenclatures AS n ON n.id_nomenclature = r.id_nomenclature_sensitivity
           LEFT JOIN gn_sensitivity.cor_sensitivity_area AS ra ON ra.id_sensitivity = r.id_sensitivity
           LEFT JOIN ref_geo.l_areas AS a ON a.id_area = ra.id_area
           LEFT JOIN gn_sensitivity.cor_sensitivity_criteria AS c ON c.id_sensitivity = r.id_sensitivity
          WHERE r.cd_ref = my_cd_ref
            AND (a.geom IS NULL OR public.st_intersects(my_geom, a.geom))
            AND pg_catalog.to_char(my_date_obs, 'MMDD') BETWEEN pg_catalog.to_char(r.date_min, 'MMDD')
                                                            AND pg_catalog.to_char(r.date_max, 'MMDD')
            AND pg_catalog.date_part('year', CURRENT_TIMESTAMP) - r.sensitivity_duration
                <= pg_catalog.date_part('year', my_date_obs)
            AND (c.id_criteria IS NULL
                 OR c.id_criteria IN (SELECT e.value::integer FROM pg_catalog.jsonb_each_text(my_criterias) AS e))
          ORDER BY n.cd_nomenclature DESC
          LIMIT 1),
        ref_nomenclatures.get_id_nomenclature('SENSIBILITE', '0'))
$fn$
$ddl$;
    END IF;

    -- Sensitivity of new observations, per statement, from the transition table "new": GeoNature
    -- overwrites whatever was written with the rules' result.
    IF pg_catalog.to_regprocedure('gn_synthese.fct_tri_calculate_sensitivity_on_each_statement()') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION gn_synthese.fct_tri_calculate_sensitivity_on_each_statement() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE gn_synthese.synthese AS s
       SET id_nomenclature_sensitivity = gn_sensitivity.get_id_nomenclature_sensitivity(
               n.date_min::date, taxonomie.find_cdref(n.cd_nom), n.the_geom_local,
               pg_catalog.jsonb_build_object('STATUT_BIO', n.id_nomenclature_bio_status,
                                             'OCC_COMPORTEMENT', n.id_nomenclature_behaviour))
      FROM new AS n
     WHERE s.id_synthese = n.id_synthese;
    RETURN NULL;
END;
$fn$
$ddl$;
    END IF;

    -- Sensitivity of an updated observation (its date, taxon, geometry, status or behaviour written).
    IF pg_catalog.to_regprocedure('gn_synthese.fct_tri_update_sensitivity_on_each_row()') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION gn_synthese.fct_tri_update_sensitivity_on_each_row() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    NEW.id_nomenclature_sensitivity = gn_sensitivity.get_id_nomenclature_sensitivity(
        NEW.date_min::date, taxonomie.find_cdref(NEW.cd_nom), NEW.the_geom_local,
        pg_catalog.jsonb_build_object('STATUT_BIO', NEW.id_nomenclature_bio_status,
                                      'OCC_COMPORTEMENT', NEW.id_nomenclature_behaviour));
    RETURN NEW;
END;
$fn$
$ddl$;
    END IF;

    -- A new validation is copied into its observation: status, comment, date, and the validator's
    -- name from utilisateurs.t_roles (replacing the synthese's validator text), as GeoNature does.
    IF pg_catalog.to_regprocedure('gn_commons.fct_trg_update_synthese_validation_status()') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION gn_commons.fct_trg_update_synthese_validation_status() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE gn_synthese.synthese AS s
       SET id_nomenclature_valid_status = NEW.id_nomenclature_valid_status,
           validation_comment = NEW.validation_comment,
           meta_validation_date = NEW.validation_date,
           validator = (SELECT r.nom_role || ' ' || r.prenom_role FROM utilisateurs.t_roles AS r
                         WHERE r.id_role = NEW.id_validator)
     WHERE s.unique_id_sinp = NEW.uuid_attached_row;
    RETURN NEW;
END;
$fn$
$ddl$;
    END IF;

    -- The observers text of an observation, rewritten from its linked users ("NAME First, ...") on
    -- every change of its links, as GeoNature does.
    IF pg_catalog.to_regprocedure('gn_synthese.fct_tri_maj_observers_txt()') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION gn_synthese.fct_tri_maj_observers_txt() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    observation integer;
BEGIN
    IF TG_OP = 'DELETE' THEN
        observation := OLD.id_synthese;
    ELSE
        observation := NEW.id_synthese;
    END IF;
    UPDATE gn_synthese.synthese AS s
       SET observers = (SELECT pg_catalog.array_to_string(pg_catalog.array_agg(r.nom_role || ' ' || r.prenom_role), ', ')
                          FROM utilisateurs.t_roles AS r
                         WHERE r.id_role IN (SELECT c.id_role FROM gn_synthese.cor_observer_synthese AS c
                                              WHERE c.id_synthese = observation))
     WHERE s.id_synthese = observation;
    RETURN NULL;
END;
$fn$
$ddl$;
    END IF;
END
$do$;

-- -----------------------------------------------------------------------------------------------------
-- Triggers: created only when the table has no trigger of that name. A meta-dates trigger is also
-- skipped when the table already has a trigger calling a function named fct_trg_meta_dates_change
-- (GeoNature names two of them differently: tri_meta_dates_t_sources, tri_meta_dates_change_organisms).
-- -----------------------------------------------------------------------------------------------------
DO $do$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT *
        FROM (VALUES
            ('gn_synthese.synthese', 'tri_meta_dates_change_synthese',
             'BEFORE INSERT OR UPDATE', 'FOR EACH ROW',
             'gn_commons.fct_trg_meta_dates_change()', true),
            ('gn_synthese.synthese', 'tri_insert_cor_area_synthese',
             'AFTER INSERT', 'REFERENCING NEW TABLE AS new FOR EACH STATEMENT',
             'gn_synthese.fct_trig_insert_in_cor_area_synthese_on_each_statement()', false),
            ('gn_synthese.synthese', 'tri_update_cor_area_synthese',
             'AFTER UPDATE OF the_geom_local, the_geom_4326', 'FOR EACH ROW',
             'gn_synthese.fct_trig_update_in_cor_area_synthese()', false),
            ('gn_synthese.synthese', 'tri_log_delete_synthese',
             'AFTER DELETE', 'REFERENCING OLD TABLE AS old_table FOR EACH STATEMENT',
             'gn_synthese.fct_tri_log_delete_on_synthese()', false),
            ('gn_synthese.synthese', 'tri_insert_calculate_sensitivity',
             'AFTER INSERT', 'REFERENCING NEW TABLE AS new FOR EACH STATEMENT',
             'gn_synthese.fct_tri_calculate_sensitivity_on_each_statement()', false),
            ('gn_synthese.synthese', 'tri_update_calculate_sensitivity',
             'BEFORE UPDATE OF date_min, date_max, cd_nom, the_geom_local, id_nomenclature_bio_status, id_nomenclature_behaviour',
             'FOR EACH ROW', 'gn_synthese.fct_tri_update_sensitivity_on_each_row()', false),
            ('gn_commons.t_validations', 'tri_insert_synthese_update_validation_status',
             'AFTER INSERT', 'FOR EACH ROW',
             'gn_commons.fct_trg_update_synthese_validation_status()', false),
            ('gn_synthese.cor_observer_synthese', 'trg_maj_synthese_observers_txt',
             'AFTER INSERT OR UPDATE OR DELETE', 'FOR EACH ROW',
             'gn_synthese.fct_tri_maj_observers_txt()', false),
            ('gn_synthese.t_sources', 'tri_meta_dates_change_t_sources',
             'BEFORE INSERT OR UPDATE', 'FOR EACH ROW',
             'gn_commons.fct_trg_meta_dates_change()', true),
            ('gn_meta.t_acquisition_frameworks', 'tri_meta_dates_change_t_acquisition_frameworks',
             'BEFORE INSERT OR UPDATE', 'FOR EACH ROW',
             'gn_commons.fct_trg_meta_dates_change()', true),
            ('gn_meta.t_datasets', 'tri_meta_dates_change_t_datasets',
             'BEFORE INSERT OR UPDATE', 'FOR EACH ROW',
             'gn_commons.fct_trg_meta_dates_change()', true),
            ('utilisateurs.bib_organismes', 'tri_meta_dates_change_bib_organismes',
             'BEFORE INSERT OR UPDATE', 'FOR EACH ROW',
             'utilisateurs.fct_trg_meta_dates_change()', true),
            ('utilisateurs.t_roles', 'tri_modify_date_insert_t_roles',
             'BEFORE INSERT', 'FOR EACH ROW',
             'utilisateurs.modify_date_insert()', false),
            ('utilisateurs.t_roles', 'tri_modify_date_update_t_roles',
             'BEFORE UPDATE', 'FOR EACH ROW',
             'utilisateurs.modify_date_update()', false)
        ) AS v(table_name, trigger_name, timing_events, for_each, function_call, is_meta_dates)
    LOOP
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                   WHERE t.tgrelid = r.table_name::regclass AND t.tgname = r.trigger_name) THEN
            CONTINUE;
        END IF;
        IF r.is_meta_dates AND EXISTS (
                SELECT 1 FROM pg_catalog.pg_trigger t
                JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
                WHERE t.tgrelid = r.table_name::regclass AND NOT t.tgisinternal
                  AND p.proname = 'fct_trg_meta_dates_change') THEN
            CONTINUE;
        END IF;
        EXECUTE format('CREATE TRIGGER %I %s ON %s %s EXECUTE FUNCTION %s',
                       r.trigger_name, r.timing_events, r.table_name, r.for_each, r.function_call);
    END LOOP;
END
$do$;

-- -----------------------------------------------------------------------------------------------------
-- GeoNature's constraints of the synthese, added only to a synthese this run created (never to an
-- existing table): a foreign key per nomenclature column and to TAXREF, HABREF and the modules; the
-- per-row nomenclature type checks; an attachment for observations located by an area.
-- -----------------------------------------------------------------------------------------------------
DO $do$
DECLARE
    r record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_temp.sinp_target_new_tables WHERE table_name = 'gn_synthese.synthese') THEN
        RETURN;
    END IF;
    FOR r IN
        SELECT a.attname::text AS column_name
          FROM pg_catalog.pg_attribute AS a
         WHERE a.attrelid = 'gn_synthese.synthese'::pg_catalog.regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attname::text LIKE 'id\_nomenclature\_%'
         ORDER BY a.attnum
    LOOP
        EXECUTE pg_catalog.format(
            'ALTER TABLE gn_synthese.synthese ADD CONSTRAINT %I FOREIGN KEY (%I)
                 REFERENCES ref_nomenclatures.t_nomenclatures (id_nomenclature) ON UPDATE CASCADE',
            'fk_synthese_' || r.column_name, r.column_name);
    END LOOP;
    FOR r IN
        SELECT * FROM (VALUES
            ('check_synthese_obs_meth', 'id_nomenclature_obs_technique', 'METH_OBS'),
            ('check_synthese_geo_object_nature', 'id_nomenclature_geo_object_nature', 'NAT_OBJ_GEO'),
            ('check_synthese_typ_grp', 'id_nomenclature_grp_typ', 'TYP_GRP'),
            ('check_synthese_bio_status', 'id_nomenclature_bio_status', 'STATUT_BIO'),
            ('check_synthese_bio_condition', 'id_nomenclature_bio_condition', 'ETA_BIO'),
            ('check_synthese_naturalness', 'id_nomenclature_naturalness', 'NATURALITE'),
            ('check_synthese_exist_proof', 'id_nomenclature_exist_proof', 'PREUVE_EXIST'),
            ('check_synthese_valid_status', 'id_nomenclature_valid_status', 'STATUT_VALID'),
            ('check_synthese_diffusion_level', 'id_nomenclature_diffusion_level', 'NIV_PRECIS'),
            ('check_synthese_life_stage', 'id_nomenclature_life_stage', 'STADE_VIE'),
            ('check_synthese_sex', 'id_nomenclature_sex', 'SEXE'),
            ('check_synthese_obj_count', 'id_nomenclature_obj_count', 'OBJ_DENBR'),
            ('check_synthese_type_count', 'id_nomenclature_type_count', 'TYP_DENBR'),
            ('check_synthese_sensitivity', 'id_nomenclature_sensitivity', 'SENSIBILITE'),
            ('check_synthese_observation_status', 'id_nomenclature_observation_status', 'STATUT_OBS'),
            ('check_synthese_blurring', 'id_nomenclature_blurring', 'DEE_FLOU'),
            ('check_synthese_source_status', 'id_nomenclature_source_status', 'STATUT_SOURCE'),
            ('check_synthese_biogeo_status', 'id_nomenclature_biogeo_status', 'STAT_BIOGEO')
        ) AS v(constraint_name, column_name, mnemonique)
    LOOP
        EXECUTE pg_catalog.format(
            'ALTER TABLE gn_synthese.synthese ADD CONSTRAINT %I
                 CHECK (ref_nomenclatures.check_nomenclature_type_by_mnemonique(%I, %L::character varying)) NOT VALID',
            r.constraint_name, r.column_name, r.mnemonique);
    END LOOP;
    ALTER TABLE gn_synthese.synthese
        ADD CONSTRAINT check_synthese_info_geo_type_id_area_attachment
            CHECK (NOT (ref_nomenclatures.get_cd_nomenclature(id_nomenclature_info_geo_type) = '2'
                        AND id_area_attachment IS NULL)) NOT VALID,
        ADD CONSTRAINT fk_synthese_cd_nom FOREIGN KEY (cd_nom)
            REFERENCES taxonomie.taxref (cd_nom) ON UPDATE CASCADE,
        ADD CONSTRAINT fk_synthese_cd_hab FOREIGN KEY (cd_hab)
            REFERENCES ref_habitats.habref (cd_hab) ON UPDATE CASCADE,
        ADD CONSTRAINT fk_synthese_id_module FOREIGN KEY (id_module)
            REFERENCES gn_commons.t_modules (id_module) ON UPDATE CASCADE;
END
$do$;

DO $do$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_temp.sinp_target_new_tables WHERE table_name = 'gn_commons.t_validations') THEN
        ALTER TABLE gn_commons.t_validations
            ADD CONSTRAINT check_t_validations_valid_status
                CHECK (ref_nomenclatures.check_nomenclature_type_by_mnemonique(id_nomenclature_valid_status,
                                                                               'STATUT_VALID'::character varying)) NOT VALID;
    END IF;
END
$do$;

DO $do$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_temp.sinp_target_new_tables WHERE table_name = 'gn_synthese.t_sources') THEN
        ALTER TABLE gn_synthese.t_sources
            ADD CONSTRAINT fk_t_sources_id_module FOREIGN KEY (id_module)
                REFERENCES gn_commons.t_modules (id_module) ON UPDATE CASCADE;
    END IF;
END
$do$;

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
