#!/usr/bin/env bash
# Soak: sustained load sampling working set, GC and hit ratio; fails if the working set keeps growing
# after warm-up (verification/README.md defines the criterion).
#   verification/soak.sh --api http://127.0.0.1:5080 --api-key KEY --duration 30m
# Exit 0 when every check passed, 1 when one failed, 2 on bad usage. --help lists every option;
# the JSON result goes to verification/results/ (--results DIR). --no-build skips building the tools.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
oc_tool soak "$@"
