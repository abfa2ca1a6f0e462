-- Versions deployed before issue 20 stored an http trigger without "access", which meant
-- public then (their function_triggers rows say 'public'); since issue 20 a missing access
-- means authenticated. Write the old meaning into the versions written by the old code (created
-- before the deploy-model migration ran), so that GET, export, the CLI's change detection and a
-- rollback to such a version keep it public.
UPDATE "function_versions" v
   SET "triggers" = (
     SELECT jsonb_agg(CASE WHEN e.t->>'type' = 'http' AND NOT (e.t ? 'access') THEN e.t || '{"access":"public"}'::jsonb ELSE e.t END ORDER BY e.i)
       FROM jsonb_array_elements(v."triggers") WITH ORDINALITY AS e(t, i))
 WHERE jsonb_typeof(v."triggers") = 'array'
   AND EXISTS (SELECT 1 FROM jsonb_array_elements(v."triggers") AS h(t) WHERE h.t->>'type' = 'http' AND NOT (h.t ? 'access'))
   AND v."created_at" <= COALESCE(
     (SELECT "finished_at" FROM "_prisma_migrations" WHERE "migration_name" = '20261129200000_functions_deploy_model' AND "finished_at" IS NOT NULL),
     now());
UPDATE "function_triggers" SET "access" = 'public' WHERE "type" = 'http' AND "access" IS NULL;
