#!/usr/bin/env bash
# Stepped load with wrk and verification/zipf-mixed.lua at 10, 50, 100, 200 connections: requests/s,
# latency percentiles, error rate, hit ratio and origin calls per step; a Markdown table and SVG charts.
#   verification/stepped-load.sh --api http://127.0.0.1:5080 --api-key KEY --duration 30s
# Exit 0 when every check passed, 1 when one failed, 2 on bad usage. --help lists every option;
# the JSON result goes to verification/results/ (--results DIR). --no-build skips building the tools.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
oc_tool stepped-load "$@"
