-- Account lifecycle (issue 19): profile fields and metadata, email change, scoped and expiring API keys.
ALTER TABLE "users"
  ADD COLUMN "display_name" TEXT,
  ADD COLUMN "user_metadata" JSONB NOT NULL DEFAULT '{}',
  ADD COLUMN "app_metadata" JSONB NOT NULL DEFAULT '{}';

-- An email-change token carries the new address it confirms.
ALTER TABLE "auth_tokens" ADD COLUMN "new_email" TEXT;

-- Empty scopes = full service access (keys created before scopes existed keep working).
ALTER TABLE "api_keys"
  ADD COLUMN "scopes" TEXT[] NOT NULL DEFAULT '{}',
  ADD COLUMN "expires_at" TIMESTAMPTZ(3);

-- A magic link may name where the hosted page sends the browser after signing in (on AUTH_REDIRECT_URLS).
ALTER TABLE "auth_tokens" ADD COLUMN "redirect_to" TEXT;
