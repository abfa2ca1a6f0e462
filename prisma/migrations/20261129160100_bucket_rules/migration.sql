-- Storage rules per bucket (issue 16): { create?, update?, delete? }, each a rule in the
-- collection rule language over the file (key segments, size, content type) and the caller.
-- A nullable column without a default: no table rewrite.
ALTER TABLE "storage_buckets" ADD COLUMN "rules" JSONB;
