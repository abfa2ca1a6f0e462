#!/usr/bin/env bash
# Collects every service's logs into one archive, e.g. for a bug report or an audit:
#   ops/collect-logs.sh            the last 24 hours
#   ops/collect-logs.sh 2h         the last 2 hours (any `docker compose logs --since` value)
# Writes backups/logs-<UTC time>.tar.gz. api and worker log JSON lines (pino), the proxy
# JSON access logs; each line is prefixed with Docker's timestamp. Docker keeps at most
# 5 x 20 MB per container (x-logging in docker-compose.yml): ship logs elsewhere for longer
# (docs/self-hosting.md, "Logs").
set -euo pipefail
# shellcheck source=ops/lib.sh
. "$(dirname "$0")/lib.sh"

since=${1:-24h}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/logs-$stamp" "$OPS_ROOT/backups"

for service in $(compose ps --services); do
  compose logs --no-color --timestamps --since "$since" "$service" >"$work/logs-$stamp/$service.log" 2>&1 || true
done
compose ps >"$work/logs-$stamp/ps.txt" 2>&1 || true

archive="$OPS_ROOT/backups/logs-$stamp.tar.gz"
tar -C "$work" -czf "$archive" "logs-$stamp"
chmod 600 "$archive"
say "wrote $archive"
