#!/usr/bin/env bash
# Shared by the ops/ scripts (sourced, not run). Every script works from the directory of
# docker-compose.yml and reads settings from its .env.
# shellcheck disable=SC2034 # variables here are used by the scripts that source this file

OPS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ENV_FILE=${ENV_FILE:-$OPS_ROOT/.env}

die() { echo "${0##*/}: $*" >&2; exit 1; }
say() { echo "==> $*" >&2; }

# compose ARGS...: Compose v2 (`docker compose`), or the v1 `docker-compose` binary.
compose() {
  if docker compose version >/dev/null 2>&1; then
    (cd "$OPS_ROOT" && docker compose --env-file "$ENV_FILE" "$@")
  else
    (cd "$OPS_ROOT" && docker-compose --env-file "$ENV_FILE" "$@")
  fi
}

# dotenv_get NAME: the value of NAME in .env, unquoted ('' when absent).
dotenv_get() {
  [ -f "$ENV_FILE" ] || die "$ENV_FILE is missing (ops/install.sh writes it)"
  NAME=$1 awk 'index($0, ENVIRON["NAME"] "=") == 1 {
      v = substr($0, length(ENVIRON["NAME"]) + 2)
      if (v ~ /^".*"$/ || v ~ /^\047.*\047$/) v = substr(v, 2, length(v) - 2)
      value = v
    } END { printf "%s", value }' "$ENV_FILE"
}

# dotenv_set FILE NAME VALUE: replaces (or appends) the line NAME=VALUE in FILE, atomically.
# The value goes through the environment, so no character in it is interpreted.
dotenv_set() {
  local file=$1
  NAME=$2 VALUE=$3 awk 'BEGIN { n = ENVIRON["NAME"]; v = ENVIRON["VALUE"]; done = 0 }
    index($0, n "=") == 1 { print n "=" v; done = 1; next } { print }
    END { if (!done) print n "=" v }' "$file" >"$file.next"
  chmod 600 "$file.next"
  mv "$file.next" "$file"
}

# new_secret: 32 random bytes as 64 hex characters (safe in URLs, .env files and shells).
new_secret() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }

# container_ids SERVICE: ids of the service's running containers.
container_ids() { compose ps -q "$1" 2>/dev/null | sed '/^$/d'; }

# replicas api|worker: how many containers of it should run (API_REPLICAS or WORKER_REPLICAS
# in .env, which docker-compose.yml reads as deploy.replicas; 1 when unset).
replicas() {
  local n
  n=$(dotenv_get "$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')_REPLICAS")
  echo "${n:-1}"
}

# wait_healthy TIMEOUT_SECONDS CONTAINER...: waits until every container reports healthy.
wait_healthy() {
  local timeout=$1 id status deadline
  shift
  deadline=$(($(date +%s) + timeout))
  for id in "$@"; do
    while :; do
      status=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id" 2>/dev/null || echo gone)
      case "$status" in
        healthy) break ;;
        unhealthy|exited|dead|gone) die "container ${id:0:12} is $status (see: docker logs ${id:0:12})" ;;
      esac
      [ "$(date +%s)" -lt "$deadline" ] || die "container ${id:0:12} not healthy after ${timeout}s (status: $status)"
      sleep 2
    done
  done
}

# s3_service: the compose service of the bundled S3 server in use (minio, seaweedfs), or
# nothing for an external S3.
s3_service() {
  case ",$(dotenv_get COMPOSE_PROFILES)," in
    *,seaweedfs,*) echo seaweedfs ;;
    *,minio,*) echo minio ;;
  esac
}

# mc_run SHELL_COMMAND: runs a shell command in the MinIO client container (profile tools)
# with alias `store` pointing at the S3 server; ./backups is mounted at /backups.
mc_run() {
  compose --profile tools run --rm --no-deps -T mc \
    "mc alias set store \"\$S3_ENDPOINT\" \"\$S3_ACCESS_KEY\" \"\$S3_SECRET_KEY\" >/dev/null && $1"
}
