#!/usr/bin/env bash
# Starts the whole system through the AppHost and prints the Aspire dashboard's login URL. Where no container runtime
# answers, Redis and Prometheus run as local executables: on Debian/Ubuntu this installs them when they are missing
# (as test.sh does); elsewhere it names them. The admin API key is made once and kept in the AppHost's user secrets.
# Arguments go to the AppHost (for example AppHost:Containers=false, AppHost:ApiReplicas=3); Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")"

need_packages=()
if ! { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; } \
   && ! { command -v podman >/dev/null 2>&1 && podman info >/dev/null 2>&1; }; then
  command -v redis-server >/dev/null 2>&1 || need_packages+=(redis-server)
  command -v prometheus >/dev/null 2>&1 || need_packages+=(prometheus)
fi
if [ ${#need_packages[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || command -v sudo >/dev/null 2>&1; }; then
    sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    echo "run: installing ${need_packages[*]} (no container runtime answered)"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need_packages[@]}" >/dev/null
    # Debian starts the packaged services on install; the AppHost runs its own on other ports
    for service in redis-server prometheus; do
      $sudo_cmd systemctl disable --now "$service" >/dev/null 2>&1 || $sudo_cmd service "$service" stop >/dev/null 2>&1 || true
    done
  else
    echo "run: no container runtime answered, and these are not installed: ${need_packages[*]}; install them or Docker" >&2
    exit 1
  fi
fi

if ! dotnet user-secrets list --project AppHost 2>/dev/null | grep -q '^Parameters:admin-api-key'; then
  key="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  dotnet user-secrets set Parameters:admin-api-key "$key" --project AppHost >/dev/null
  echo "run: made an admin API key (dotnet user-secrets list --project AppHost shows it)"
fi

exec dotnet run --project AppHost --launch-profile http -- "$@"
