-- Issue 20: the deploy model. Versions keep their source map (stacks point at source lines)
-- and the version a rollback copied; runs remember the user who invoked them (so that user
-- may read them); http access gets its final names (public, authenticated, service, role:<name>).
ALTER TABLE "function_versions" ADD COLUMN "source_map" TEXT;
ALTER TABLE "function_versions" ADD COLUMN "rollback_of" INTEGER;
ALTER TABLE "function_runs" ADD COLUMN "invoked_by" UUID;
CREATE INDEX "function_runs_invoked_by_idx" ON "function_runs"("invoked_by") WHERE "invoked_by" IS NOT NULL;
UPDATE "function_triggers" SET "access" = 'authenticated' WHERE "access" = 'user';
UPDATE "function_triggers" SET "access" = 'role:admin' WHERE "access" = 'admin';
