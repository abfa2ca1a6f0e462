-- Issue 20: per-run metering (cold or warm start, CPU time, memory) and its sum per function
-- per day, written in the same statement that finishes an attempt.
ALTER TABLE "function_runs" ADD COLUMN "cold" BOOLEAN;
ALTER TABLE "function_runs" ADD COLUMN "cpu_ms" DOUBLE PRECISION;
ALTER TABLE "function_runs" ADD COLUMN "memory_bytes" BIGINT;

CREATE TABLE "function_usage_daily" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "function_id" UUID NOT NULL,
    "day" DATE NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "cold_starts" INTEGER NOT NULL DEFAULT 0,
    "wall_ms" BIGINT NOT NULL DEFAULT 0,
    "cpu_ms" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "memory_bytes_max" BIGINT NOT NULL DEFAULT 0,
    "memory_mb_ms" DOUBLE PRECISION NOT NULL DEFAULT 0,
    CONSTRAINT "function_usage_daily_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "function_usage_daily_function_id_day_key" ON "function_usage_daily"("function_id", "day");
ALTER TABLE "function_usage_daily" ADD CONSTRAINT "function_usage_daily_function_id_fkey" FOREIGN KEY ("function_id") REFERENCES "functions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
