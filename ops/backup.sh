#!/usr/bin/env bash
# Backs up Postgres and the S3 bucket into backups/<UTC time>/ (beside docker-compose.yml):
#   postgres.dump   pg_dump custom format (pg_restore reads it)
#   objects/        every object of S3_BUCKET (mc mirror), as plain files
#   manifest.txt    when, which images, and sha256 sums of the files
#
#   ops/backup.sh                 while the system runs (see "consistency" below)
#   ops/backup.sh --consistent    stops api and worker for the duration, then starts them
#
# Consistency: without --consistent, a file uploaded or deleted while the backup runs may
# be in the dump but not in objects/ (or the reverse). Redis is not backed up: it holds
# only queued jobs, rebuilt from Postgres (outbox, email sweep, schedules) after a restore.
# Copy the directory off this host (it holds your data, not your secrets: keep .env too).
set -euo pipefail
# shellcheck source=ops/lib.sh
. "$(dirname "$0")/lib.sh"

consistent=0
case "${1:-}" in
  --consistent) consistent=1 ;;
  "") ;;
  *) die "usage: ops/backup.sh [--consistent]" ;;
esac

stamp=$(date -u +%Y%m%dT%H%M%SZ)
dir="$OPS_ROOT/backups/$stamp"
mkdir -p "$dir"
chmod 700 "$OPS_ROOT/backups" "$dir"
bucket=$(dotenv_get S3_BUCKET)
bucket=${bucket:-baas}

if [ "$consistent" -eq 1 ]; then
  api_n=$(replicas api)
  worker_n=$(replicas worker)
  say "stopping api and worker"
  compose stop api worker
  # Started again however this script ends.
  trap 'say "starting api and worker"; compose up -d --no-deps --scale api="$api_n" --scale worker="$worker_n" api worker' EXIT
fi

say "Postgres -> $dir/postgres.dump"
compose exec -T postgres pg_dump -U baas -d baas -Fc >"$dir/postgres.dump"

say "S3 bucket $bucket -> $dir/objects/"
mc_run "mc mirror --quiet --overwrite store/$bucket /backups/$stamp/objects"

{
  echo "created: $stamp"
  echo "consistent: $([ "$consistent" -eq 1 ] && echo yes || echo no)"
  echo "bucket: $bucket"
  echo "images:"
  compose config 2>/dev/null | sed -n 's/^ *image: /  /p' | sort -u
  echo "sha256:"
  (cd "$dir" && find . -type f ! -name manifest.txt -print0 | sort -z | xargs -0 -r sha256sum | sed 's/^/  /')
} >"$dir/manifest.txt"

say "done: $dir ($(du -sh "$dir" | cut -f1))"
