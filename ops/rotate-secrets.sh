#!/usr/bin/env bash
# Replaces one secret in .env with a new random one and applies it:
#   ops/rotate-secrets.sh jwt            JWT_SECRET: access tokens signed before stop working;
#                                        clients get 401 and refresh (refresh tokens are
#                                        random values stored hashed, not signed with it)
#   ops/rotate-secrets.sh service-key    SERVICE_API_KEY: the bootstrap key; api and worker
#                                        change it together. Keys admins create
#                                        (POST /v1/admin/api-keys) are rotated through the api
#   ops/rotate-secrets.sh functions-key  FUNCTIONS_SECRET_KEY: stops api and worker,
#                                        re-encrypts every function's secrets in one
#                                        transaction (dist/scripts/rotate-functions-key.js),
#                                        then starts them with the new key
#   ops/rotate-secrets.sh s3-key         S3_SECRET_KEY: the bundled MinIO/SeaweedFS, api and
#                                        worker are recreated with it (an external S3: change
#                                        the key there first, then set it in .env yourself)
# The previous .env is kept as .env.<UTC time>.bak (mode 600): delete it once all is well.
set -euo pipefail
# shellcheck source=ops/lib.sh
. "$(dirname "$0")/lib.sh"

what=${1:-}
case "$what" in
  jwt) name=JWT_SECRET ;;
  service-key) name=SERVICE_API_KEY ;;
  functions-key) name=FUNCTIONS_SECRET_KEY ;;
  s3-key) name=S3_SECRET_KEY ;;
  *) die "usage: ops/rotate-secrets.sh jwt|service-key|functions-key|s3-key" ;;
esac

old=$(dotenv_get "$name")
if [ "$what" = jwt ] && [ -z "$(dotenv_get FUNCTIONS_SECRET_KEY)" ]; then
  die "FUNCTIONS_SECRET_KEY is empty, so functions' secrets are encrypted with a key derived from JWT_SECRET: run 'ops/rotate-secrets.sh functions-key' first"
fi
new=$(new_secret)
api_n=$(replicas api)
worker_n=$(replicas worker)
backup="$ENV_FILE.$(date -u +%Y%m%dT%H%M%SZ).bak"
cp -p "$ENV_FILE" "$backup"
chmod 600 "$backup"

case "$what" in
  functions-key)
    # Before FUNCTIONS_SECRET_KEY existed, secrets were sealed with JWT_SECRET.
    OLD_FUNCTIONS_SECRET_KEY=${old:-$(dotenv_get JWT_SECRET)}
    FUNCTIONS_SECRET_KEY=$new
    export OLD_FUNCTIONS_SECRET_KEY FUNCTIONS_SECRET_KEY
    say "stopping api and worker"
    compose stop api worker
    say "re-encrypting functions' secrets"
    # -e NAME passes the value from this shell's environment (not on a command line).
    if ! compose run --rm --no-deps -T -e OLD_FUNCTIONS_SECRET_KEY -e FUNCTIONS_SECRET_KEY api \
      node dist/scripts/rotate-functions-key.js; then
      say "failed: .env unchanged; starting api and worker with the old key"
      compose up -d --no-deps --scale api="$api_n" --scale worker="$worker_n" api worker
      exit 1
    fi
    dotenv_set "$ENV_FILE" "$name" "$new"
    ;;
  *)
    dotenv_set "$ENV_FILE" "$name" "$new"
    ;;
esac

say "applying $name"
if [ "$what" = s3-key ]; then
  s3=$(s3_service)
  if [ -n "$s3" ]; then
    compose up -d --no-deps "$s3"
    # shellcheck disable=SC2046 # one id per word
    wait_healthy 120 $(container_ids "$s3")
  fi
fi
# Changed environment: compose recreates the containers (the api first; the proxy retries
# refused requests for a few seconds meanwhile).
compose up -d --no-deps --scale api="$api_n" api
# shellcheck disable=SC2046
wait_healthy 180 $(container_ids api)
compose up -d --no-deps --scale worker="$worker_n" worker
# shellcheck disable=SC2046
wait_healthy 180 $(container_ids worker)
say "rotated $name (previous .env: $backup)"
