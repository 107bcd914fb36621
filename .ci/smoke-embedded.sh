#!/usr/bin/env bash
# Follows the README as a new user would: `npm start` with no DATABASE_URL and no config
# (embedded PostGIS, demo platform), trigger a sync with curl, watch it finish, read its
# report, stop cleanly, and start again on the same data folder.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="$(mktemp -d)"
# Port 0: the service picks a free port and logs its URL, so nothing else listening can answer for it.
export MAPSYNC_DATA_DIR="$WORK/data" MAPSYNC_CONFIG_DIR="$WORK/config" PORT=0
mkdir -p "$MAPSYNC_CONFIG_DIR"
unset DATABASE_URL MAPSYNC_API_TOKEN
BASE=""
AUTH="Authorization: Bearer demo"
PID=""
cleanup() {
  if [ -n "$PID" ]; then
    local node_pid
    node_pid=$(service_pid "$PID")
    [ -n "$node_pid" ] && kill -9 "$node_pid" 2>/dev/null
    kill -9 "$PID" 2>/dev/null
  fi
  rm -rf "$WORK"
  return 0
}
trap cleanup EXIT

start() {
  : >"$WORK/service.log"
  npm start >"$WORK/service.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 120); do
    BASE=$(grep -o '"url":"http://[^"]*","integrations"' "$WORK/service.log" | head -n 1 | sed 's/"url":"\([^"]*\)".*/\1/' || true)
    if [ -n "$BASE" ] && curl -fsS "$BASE/readyz" >/dev/null 2>&1; then return 0; fi
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/service.log"; echo "service died"; return 1; }
    sleep 1
  done
  cat "$WORK/service.log"; echo "service not ready in 120 s"; return 1
}

# The service is node under npm: signal it as a process manager would, then npm exits with its code.
service_pid() {
  local pid="$1" child
  for child in $(pgrep -P "$pid"); do
    if grep -q 'bin/mapsync.js' "/proc/$child/cmdline" 2>/dev/null && ! pgrep -P "$child" >/dev/null; then echo "$child"; return; fi
    service_pid "$child"
  done
}

stop() {
  local node_pid
  node_pid=$(service_pid "$PID")
  [ -n "$node_pid" ] || { cat "$WORK/service.log"; echo "service process not found"; return 1; }
  kill -TERM "$node_pid"
  local code=0
  wait "$PID" || code=$?
  if [ "$code" -ne 0 ] || ! grep -q '"msg":"mapsync stopped"' "$WORK/service.log"; then
    tail -n 20 "$WORK/service.log"; echo "service exited with $code on SIGTERM"; return 1
  fi
  PID=""
}

start
curl -fsS "$BASE/readyz"; echo
RUN=$(curl -fsS -X POST -H "$AUTH" "$BASE/v1/integrations/demo/sync")
echo "$RUN"
RUN_ID=$(node -e 'console.log(JSON.parse(process.argv[1]).runId)' "$RUN")
STATUS=queued
for _ in $(seq 1 180); do
  STATUS=$(curl -fsS -H "$AUTH" "$BASE/v1/sync-runs/$RUN_ID" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).status))')
  [ "$STATUS" = succeeded ] || [ "$STATUS" = failed ] && break
  sleep 1
done
curl -fsS -H "$AUTH" "$BASE/v1/sync-runs/$RUN_ID"; echo
[ "$STATUS" = succeeded ] || { cat "$WORK/service.log"; echo "demo sync ended as $STATUS"; exit 1; }
curl -fsS -H "$AUTH" "$BASE/v1/sync-runs/$RUN_ID/report" -o "$WORK/report.json"; head -c 600 "$WORK/report.json"; echo
curl -fsS -H "$AUTH" "$BASE/v1/projects/demo/network.geojson?kinds=boxes" -o "$WORK/network.geojson"; head -c 300 "$WORK/network.geojson"; echo
stop

echo "re-open on the same data folder"
start
stop
echo "smoke test passed"
