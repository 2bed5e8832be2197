#!/usr/bin/env bash
# Runs the whole OptimizedCache system on loopback from local binaries, where Aspire cannot: the
# topology of AppHost/AppHost.cs with the same configuration it injects. Redis (no persistence), the
# shared store origin, two Api replicas, Prometheus (the repo's rules, scraping each replica's /metrics),
# Monitoring, and Grafana when grafana-server is installed. It prints every URL, stops everything it
# started on Ctrl-C or SIGTERM (exit 0), and stops everything as soon as one part dies (exit 1, naming the
# part and showing the end of its log). Logs, generated config and the admin key go to a run folder.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
  cat <<'EOF'
Usage: ./run-local.sh [options]

Starts Redis, the store origin, two Api replicas, Prometheus, Monitoring and (if installed) Grafana on
127.0.0.1, waits until each is healthy and prints their URLs. Ctrl-C stops them all.

Options:
  --phase N              rollout phase the Api starts in (Rollout__InitialPhase; default 0 = cache off)
  --ports-base P         use ports P..P+6 (redis, store, api-1, api-2, monitoring, prometheus, grafana)
                         instead of free ports picked at random
  --no-build             use the binaries already built (for the chosen configuration)
  -c, --configuration C  build configuration whose binaries run (default Release)
  --run-dir DIR          run folder for logs, generated config, PIDs and the admin key
                         (default: a new folder under ${TMPDIR:-/tmp})
  --timeout SECONDS      how long each part may take to become healthy (default 120)
  --scrape-interval S    seconds between Prometheus scrapes and rule evaluations (default 5)
  --env-store KEY=VALUE  extra environment for the store origin (repeatable), e.g. Origin__LatencyMedianMs=20
  --env-api KEY=VALUE    extra environment for both Api replicas (repeatable)
  --env-monitoring KEY=VALUE
                         extra environment for Monitoring (repeatable), e.g. Monitoring__Guard__Window=00:00:20;
                         these come after the launcher's own settings, so they override them
  -h, --help             this text

Environment:
  OPTIMIZEDCACHE_ADMIN_API_KEY  the admin API key (X-Api-Key); generated per run when unset

Needs: dotnet (.NET 10 SDK), redis-server, prometheus, curl; grafana-server is optional.
EOF
}

phase=0
ports_base=""
build=1
configuration=Release
run_dir=""
startup_timeout=120
scrape_interval=5
extra_env_store=()
extra_env_api=()
extra_env_monitoring=()

# add_env PART KEY=VALUE: checks the pair and keeps it for the part's environment.
add_env() {
  [[ "${2:-}" =~ ^[A-Za-z_][A-Za-z0-9_.]*=.*$ ]] || { echo "run-local: --env-$1 '${2:-}' must be KEY=VALUE" >&2; exit 2; }
  case "$1" in
    store) extra_env_store+=("$2") ;;
    api) extra_env_api+=("$2") ;;
    monitoring) extra_env_monitoring+=("$2") ;;
  esac
}

while [ $# -gt 0 ]; do
  case "$1" in
    --phase) phase="${2:-}"; shift 2 ;;
    --phase=*) phase="${1#*=}"; shift ;;
    --ports-base) ports_base="${2:-}"; shift 2 ;;
    --ports-base=*) ports_base="${1#*=}"; shift ;;
    --no-build) build=0; shift ;;
    -c|--configuration) configuration="${2:-}"; shift 2 ;;
    --configuration=*) configuration="${1#*=}"; shift ;;
    --run-dir) run_dir="${2:-}"; shift 2 ;;
    --run-dir=*) run_dir="${1#*=}"; shift ;;
    --timeout) startup_timeout="${2:-}"; shift 2 ;;
    --timeout=*) startup_timeout="${1#*=}"; shift ;;
    --scrape-interval) scrape_interval="${2:-}"; shift 2 ;;
    --scrape-interval=*) scrape_interval="${1#*=}"; shift ;;
    --env-store|--env-api|--env-monitoring) add_env "${1#--env-}" "${2:-}"; shift 2 ;;
    --env-store=*|--env-api=*|--env-monitoring=*) part="${1%%=*}"; add_env "${part#--env-}" "${1#*=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run-local: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

bad_usage() { echo "run-local: $*" >&2; exit 2; }
[[ "$phase" =~ ^[0-9]{1,2}$ ]] || bad_usage "--phase '$phase' must be a phase number (0 = cache off)"
[[ "$startup_timeout" =~ ^[0-9]+$ && "$startup_timeout" -gt 0 ]] || bad_usage "--timeout '$startup_timeout' must be a whole number of seconds"
[[ "$scrape_interval" =~ ^[0-9]+$ && "$scrape_interval" -ge 1 && "$scrape_interval" -le 300 ]] || bad_usage "--scrape-interval '$scrape_interval' must be a whole number of seconds from 1 to 300"
[[ "$configuration" =~ ^[A-Za-z0-9_.-]+$ ]] || bad_usage "--configuration '$configuration' is not a build configuration name"
if [ -n "$ports_base" ]; then
  [[ "$ports_base" =~ ^[0-9]+$ && "$ports_base" -ge 1024 && "$ports_base" -le 65529 ]] \
    || bad_usage "--ports-base '$ports_base' must be a port from 1024 to 65529 (seven ports from there are used)"
fi

missing=()
for tool in dotnet redis-server prometheus curl; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "run-local: not found on PATH: ${missing[*]} (Debian/Ubuntu: apt-get install redis-server prometheus curl; .NET 10 SDK from https://dot.net)" >&2
  exit 1
fi

say() { printf '[run-local] %s\n' "$*"; }

# ---- Run folder ------------------------------------------------------------------------------------
umask 077
if [ -z "$run_dir" ]; then
  run_dir="$(mktemp -d "${TMPDIR:-/tmp}/optimizedcache-run.XXXXXX")"
else
  mkdir -p "$run_dir"
  run_dir="$(cd "$run_dir" && pwd)"
  chmod 700 "$run_dir"
  rm -f "$run_dir/pids" "$run_dir/ready" "$run_dir/urls"
fi
mkdir -p "$run_dir/logs" "$run_dir/redis" "$run_dir/prometheus/targets" "$run_dir/prometheus/data" "$run_dir/monitoring"
: >"$run_dir/pids"

# ---- Processes: started, watched, stopped ------------------------------------------------------------
part_names=()
part_pids=()
part_logs=()
stopped=0

# start_part NAME WORKDIR COMMAND...: runs COMMAND (exec'd, so the recorded PID is the part's own) with
# its output in logs/NAME.log, and records "NAME PID" in the run folder's pids file.
start_part() {
  local name="$1" dir="$2"
  shift 2
  local log="$run_dir/logs/$name.log"
  (cd "$dir" && exec "$@") >"$log" 2>&1 </dev/null &
  part_names+=("$name")
  part_pids+=("$!")
  part_logs+=("$log")
  echo "$name $!" >>"$run_dir/pids"
}

stop_all() {
  [ "$stopped" = 1 ] && return 0
  stopped=1
  trap '' INT TERM
  local i pid alive waited=0
  for ((i = ${#part_pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${part_pids[i]}" 2>/dev/null || true
  done
  # Graceful first (the services flush telemetry, Redis and Prometheus close their files), then by force.
  while [ "$waited" -lt 150 ]; do
    alive=0
    for pid in "${part_pids[@]}"; do
      if kill -0 "$pid" 2>/dev/null; then alive=1; fi
    done
    [ "$alive" = 0 ] && break
    sleep 0.1
    waited=$((waited + 1))
  done
  for ((i = 0; i < ${#part_pids[@]}; i++)); do
    if kill -0 "${part_pids[i]}" 2>/dev/null; then
      say "${part_names[i]} did not stop within 15 s; killing it"
      kill -KILL "${part_pids[i]}" 2>/dev/null || true
    fi
  done
  for pid in "${part_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}

# fail_part INDEX MESSAGE: stops everything and exits non-zero, naming the part and showing its log's end.
fail_part() {
  local i="$1" message="$2"
  {
    echo "[run-local] ${part_names[i]}: $message"
    echo "[run-local] last lines of ${part_logs[i]}:"
    tail -n 30 "${part_logs[i]}" 2>/dev/null | sed 's/^/    /'
  } >&2
  stop_all
  echo "[run-local] stopped everything; logs are in $run_dir/logs" >&2
  exit 1
}

on_signal() {
  echo
  say "$1: stopping everything"
  stop_all
  say "stopped; logs are in $run_dir/logs"
  exit 0
}
trap 'on_signal interrupted' INT
trap 'on_signal terminated' TERM
trap 'stop_all' EXIT

# exited INDEX: true (and sets exit_code) when the part has exited.
exited() {
  local pid="${part_pids[$1]}"
  if kill -0 "$pid" 2>/dev/null; then return 1; fi
  exit_code=0
  wait "$pid" 2>/dev/null || exit_code=$?
  return 0
}

# wait_healthy INDEX COMMAND...: polls COMMAND until it succeeds, failing fast if the part exits.
wait_healthy() {
  local i="$1"
  shift
  local deadline=$((SECONDS + startup_timeout))
  while ! "$@" >/dev/null 2>&1; do
    if exited "$i"; then fail_part "$i" "exited with code $exit_code while starting"; fi
    if [ "$SECONDS" -ge "$deadline" ]; then fail_part "$i" "not healthy after ${startup_timeout} s"; fi
    sleep 0.3
  done
}

http_ok() { curl -fsS -o /dev/null --max-time 2 "$1"; }

redis_ping() {
  local reply
  reply="$(
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'AUTH %s\r\nPING\r\n' "$2" >&3
    IFS= read -r -t 2 _ <&3 && IFS= read -r -t 2 line <&3 && printf '%s' "$line"
  )" || return 1
  [[ "$reply" == +PONG* ]]
}

# ---- Ports --------------------------------------------------------------------------------------------
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
taken=" "
# Ports are picked below the kernel's ephemeral range: a port inside it can become the source port of some
# outgoing connection before the part binds it ("address already in use").
port_low=20000
port_span=40000
if read -r ephemeral_low _ < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null \
   && [[ "$ephemeral_low" =~ ^[0-9]+$ ]] && [ "$ephemeral_low" -ge $((port_low + 1000)) ]; then
  port_span=$((ephemeral_low - port_low))
fi
next_port() {
  local p tries=0
  while :; do
    p=$((port_low + (RANDOM * 32768 + RANDOM) % port_span))
    if [[ "$taken" != *" $p "* ]] && ! port_busy "$p"; then break; fi
    tries=$((tries + 1))
    [ "$tries" -lt 500 ] || { echo "run-local: found no free loopback port" >&2; exit 1; }
  done
  taken+="$p "
  REPLY="$p"
}
port_names=(redis store api-1 api-2 monitoring prometheus grafana)
declare -A port
for ((i = 0; i < ${#port_names[@]}; i++)); do
  if [ -n "$ports_base" ]; then
    p=$((ports_base + i))
    if port_busy "$p"; then echo "run-local: port $p (${port_names[i]}) is in use; choose another --ports-base" >&2; exit 1; fi
    port[${port_names[i]}]="$p"
  else
    next_port
    port[${port_names[i]}]="$REPLY"
  fi
done

# ---- Build once -----------------------------------------------------------------------------------------
api_dir="$repo/Api/bin/$configuration/net10.0"
monitoring_dir="$repo/Monitoring/bin/$configuration/net10.0"
if [ "$build" = 1 ]; then
  say "building Api and Monitoring ($configuration)"
  dotnet build "$repo/Api/Api.csproj" -c "$configuration" -nologo -v quiet -clp:"ErrorsOnly;NoSummary"
  dotnet build "$repo/Monitoring/Monitoring.csproj" -c "$configuration" -nologo -v quiet -clp:"ErrorsOnly;NoSummary"
fi
for dll in "$api_dir/OptimizedCache.Api.dll" "$monitoring_dir/OptimizedCache.Monitoring.dll"; do
  [ -f "$dll" ] || { echo "run-local: $dll is missing; run without --no-build, or build with -c $configuration" >&2; exit 1; }
done

# ---- Secrets ----------------------------------------------------------------------------------------------
random_hex() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
admin_key="${OPTIMIZEDCACHE_ADMIN_API_KEY:-$(random_hex)}"
printf '%s\n' "$admin_key" >"$run_dir/admin-api-key"
redis_password="$(random_hex)"

# ---- Redis (no persistence, loopback only) ------------------------------------------------------------------
cat >"$run_dir/redis/redis.conf" <<EOF
bind 127.0.0.1
port ${port[redis]}
protected-mode yes
requirepass $redis_password
save ""
appendonly no
dir $run_dir/redis
daemonize no
logfile ""
EOF
redis_cs="127.0.0.1:${port[redis]},password=$redis_password"
start_part redis "$run_dir/redis" redis-server "$run_dir/redis/redis.conf"
wait_healthy 0 redis_ping "${port[redis]}" "$redis_password"

# ---- Redis carries the rollout state and the cache's L2 tier, as the AppHost's ConnectionStrings__cache does --------
# Every .NET part logs its own events; ASP.NET Core's per-request lines would drown them.
quiet_requests=("Logging__LogLevel__Microsoft.AspNetCore=Warning" "Logging__LogLevel__System.Net.Http.HttpClient=Warning")

# ---- The shared store origin -------------------------------------------------------------------------------------
store_url="http://127.0.0.1:${port[store]}"
start_part store "$api_dir" env "${quiet_requests[@]}" \
  ASPNETCORE_URLS="$store_url" \
  OTEL_SERVICE_NAME=store \
  Origin__Role=Server \
  Admin__ApiKey="$admin_key" \
  ${extra_env_store[@]+"${extra_env_store[@]}"} \
  dotnet OptimizedCache.Api.dll
wait_healthy 1 http_ok "$store_url/health"

# ---- Two Api replicas ----------------------------------------------------------------------------------------------
api_env=(
  Origin__BaseUrl="$store_url/"
  Admin__ApiKey="$admin_key"
  Rollout__InitialPhase="$phase"
  ConnectionStrings__cache="$redis_cs"
  OTEL_SERVICE_NAME=api
)
for replica in api-1 api-2; do
  start_part "$replica" "$api_dir" env "${quiet_requests[@]}" "${api_env[@]}" \
    ASPNETCORE_URLS="http://127.0.0.1:${port[$replica]}" \
    OTEL_RESOURCE_ATTRIBUTES="service.instance.id=$replica" \
    ${extra_env_api[@]+"${extra_env_api[@]}"} \
    dotnet OptimizedCache.Api.dll
done
wait_healthy 2 http_ok "http://127.0.0.1:${port[api-1]}/health"
wait_healthy 3 http_ok "http://127.0.0.1:${port[api-2]}/health"

# ---- Prometheus: the repo's rules, each replica scraped on its own -------------------------------------------------
cat >"$run_dir/prometheus/targets/api.json" <<EOF
[{ "targets": ["127.0.0.1:${port[api-1]}", "127.0.0.1:${port[api-2]}"], "labels": {} }]
EOF
cat >"$run_dir/prometheus/targets/monitoring.json" <<EOF
[{ "targets": ["127.0.0.1:${port[monitoring]}"], "labels": {} }]
EOF
cat >"$run_dir/prometheus/prometheus.yml" <<EOF
# Generated by run-local.sh for this run. The Api replicas and Monitoring are scraped one by one (their
# /metrics), as Monitoring/prometheus/prometheus.yml does; the rules are the repository's own.
global:
  scrape_interval: ${scrape_interval}s
  evaluation_interval: ${scrape_interval}s
  external_labels:
    system: optimizedcache
rule_files:
  - $repo/Monitoring/prometheus/rules/*.yml
scrape_configs:
  - job_name: api
    metrics_path: /metrics
    file_sd_configs:
      - files: ['$run_dir/prometheus/targets/api.json']
        refresh_interval: ${scrape_interval}s
  - job_name: monitoring
    metrics_path: /metrics
    file_sd_configs:
      - files: ['$run_dir/prometheus/targets/monitoring.json']
        refresh_interval: ${scrape_interval}s
EOF
prometheus_url="http://127.0.0.1:${port[prometheus]}"
start_part prometheus "$run_dir/prometheus" prometheus \
  --config.file="$run_dir/prometheus/prometheus.yml" \
  --storage.tsdb.path="$run_dir/prometheus/data" \
  --web.listen-address="127.0.0.1:${port[prometheus]}" \
  --log.level=warn
wait_healthy 4 http_ok "$prometheus_url/-/ready"

# ---- Monitoring: rollout guard and control panel -------------------------------------------------------------------
monitoring_url="http://127.0.0.1:${port[monitoring]}"
start_part monitoring "$monitoring_dir" env "${quiet_requests[@]}" \
  ASPNETCORE_URLS="$monitoring_url" \
  OTEL_SERVICE_NAME=monitoring \
  Monitoring__Api="http://127.0.0.1:${port[api-1]}/" \
  Monitoring__Prometheus="$prometheus_url/" \
  Monitoring__ApiKey="$admin_key" \
  Monitoring__ScrapeInterval="$(printf '%02d:%02d:%02d' $((scrape_interval / 3600)) $((scrape_interval % 3600 / 60)) $((scrape_interval % 60)))" \
  Monitoring__Guard__Selector='job="api"' \
  Monitoring__Guard__BaselinePath="$run_dir/monitoring/rollout-baseline.json" \
  Admin__ApiKey="$admin_key" \
  ${extra_env_monitoring[@]+"${extra_env_monitoring[@]}"} \
  dotnet OptimizedCache.Monitoring.dll
wait_healthy 5 http_ok "$monitoring_url/health"

# ---- Grafana, where installed ----------------------------------------------------------------------------------------
grafana_url=""
if command -v grafana-server >/dev/null 2>&1; then
  grafana_url="http://127.0.0.1:${port[grafana]}"
  mkdir -p "$run_dir/grafana/provisioning/datasources" "$run_dir/grafana/provisioning/dashboards" "$run_dir/grafana/data"
  cp "$repo/grafana/provisioning/datasources/"*.yml "$run_dir/grafana/provisioning/datasources/"
  # The provider names the container path of the dashboards; here they are read where they are.
  sed "s|/var/lib/grafana/dashboards|$repo/grafana/dashboards|" "$repo/grafana/provisioning/dashboards/"*.yml \
    >"$run_dir/grafana/provisioning/dashboards/dashboards.yml"
  grafana_home=""
  for candidate in /usr/share/grafana /usr/local/share/grafana "$(dirname "$(dirname "$(command -v grafana-server)")")"; do
    if [ -d "$candidate/conf" ]; then grafana_home="$candidate"; break; fi
  done
  start_part grafana "$run_dir/grafana" env \
    PROMETHEUS_URL="$prometheus_url" \
    GF_SERVER_HTTP_ADDR=127.0.0.1 \
    GF_SERVER_HTTP_PORT="${port[grafana]}" \
    GF_PATHS_DATA="$run_dir/grafana/data" \
    GF_PATHS_LOGS="$run_dir/grafana/data/log" \
    GF_PATHS_PROVISIONING="$run_dir/grafana/provisioning" \
    GF_AUTH_ANONYMOUS_ENABLED=true \
    GF_AUTH_ANONYMOUS_ORG_ROLE=Viewer \
    GF_AUTH_DISABLE_LOGIN_FORM=true \
    GF_AUTH_BASIC_ENABLED=false \
    GF_USERS_ALLOW_SIGN_UP=false \
    GF_ANALYTICS_REPORTING_ENABLED=false \
    GF_ANALYTICS_CHECK_FOR_UPDATES=false \
    grafana-server ${grafana_home:+--homepath "$grafana_home"}
  wait_healthy 6 http_ok "$grafana_url/api/health"
fi

redis_role="rollout state and the cache's L2"

# ---- Ready ------------------------------------------------------------------------------------------------------------
{
  echo "store=$store_url"
  echo "api-1=http://127.0.0.1:${port[api-1]}"
  echo "api-2=http://127.0.0.1:${port[api-2]}"
  echo "monitoring=$monitoring_url"
  echo "prometheus=$prometheus_url"
  echo "grafana=$grafana_url"
  echo "redis=127.0.0.1:${port[redis]}"
} >"$run_dir/urls"
: >"$run_dir/ready"

cat <<EOF

OptimizedCache is running on 127.0.0.1 (rollout phase $phase at start):
  api-1        http://127.0.0.1:${port[api-1]}      e.g. /api/products/1 (X-Cache: HIT|MISS|BYPASS), /admin/rollout
  api-2        http://127.0.0.1:${port[api-2]}
  store        $store_url      the store origin both replicas share (/origin/...)
  monitoring   $monitoring_url/     control panel
  prometheus   $prometheus_url/     targets: $prometheus_url/targets
  grafana      ${grafana_url:-not started (grafana-server is not on PATH)}
  redis        127.0.0.1:${port[redis]}       password in $run_dir/redis/redis.conf
                                     ($redis_role)
Admin API key: $run_dir/admin-api-key   (send it as the X-Api-Key header)
Logs:          $run_dir/logs/
Ctrl-C stops everything.
EOF

# ---- Watch: one part dying stops them all ---------------------------------------------------------------------------
while :; do
  for ((i = 0; i < ${#part_pids[@]}; i++)); do
    if exited "$i"; then fail_part "$i" "exited with code $exit_code"; fi
  done
  sleep 0.5
done
