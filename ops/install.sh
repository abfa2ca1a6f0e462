#!/usr/bin/env bash
# Writes .env for docker compose from .env.example, with generated secrets.
#
#   ops/install.sh                                  local try-out on http://localhost:3000
#   ops/install.sh --domain baas.example.com \
#     --smtp-host smtp.example.com --smtp-user u --smtp-pass p --mail-from 'App <no-reply@example.com>'
#                                                   production: HTTPS on 443, real mail
#   ops/install.sh --s3 seaweedfs                   SeaweedFS instead of MinIO
#
# Options: --domain NAME, --s3 minio|seaweedfs, --smtp-host H, --smtp-port P, --smtp-user U,
# --smtp-pass P, --smtp-secure true|false, --mail-from ADDR, --env-file PATH (default .env
# beside docker-compose.yml), --force (replace an existing file: its secrets are lost, and
# data encrypted or protected with them becomes unreadable).
set -euo pipefail

# shellcheck source=ops/lib.sh
. "$(dirname "$0")/lib.sh"
env_file="$OPS_ROOT/.env"
domain=""
s3="minio"
smtp_host="" smtp_port="" smtp_user="" smtp_pass="" smtp_secure="" mail_from=""
force=0

need_value() { if [ $# -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value"; fi; }

while [ $# -gt 0 ]; do
  case "$1" in
    --domain) need_value "$@"; domain=$2; shift 2 ;;
    --s3) need_value "$@"; s3=$2; shift 2 ;;
    --smtp-host) need_value "$@"; smtp_host=$2; shift 2 ;;
    --smtp-port) need_value "$@"; smtp_port=$2; shift 2 ;;
    --smtp-user) need_value "$@"; smtp_user=$2; shift 2 ;;
    --smtp-pass) need_value "$@"; smtp_pass=$2; shift 2 ;;
    --smtp-secure) need_value "$@"; smtp_secure=$2; shift 2 ;;
    --mail-from) need_value "$@"; mail_from=$2; shift 2 ;;
    --env-file) need_value "$@"; env_file=$2; shift 2 ;;
    --force) force=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

case "$s3" in minio|seaweedfs) ;; *) die "--s3 must be minio or seaweedfs" ;; esac
if [ -n "$domain" ] && ! printf '%s' "$domain" | grep -Eq '^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$'; then
  die "--domain must be a host name such as baas.example.com (no scheme, port or path)"
fi
for value in "$smtp_host" "$smtp_user" "$smtp_pass" "$mail_from"; do
  case "$value" in *"'"*) die "values containing ' are not supported here; edit the .env file by hand" ;; esac
done
if [ -e "$env_file" ] && [ "$force" -ne 1 ]; then
  die "$env_file exists; keep it (its secrets protect your data) or pass --force to replace it"
fi

# set_var NAME VALUE: in the file being written.
set_var() { dotenv_set "$tmp" "$1" "$2"; }
# quote VALUE: single-quoted (literal for both compose and a shell) when it has characters
# either would read.
quote() {
  case "$1" in
    *[!A-Za-z0-9@%+=:,./_-]*) printf "'%s'" "$1" ;;
    *) printf '%s' "$1" ;;
  esac
}

tmp=$(mktemp "$(dirname "$env_file")/.env.install.XXXXXX")
trap 'rm -f "$tmp" "$tmp.next"' EXIT
cp "$OPS_ROOT/.env.example" "$tmp"

set_var JWT_SECRET "$(new_secret)"
set_var SERVICE_API_KEY "$(new_secret)"
set_var FUNCTIONS_SECRET_KEY "$(new_secret)"
set_var POSTGRES_PASSWORD "$(new_secret)"
set_var S3_SECRET_KEY "$(new_secret)"

profiles="$s3"
if [ "$s3" = seaweedfs ]; then
  set_var S3_ENDPOINT "http://seaweedfs:8333"
  set_var S3_UPSTREAM "seaweedfs:8333"
fi
if [ -n "$smtp_host" ]; then
  set_var SMTP_HOST "$(quote "$smtp_host")"
  set_var SMTP_PORT "${smtp_port:-587}"
  set_var SMTP_USER "$(quote "$smtp_user")"
  set_var SMTP_PASS "$(quote "$smtp_pass")"
  set_var SMTP_SECURE "${smtp_secure:-false}"
else
  profiles="$profiles,mailpit"
fi
[ -n "$mail_from" ] && set_var MAIL_FROM "$(quote "$mail_from")"
set_var COMPOSE_PROFILES "$profiles"

if [ -n "$domain" ]; then
  # PUBLIC_URL, APP_URL and the presigned URLs' origin follow from DOMAIN (left empty here).
  set_var DOMAIN "$domain"
  set_var HTTP_PORT 80
  set_var HTTPS_PORT 443
fi

chmod 600 "$tmp"
mv "$tmp" "$env_file"
trap - EXIT

echo "Wrote $env_file (mode 600) with new secrets; keep a copy somewhere safe."
if [ -n "$domain" ]; then
  echo "Point DNS for $domain at this host, open ports 80 and 443, then: docker compose up -d"
  echo "The api will answer at https://$domain/v1/health/ready"
  [ -n "$smtp_host" ] || echo "Mail goes to Mailpit (127.0.0.1:8025) until you set SMTP_* (rerun with --smtp-host ...)."
else
  echo "Start with: docker compose up -d   then: curl http://localhost:3000/v1/health/ready"
fi
