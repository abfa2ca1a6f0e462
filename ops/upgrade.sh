#!/usr/bin/env bash
# Upgrades a running installation to the release now checked out (after `git pull` or
# unpacking a new release beside your .env):
#   1. backup          ops/backup.sh (skip with --no-backup)
#   2. pull and build  pinned third-party images, then the app image (selfbaas:<version>)
#   3. services        recreates proxy, Postgres, Redis, S3, Mailpit whose image changed
#   4. migrate         once, from the new image, before any new api serves
#   5. roll the api    starts as many new replicas as run now, waits until they are healthy,
#                      then stops the old ones (the proxy retries a refused request on
#                      another replica), so the api keeps answering
#   6. workers         replaced; each finishes its jobs within stop_grace_period, jobs it
#                      cannot finish are retried by the new ones
#
#   ops/upgrade.sh [--no-backup]
#
# Old api replicas serve for a moment against the migrated schema: a release whose
# migrations the previous version cannot run against says so in its notes; then stop the
# api first (docker compose stop api) and run this script (a short outage).
set -euo pipefail
# shellcheck source=ops/lib.sh
. "$(dirname "$0")/lib.sh"

backup=1
case "${1:-}" in
  --no-backup) backup=0 ;;
  "") ;;
  *) die "usage: ops/upgrade.sh [--no-backup]" ;;
esac

api_n=$(replicas api)
worker_n=$(replicas worker)

if [ "$backup" -eq 1 ] && [ -n "$(container_ids postgres)" ]; then
  say "1/6 backup"
  "$OPS_ROOT/ops/backup.sh"
fi

say "2/6 pull images, build selfbaas"
# selfbaas:<version> is built here, not pulled: its pull failure is expected and ignored.
compose pull --ignore-pull-failures
compose build api worker

say "3/6 proxy, Postgres, Redis, S3 (recreated only where the image or settings changed)"
services=(proxy postgres redis)
s3=$(s3_service)
[ -n "$s3" ] && services+=("$s3")
case ",$(dotenv_get COMPOSE_PROFILES)," in *,mailpit,*) services+=(mailpit) ;; esac
compose up -d --no-deps "${services[@]}"
# shellcheck disable=SC2046 # one id per word
wait_healthy 180 $(for s in "${services[@]}"; do container_ids "$s"; done)

say "4/6 migrate"
compose run --rm --no-deps -T api node dist/libs/database/src/migrate.main.js

say "5/6 roll the api ($api_n replica(s))"
old_api=$(container_ids api)
if [ -z "$old_api" ]; then
  compose up -d --no-deps --scale api="$api_n" api
else
  # New containers beside the old ones (--no-recreate leaves the old ones as they are).
  compose up -d --no-deps --no-recreate --scale api=$((api_n * 2)) api
fi
new_api=$(container_ids api | grep -vxF "$old_api" || true)
[ -n "$new_api" ] || die "no new api container started"
# shellcheck disable=SC2086 # one id per word
wait_healthy 180 $new_api
if [ -n "$old_api" ]; then
  # shellcheck disable=SC2086
  docker stop -t 20 $old_api >/dev/null
  # shellcheck disable=SC2086
  docker rm $old_api >/dev/null
fi

say "6/6 workers ($worker_n replica(s))"
compose up -d --no-deps --scale worker="$worker_n" worker
# shellcheck disable=SC2046
wait_healthy 180 $(container_ids worker)

say "upgraded: $(compose images api 2>/dev/null | awk 'NR == 2 { print $2 ":" $3 }')"
