-- Issue 20: the session of the user who invoked a run, so a function whose http trigger says
-- runAs "caller" acts as that user (run token) while the session lasts.
ALTER TABLE "function_runs" ADD COLUMN "invoked_session" UUID;
