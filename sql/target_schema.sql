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

-- Continued in sql/target_functions.sql (functions, triggers, constraints), then
-- sql/target_seeds.sql (seeds, comments): the three run as one script.
