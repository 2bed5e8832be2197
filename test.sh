#!/usr/bin/env bash
# Builds and tests OptimizedCache. On Debian/Ubuntu it installs the servers the tests run for real
# (redis-server, prometheus with promtool, openssl, chromium, curl) when they are missing; elsewhere it names them.
# Ends with one line: "tests: N passed, N failed, N skipped", summed over every test project.
set -euo pipefail
cd "$(dirname "$0")"

need_packages=()
command -v redis-server >/dev/null 2>&1 || need_packages+=(redis-server)
command -v prometheus >/dev/null 2>&1 || need_packages+=(prometheus)
command -v promtool >/dev/null 2>&1 || need_packages+=(prometheus)
command -v openssl >/dev/null 2>&1 || need_packages+=(openssl)
command -v chromium >/dev/null 2>&1 || need_packages+=(chromium)
command -v curl >/dev/null 2>&1 || need_packages+=(curl)
if [ ${#need_packages[@]} -gt 0 ]; then
  mapfile -t need_packages < <(printf '%s\n' "${need_packages[@]}" | sort -u)
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || command -v sudo >/dev/null 2>&1; }; then
    sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    echo "installing test dependencies: ${need_packages[*]}"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need_packages[@]}" >/dev/null
  else
    echo "missing test dependencies; install these packages and run again: ${need_packages[*]}" >&2
    exit 1
  fi
fi

dotnet build OptimizedCache.sln -c Release -nologo -clp:ErrorsOnly

results=TestResults
rm -rf "$results"
status=0
for project in tests/*.Tests/*.Tests.csproj; do
  name=$(basename "$project" .csproj)
  dotnet test "$project" -c Release --no-build -nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
    --results-directory "$results" --blame-hang-timeout 10m || status=$?
done

passed=0; failed=0; skipped=0
shopt -s nullglob
for trx in "$results"/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  # the TRX logger counts a skipped test in total but in none of the outcome counters
  skipped=$((skipped + $(get total) - $(get executed)))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The runner failed without a failed test (a crash, a hang, a build problem): count it as a failure.
  failed=1
fi
if [ "$failed" -gt 0 ]; then
  # The names of failed tests, near the end where a truncated log still shows them.
  for trx in "$results"/*.trx; do
    awk '
      /<UnitTestResult / { failing = 0 }
      /<UnitTestResult [^>]*outcome="(Failed|Error|Timeout|Aborted)"/ {
        name = $0; sub(/.*testName="/, "", name); sub(/".*/, "", name); print "failed: " name; failing = 1 }
      failing && /<Message>/ {
        message = $0; sub(/.*<Message>/, "", message); sub(/<\/Message>.*/, "", message)
        print "  " substr(message, 1, 400); failing = 0 }' "$trx" || true
  done
fi
# What was skipped, and why (the container-only tests where no container runtime answers).
for trx in "$results"/*.trx; do
  awk '
    /<UnitTestResult [^>]*outcome="NotExecuted"/ { name = $0; sub(/.*testName="/, "", name); sub(/".*/, "", name); skipping = 1 }
    skipping && /<Message>/ { message = $0; sub(/.*<Message>/, "", message); sub(/<\/Message>.*/, "", message)
      print "skipped: " name " (" message ")"; skipping = 0 }' "$trx" || true
done
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
