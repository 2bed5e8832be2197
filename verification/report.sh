#!/usr/bin/env bash
# Builds docs/verification.md and docs/verification/*.svg from the JSON results in verification/results.
#   verification/report.sh [--smoke] [--note TEXT]
# Exit 0 when every check passed, 1 when one failed, 2 on bad usage. --help lists every option;
# the JSON result goes to verification/results/ (--results DIR). --no-build skips building the tools.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
oc_tool verification-report "$@"
