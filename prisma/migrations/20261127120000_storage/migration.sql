-- CreateTable
CREATE TABLE "storage_buckets" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "public" BOOLEAN NOT NULL DEFAULT false,
    "max_file_size" BIGINT,
    "allowed_mime_types" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "storage_buckets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "storage_files" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "bucket" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "object_key" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "content_type" TEXT NOT NULL,
    "checksum" TEXT,
    "owner_id" UUID,
    "acl_read" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "acl_write" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "status" TEXT NOT NULL DEFAULT 'pending',
    "upload_expires_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "storage_files_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "storage_buckets_name_key" ON "storage_buckets"("name");
CREATE UNIQUE INDEX "storage_files_object_key_key" ON "storage_files"("object_key");
CREATE INDEX "storage_files_owner_id_idx" ON "storage_files"("owner_id");
CREATE UNIQUE INDEX "storage_files_bucket_key_key" ON "storage_files"("bucket", "key");

-- AddForeignKey
ALTER TABLE "storage_files" ADD CONSTRAINT "storage_files_bucket_fkey" FOREIGN KEY ("bucket") REFERENCES "storage_buckets"("name") ON DELETE RESTRICT ON UPDATE CASCADE;
