#!/usr/bin/env bash
# Load test of the Api on loopback (docs/benchmarks.md "## Api"): Zipf-distributed product reads at
# phase 0 (cache off) and phase 3 (cache on), 64 connections, then the liveness probe as the trivial
# endpoint in the same run. Prints requests/s, p50, p99, origin calls per 1,000 requests and hit ratio.
#   Api/load/run.sh [duration, default 30s]        environment: CONNECTIONS, THREADS, PORT, RATE_LIMIT=on|off
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-30s}
connections=${CONNECTIONS:-64}
threads=${THREADS:-2}
port=${PORT:-5089}
base="http://127.0.0.1:$port"
key="load-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
command -v wrk >/dev/null || { echo "wrk is missing: sudo apt-get install -y wrk" >&2; exit 1; }

dotnet build Api -c Release -nologo -v q -clp:ErrorsOnly >/dev/null
Admin__ApiKey="$key" Logging__LogLevel__Default=Warning ASPNETCORE_URLS="$base" \
  dotnet Api/bin/Release/net10.0/OptimizedCache.Api.dll >/tmp/oc-api-load.log 2>&1 &
api_pid=$!
trap 'kill $api_pid 2>/dev/null || true; wait $api_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fs "$base/alive" >/dev/null 2>&1 && break; sleep 0.2; done

admin() { curl -fs -H "X-Api-Key: $key" -H 'Content-Type: application/json' "$@"; }
if [ "${RATE_LIMIT:-on}" = off ]; then
  behavior=$(admin "$base/admin/origin" | python3 -c 'import json,sys; b=json.load(sys.stdin)["behavior"]; b["rateLimitBucketSize"]=0; print(json.dumps(b))')
  admin -X PUT "$base/admin/origin" -d "$behavior" >/dev/null
fi
stats() { admin "$base/admin/cache/stats" | python3 -c 'import json,sys; s=json.load(sys.stdin); o=s["originCalls"]; r=s["requests"]["reads"]; print(o["cached"]+o["bypass"], r["hit"], r["miss"], r["bypass"])'; }

run_phase() {
  local phase=$1
  admin -X POST "$base/admin/rollout/phase/$phase" -d "{\"reason\":\"load test phase $phase\"}" >/dev/null
  read -r o0 h0 m0 b0 < <(stats)
  local line; line=$(wrk -t"$threads" -c"$connections" -d"$duration" -s Api/load/zipf.lua "$base" | grep '^RESULT')
  read -r o1 h1 m1 b1 < <(stats)
  python3 - "$phase" "$line" "$o0" "$o1" "$h0" "$h1" "$m0" "$m1" "$b0" "$b1" <<'PY'
import sys
phase, line = sys.argv[1], sys.argv[2]
o0, o1, h0, h1, m0, m1, b0, b1 = map(int, sys.argv[3:])
fields = dict(kv.split("=") for kv in line.split()[1:])
answered = (h1 - h0) + (m1 - m0) + (b1 - b0)
hits = h1 - h0
print(f"phase {phase}: {line[7:]} origin_calls_per_1000={1000 * (o1 - o0) / max(1, answered):.1f} hit_ratio={hits / max(1, answered):.3f}")
PY
  echo "$line" | sed -n 's/.*rps=\([0-9]*\).*/\1/p' >"/tmp/oc-load-rps-$phase"
}

run_phase 0
run_phase 3
# The cached read proper: the hottest HOT products (default 500), warmed first, so every read is a hit.
for id in $(seq 1 "${HOT:-500}"); do curl -fs -o /dev/null "$base/api/products/$id"; done
hot=$(PRODUCTS=${HOT:-500} wrk -t"$threads" -c"$connections" -d"$duration" -s Api/load/zipf.lua "$base" | grep '^RESULT')
echo "phase 3, warm hot set: ${hot#RESULT }"
echo "$hot" | sed -n 's/.*rps=\([0-9]*\).*/\1/p' >/tmp/oc-load-rps-3
alive=$(wrk -t"$threads" -c"$connections" -d"$duration" -s Api/load/alive.lua "$base/alive" | grep '^RESULT')
echo "alive: ${alive#RESULT }"
alive_rps=$(echo "$alive" | sed -n 's/.*rps=\([0-9]*\).*/\1/p')
python3 -c "print(f'cached product read / alive = {int(open(\"/tmp/oc-load-rps-3\").read()) / max(1, $alive_rps):.2f}')"
