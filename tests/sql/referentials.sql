-- Test referentials, so that GeoNature's foreign keys synthese.cd_nom -> taxonomie.taxref and
-- synthese.cd_hab -> ref_habitats.habref hold for the generator's and the real fixture's rows. Used
-- by the demo, the in-database tests, the end-to-end tests and the benchmarks; a real database loads
-- the whole of TAXREF and HABREF instead. Idempotent.
--   TAXREF: every taxon the generator writes and the real CEN PACA fixture observes (193136 and
--           211008 are the fixture's other cd_nom for the code LARRID; their names are not known here)
--   HABREF: the codes 1 to 20 000 the generator draws cd_hab from, without names
INSERT INTO taxonomie.taxref (cd_nom, cd_ref, regne, classe, lb_nom, nom_vern, group2_inpn)
SELECT v.cd_nom, v.cd_nom, 'Animalia', 'Aves', v.lb_nom, v.nom_vern, 'Oiseaux'
  FROM (VALUES
    (965, 'Podiceps cristatus', 'Grèbe huppé'),
    (974, 'Podiceps nigricollis', 'Grèbe à cou noir'),
    (1958, 'Anas crecca', 'Sarcelle d''hiver'),
    (1991, 'Aythya nyroca', 'Fuligule nyroca'),
    (2440, 'Phalacrocorax carbo', 'Grand Cormoran'),
    (2497, 'Egretta garzetta', 'Aigrette garzette'),
    (2506, 'Ardea cinerea', 'Héron cendré'),
    (2534, 'Calidris pugnax', 'Combattant varié'),
    (2584, 'Tringa erythropus', 'Chevalier arlequin'),
    (2706, 'Cygnus olor', 'Cygne tuberculé'),
    (3036, 'Rallus aquaticus', 'Râle d''eau'),
    (3059, 'Gallinula chloropus', 'Gallinule poule-d''eau'),
    (3070, 'Fulica atra', 'Foulque macroule'),
    (3272, 'Ichthyaetus melanocephalus', 'Mouette mélanocéphale'),
    (3274, 'Hydrocoloeus minutus', 'Mouette pygmée'),
    (3283, 'Chroicocephalus ridibundus', 'Mouette rieuse'),
    (3285, 'Chroicocephalus genei', 'Goéland railleur'),
    (3293, 'Larus canus', 'Goéland cendré'),
    (3297, 'Larus fuscus', 'Goéland brun'),
    (3311, 'Larus marinus', 'Goéland marin'),
    (3343, 'Sterna hirundo', 'Sterne pierregarin'),
    (3371, 'Chlidonias niger', 'Guifette noire'),
    (3688, 'Riparia riparia', 'Hirondelle de rivage'),
    (3741, 'Motacilla flava', 'Bergeronnette printanière'),
    (4064, 'Oenanthe oenanthe', 'Traquet motteux'),
    (193136, NULL, NULL),
    (199335, 'Phoenicopterus roseus', 'Flamant rose'),
    (211008, NULL, NULL)
  ) AS v(cd_nom, lb_nom, nom_vern)
ON CONFLICT (cd_nom) DO NOTHING;

INSERT INTO ref_habitats.habref (cd_hab, lb_code)
SELECT h, h::text FROM generate_series(1, 20000) AS h
ON CONFLICT (cd_hab) DO NOTHING;
