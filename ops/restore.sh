#!/usr/bin/env bash
# Restores a backup made by ops/backup.sh: replaces the database and the bucket's objects.
#
#   ops/restore.sh backups/20260131T020000Z --yes
#
# Stops api and worker, restores Postgres (pg_restore --clean), mirrors objects/ back into
# S3_BUCKET removing objects the backup does not have, empties Redis's queues of jobs that
# refer to the replaced data, then starts api and worker (which re-enqueue from Postgres).
set -euo pipefail
# shellcheck source=ops/lib.sh
. "$(dirname "$0")/lib.sh"

if [ $# -ne 2 ] || [ "$2" != "--yes" ]; then die "usage: ops/restore.sh backups/<time> --yes   (replaces the current data)"; fi
dir=$(cd "$1" && pwd) || die "no directory $1"
stamp=$(basename "$dir")
[ "$(dirname "$dir")" = "$OPS_ROOT/backups" ] || die "the backup must be a directory under $OPS_ROOT/backups (the MinIO client sees only that one)"
[ -f "$dir/postgres.dump" ] || die "$dir/postgres.dump is missing"
bucket=$(dotenv_get S3_BUCKET)
bucket=${bucket:-baas}

if [ -f "$dir/manifest.txt" ]; then
  say "checking sha256 sums"
  (cd "$dir" && sed -n 's/^  \([0-9a-f]\{64\}  \)/\1/p' manifest.txt | sha256sum --quiet -c -) || die "the backup's files do not match manifest.txt"
fi

api_n=$(replicas api)
worker_n=$(replicas worker)
say "stopping api and worker"
compose stop api worker
trap 'say "starting api and worker"; compose up -d --no-deps --scale api="$api_n" --scale worker="$worker_n" api worker' EXIT

say "Postgres <- $dir/postgres.dump"
compose exec -T postgres pg_restore -U baas -d baas --clean --if-exists --no-owner --single-transaction <"$dir/postgres.dump"

if [ -d "$dir/objects" ]; then
  say "S3 bucket $bucket <- $dir/objects/"
  mc_run "mc mb --ignore-existing store/$bucket >/dev/null && mc mirror --quiet --overwrite --remove /backups/$stamp/objects store/$bucket"
else
  say "no objects/ in the backup: the bucket is left as it is"
fi

# Queued jobs name rows of the database that was just replaced; the outbox relay, the
# email sweep and the schedule sync rebuild what the restored database still needs.
say "flushing Redis (queued jobs only)"
compose exec -T redis redis-cli FLUSHALL >/dev/null

say "restored $stamp"
