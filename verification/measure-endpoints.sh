#!/usr/bin/env bash
# Endpoint measurement: products, orders, customers, catalog, recommendations, N requests each at
# phase 0 and phase 3 (cold and warm): p50/p95/p99, origin calls, ratios vs the seed's targets; functional checks.
#   verification/measure-endpoints.sh --api http://127.0.0.1:5080 --api-key KEY --requests 50
# Exit 0 when every check passed, 1 when one failed, 2 on bad usage. --help lists every option;
# the JSON result goes to verification/results/ (--results DIR). --no-build skips building the tools.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
oc_tool measure-endpoints "$@"
