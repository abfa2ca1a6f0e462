-- A key records who created it, so it works only while its creator still may (issue 11):
-- an admin user (still an admin, not disabled, not deleted) or another key (still usable).
ALTER TABLE "api_keys" ADD COLUMN "created_by_user_id" UUID, ADD COLUMN "created_by_key_id" UUID;

UPDATE "api_keys" SET "created_by_user_id" = substring("created_by" from 6)::uuid
WHERE "created_by" ~ '^user:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
UPDATE "api_keys" SET "created_by_key_id" = substring("created_by" from 9)::uuid
WHERE "created_by" ~ '^service:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

CREATE INDEX "api_keys_created_by_key_id_idx" ON "api_keys"("created_by_key_id");
