-- File keys are unique per namespace (issue 11): ready files of a public bucket and the
-- service role's files share the bucket's namespace (''); every other file lives in its
-- owner's. A key conflict then only ever involves a file the uploader may see, so it
-- reveals nothing about other users' private files.
ALTER TABLE "storage_files" ADD COLUMN "key_scope" TEXT NOT NULL DEFAULT '';

UPDATE "storage_files" f SET "key_scope" = f."owner_id"::text
FROM "storage_buckets" b
WHERE b."name" = f."bucket" AND f."owner_id" IS NOT NULL AND (NOT b."public" OR f."status" <> 'ready');

DROP INDEX "storage_files_bucket_key_key";
CREATE UNIQUE INDEX "storage_files_bucket_key_scope_key_key" ON "storage_files"("bucket", "key_scope", "key");
CREATE INDEX "storage_files_bucket_key_id_idx" ON "storage_files"("bucket", "key", "id");
