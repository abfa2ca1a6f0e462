-- Case- and accent-insensitive text (issue 16): $ieq, $icontains, $istartsWith and full-text
-- search fold both sides with baas_fold(). It lowercases and, where the unaccent extension can
-- be installed, also strips accents ("Crème" = "creme"). Declared IMMUTABLE (with a fixed
-- dictionary) so that expression indexes may use it.
DO $do$
BEGIN
  BEGIN
    CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;
  EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'the unaccent extension is not available: case-insensitive operators fold case only';
  END;
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'unaccent') THEN
    EXECUTE $f$CREATE OR REPLACE FUNCTION public.baas_fold(t text) RETURNS text
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
      AS $b$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, t)) $b$ $f$;
  ELSE
    EXECUTE $f$CREATE OR REPLACE FUNCTION public.baas_fold(t text) RETURNS text
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
      AS $b$ SELECT lower(t) $b$ $f$;
  END IF;
END $do$;
