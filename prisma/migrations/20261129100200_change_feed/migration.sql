-- Change feed (docs/decisions.md): the outbox relay deletes what it publishes, and a
-- retention sweep deletes function runs and receipts older than FUNCTIONS_RUN_RETENTION_DAYS.
-- CreateIndex
CREATE INDEX "function_event_receipts_created_at_idx" ON "function_event_receipts"("created_at");
