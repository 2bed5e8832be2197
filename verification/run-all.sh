#!/usr/bin/env bash
# Runs the whole verification programme in order and writes docs/verification.md:
#   connection checks → endpoint measurement → stepped load → fault drills → soak → report.
# Without --api it starts the system through the AppHost in its executables mode (Redis, the shared store origin,
# two Api replicas, Monitoring, Prometheus) and stops it at the end; with --api/--api-key/--redis it uses a system
# that is already running. A failing step does not stop the others; the exit code is 1 if any failed. For the memory
# drill it starts a second topology whose replicas have a small L1 budget (--memory-l1), so the drill presses it.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: verification/run-all.sh [options]

  --quick               short steps for a 2-core machine: stepped load 10 s per step, drills 5/8/8 s
                        (origin outage 45 s), soak 10 min (full: 30 s per step, drills 10/10/10 s,
                        origin outage 5.5 min, soak 30 min)
  --api URL             an Api replica that is already running (repeat for more replicas); needs --api-key
                        and --redis; without it the AppHost starts the system
  --api-key KEY         the Api's admin key (default: $OC_API_KEY)
  --redis CONN          the Redis the Api uses, e.g. '127.0.0.1:6379,password=...'
  --monitoring URL      Monitoring's base URL (the origin drill reads the guard's reaction)
  --prometheus URL      Prometheus' base URL (the origin drill reads the alerts that fired)
  --memory-l1 BYTES     L1 budget of the second topology run-all starts for the memory drill (default 4194304,
                        4 MiB; only without --api: with --api the drill presses the budget the system has)
  --soak DURATION       soak length (default 30m, --quick 10m; under 10m the leak check gives no verdict)
  --skip LIST           steps to leave out: redis,endpoints,stepped,drills,soak,report
  --results DIR         folder for the JSON results (default verification/results; its old results are removed)
  --smoke               mark docs/verification.md as a smoke run, not the measurement
  --no-build            use the binaries already built (the AppHost's and the tools')
  -h, --help            this text
EOF
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/verification/lib.sh"
quick=0; apis=(); key="${OC_API_KEY:-}"; redis=""; monitoring=""; prometheus=""; soak=""; skip=""
results="verification/results"; smoke=0; no_build=0; memory_l1_bytes=4194304
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --api) apis+=("${2:?--api needs a URL}"); shift 2 ;;
    --api-key) key="${2:?--api-key needs a value}"; shift 2 ;;
    --redis) redis="${2:?--redis needs a connection string}"; shift 2 ;;
    --monitoring) monitoring="${2:?}"; shift 2 ;;
    --prometheus) prometheus="${2:?}"; shift 2 ;;
    --soak) soak="${2:?}"; shift 2 ;;
    --memory-l1) memory_l1_bytes="${2:?}"; shift 2 ;;
    --skip) skip="${2:?}"; shift 2 ;;
    --results) results="${2:?}"; shift 2 ;;
    --smoke) smoke=1; shift ;;
    --no-build) no_build=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run-all: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

if [ "$quick" = 1 ]; then
  step_duration=10s; step_warmup=5s; drill_warmup=5s; drill_fault=8s; drill_recovery=8s; origin_fault=45s; soak_interval=5s; : "${soak:=10m}"
else
  # the origin outage outlasts HighErrorRate's `for: 5m` (seed 001 §6.2), so the alert can be seen firing
  step_duration=30s; step_warmup=15s; drill_warmup=10s; drill_fault=10s; drill_recovery=10s; origin_fault=330s; soak_interval=10s; : "${soak:=30m}"
fi
skipped() { case ",$skip," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
say() { printf '\n[run-all %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

launcher_pid=""
memory_pid=""
stop_launcher() {
  local pid="$1" what="$2"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    say "stopping $what (AppHost pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}
cleanup() {
  stop_launcher "$memory_pid" "the small-L1 topology"
  stop_launcher "$launcher_pid" "the local topology"
}
# launch NAME LOG RUN_DIR [AppHost settings...]: starts the AppHost (executables mode, no dashboard) in the background
# (its pid in REPLY) and waits until it reports every resource healthy; exits when it dies or is not ready within 10
# minutes. The admin key reaches it through the environment, never the command line.
apphost_dll="$root/AppHost/bin/Release/net10.0/OptimizedCache.AppHost.dll"
launch() {
  local name="$1" log="$2" dir="$3"; shift 3
  rm -f "$dir/ready" "$dir/urls" # a previous run's would read as ready before the AppHost removes them
  env "Parameters__admin-api-key=$key" dotnet "$apphost_dll" AppHost:Containers=false AppHost:Dashboard=false \
    "AppHost:RunDirectory=$dir" "$@" >"$log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 600); do
    [ -f "$dir/ready" ] && break
    kill -0 "$pid" 2>/dev/null || { echo "run-all: the AppHost ($name) exited; last lines of its log:" >&2; tail -20 "$log" >&2; exit 1; }
    sleep 1
  done
  [ -f "$dir/ready" ] || { echo "run-all: the $name topology was not ready within 10 minutes" >&2; exit 1; }
  REPLY="$pid"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cd "$root"
mkdir -p "$results"
# Earlier results must not mix into this run's report; only the files the tools write are removed.
rm -f "$results"/*.json "$results"/*.svg "$results"/*.md "$results"/redis-restarted.*
[[ "$memory_l1_bytes" =~ ^[0-9]+$ && "$memory_l1_bytes" -ge 1048576 ]] || { echo "run-all: --memory-l1 '$memory_l1_bytes' must be a byte count of at least 1048576" >&2; exit 2; }
[ "$no_build" = 1 ] && export OC_NO_BUILD=1

redis_stop=shutdown
if [ ${#apis[@]} -eq 0 ]; then
  if [ "$no_build" != 1 ] || [ ! -f "$apphost_dll" ]; then
    say "building the AppHost and the services (Release)"
    dotnet build "$root/AppHost/AppHost.csproj" -c Release -nologo -v quiet -clp:"ErrorsOnly;NoSummary"
  fi
  key="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  run_dir="$(cd "$results" && pwd)/apphost"
  say "starting the system through the AppHost: run folder $run_dir (log: $results/apphost.log)"
  # The guard would roll back whenever a measurement's cold start dips the hit ratio, changing the phase under the
  # measurement; in dry run it still evaluates and reports "dry_run" (what it would do), which the origin drill reads.
  launch local "$results/apphost.log" "$run_dir" Parameters:rollout-initial-phase=0 \
    "AppHost:Environment:monitoring:Monitoring__Guard__DryRun=${Monitoring__Guard__DryRun:-true}"
  launcher_pid="$REPLY"
  url() { sed -n "s/^$1=//p" "${2:-$run_dir}/urls"; }
  apis=("$(url api-1)" "$(url api-2)")
  password="$(sed -n 's/^requirepass //p' "$run_dir/cache/redis.conf")"
  redis="$(url cache)${password:+,password=$password}"
  monitoring="${monitoring:-$(url monitoring)}"
  prometheus="${prometheus:-$(url prometheus)}"
  # a part that dies does not take the others down: the restart drill shuts Redis down and starts it again itself
  say "topology ready: api ${apis[*]}, monitoring $monitoring, prometheus $prometheus"
fi
[ -n "$key" ] || { echo "run-all: --api-key (or OC_API_KEY) is required with --api" >&2; exit 2; }
[ -n "$redis" ] || { echo "run-all: --redis is required with --api" >&2; exit 2; }

oc_build
api_args=(); for a in "${apis[@]}"; do api_args+=(--api "$a"); done
# The admin key and the Redis connection (its password) reach the tools through the environment, never their
# command lines, where any local user could read them.
export OC_API_KEY="$key" OC_REDIS="$redis"
common=("${api_args[@]}" --results "$results")
observers=(); [ -n "$monitoring" ] && observers+=(--monitoring "$monitoring"); [ -n "$prometheus" ] && observers+=(--prometheus "$prometheus")

declare -A status
# The command line as shown: the admin key and the Redis password stay out of the output.
shown() {
  local out=() hide=0
  for a in "$@"; do
    if [ "$hide" = 1 ]; then out+=("***"); hide=0; continue; fi
    [ "$a" = --api-key ] && hide=1
    out+=("$(printf '%s' "$a" | sed 's/password=[^,]*/password=***/g')")
  done
  printf '%s ' "${out[@]}"
}
run_step() {
  local name="$1" eta="$2"; shift 2
  if skipped "$name"; then status[$name]=skipped; return; fi
  say "step $name (about $eta): $(shown "$@")"
  if oc_tool "$@"; then status[$name]=pass; else status[$name]="FAIL ($?)"; fi
}

run_step redis "5 s" verify-redis --results "$results"
run_step endpoints "1 min" measure-endpoints "${common[@]}" --requests 50
run_step stepped "$(( ${step_duration%s} * 5 / 60 + 1 )) min" stepped-load "${common[@]}" --duration "$step_duration" --warmup "$step_warmup"
memory_args=()
if [ -n "$launcher_pid" ] && ! skipped drills; then
  # The memory drill needs an L1 budget it can press (the default follows available memory: gigabytes). It runs
  # against a second topology whose replicas get a small one (same admin key); the other drills keep the measured
  # system's budget. It idles while the other drills run and is stopped after them. 4 MiB by default: the drill's
  # 80 pages of 250 products (~37 KB each) and its product reads fill that within its few seconds.
  memory_dir="$(cd "$results" && pwd)/apphost-memory"
  say "starting a second topology for the memory drill, L1 budget $memory_l1_bytes bytes (log: $results/apphost-memory.log)"
  launch memory "$results/apphost-memory.log" "$memory_dir" Parameters:rollout-initial-phase=3 \
    "AppHost:Environment:api:Cache__L1MaximumBytes=$memory_l1_bytes"
  memory_pid="$REPLY"
  memory_args=(--memory-api "$(url api-1 "$memory_dir")" --memory-api "$(url api-2 "$memory_dir")")
fi
run_step drills "3 min" drills "${common[@]}" --redis-stop "$redis_stop" "${memory_args[@]}" \
  --warmup "$drill_warmup" --fault "$drill_fault" --recovery "$drill_recovery" --origin-fault "$origin_fault" "${observers[@]}"
if [ -n "$memory_pid" ]; then
  stop_launcher "$memory_pid" "the small-L1 topology"
  memory_pid=""
fi
run_step soak "$soak" soak "${common[@]}" --duration "$soak" --interval "$soak_interval"

if ! skipped report; then
  report_args=(--results "$results")
  [ "$smoke" = 1 ] && report_args+=(--smoke)
  mode="full profile"; [ "$quick" = 1 ] && mode="quick profile (--quick)"
  where="the AppHost's topology (executables mode)"; [ -z "$launcher_pid" ] && where="a running system (${apis[*]})"
  report_args+=(--note "Run by verification/run-all.sh, $mode, against $where, on $(nproc) processors.")
  say "step report: docs/verification.md"
  if oc_tool verification-report "${report_args[@]}"; then status[report]=pass; else status[report]="FAIL ($?)"; fi
fi

say "summary"
failed=0
for step in redis endpoints stepped drills soak report; do
  printf '  %-10s %s\n' "$step" "${status[$step]:-skipped}"
  case "${status[$step]:-}" in FAIL*) failed=1 ;; esac
done
exit "$failed"
