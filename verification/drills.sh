#!/usr/bin/env bash
# Fault drills under load: Redis stopped and restarted, Redis slowed down, memory pressure, origin outage.
#   verification/drills.sh --api http://127.0.0.1:5080 --api-key KEY --redis '127.0.0.1:6379,password=...'
# Exit 0 when every check passed, 1 when one failed, 2 on bad usage. --help lists every option;
# the JSON result goes to verification/results/ (--results DIR). --no-build skips building the tools.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
oc_tool drills "$@"
