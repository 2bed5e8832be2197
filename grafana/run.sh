#!/usr/bin/env bash
# Starts Grafana in a container with this folder's provisioning and dashboards, against a Prometheus
# on the host (default http://localhost:9090). Open http://localhost:3000 (admin / admin).
set -euo pipefail
cd "$(dirname "$0")"
export PROMETHEUS_URL="${PROMETHEUS_URL:-http://localhost:9090}"
exec docker run --rm --name optimizedcache-grafana --network host \
  -e PROMETHEUS_URL \
  -e GF_AUTH_ANONYMOUS_ENABLED=true \
  -v "$PWD/provisioning:/etc/grafana/provisioning:ro" \
  -v "$PWD/dashboards:/var/lib/grafana/dashboards:ro" -e GRAFANA_DASHBOARDS=/var/lib/grafana/dashboards \
  "${GRAFANA_IMAGE:-grafana/grafana-oss:11.3.0}"
