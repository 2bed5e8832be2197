#!/usr/bin/env bash
# Connection checks: Redis reachable, SET/GET/PTTL/DEL round trip, authentication (the given password
# works, a wrong one and none are refused), concurrent callers, PING p50/p99. One PASS/FAIL line each.
#   verification/verify-redis.sh --connection '127.0.0.1:6379,password=...'
# Exit 0 when every check passed, 1 when one failed, 2 on bad usage. --help lists every option;
# the JSON result goes to verification/results/ (--results DIR). --no-build skips building the tools.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
oc_tool verify-redis "$@"
