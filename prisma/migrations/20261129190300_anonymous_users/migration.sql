-- Guest (anonymous) users (issue 19): a real user id before any credential; upgraded in place.
ALTER TABLE "users" ADD COLUMN "is_anonymous" BOOLEAN NOT NULL DEFAULT false;
-- The cleanup of abandoned guests scans only guests.
CREATE INDEX "users_anonymous_created_at_idx" ON "users"("created_at") WHERE "is_anonymous";
