#!/usr/bin/env bash
# Sets how many api and worker replicas run (API_REPLICAS, WORKER_REPLICAS in .env, so a
# later `docker compose up -d` keeps them), keeping the other one's count:
#   ops/scale.sh api=3            ops/scale.sh worker=4            ops/scale.sh api=2 worker=6
# The proxy finds api replicas by DNS (refreshed every 5 s) and spreads requests over them;
# workers share the queues through Redis. Each api and worker keeps its own Postgres pool of
# DATABASE_POOL_MAX connections: keep replicas x DATABASE_POOL_MAX below Postgres's
# max_connections (100 by default).
set -euo pipefail
# shellcheck source=ops/lib.sh
. "$(dirname "$0")/lib.sh"

[ $# -gt 0 ] || die "usage: ops/scale.sh api=N [worker=M]"
api_n=$(replicas api)
worker_n=$(replicas worker)
for arg in "$@"; do
  case "$arg" in
    api=[1-9]*) api_n=${arg#api=} ;;
    worker=[1-9]*) worker_n=${arg#worker=} ;;
    *) die "not understood: $arg (api=N or worker=N, N at least 1)" ;;
  esac
done
case "$api_n$worker_n" in *[!0-9]*) die "replica counts must be numbers" ;; esac

say "api=$api_n worker=$worker_n"
dotenv_set "$ENV_FILE" API_REPLICAS "$api_n"
dotenv_set "$ENV_FILE" WORKER_REPLICAS "$worker_n"
compose up -d --no-deps --no-recreate api worker
# shellcheck disable=SC2046 # one id per word
wait_healthy 180 $(container_ids api) $(container_ids worker)
compose ps api worker
