# Shared by the verification scripts: builds the measuring tools once (tests/Benchmarks, Release) and runs one.
# Source it; then `oc_tool <tool> [args...]`. Set OC_NO_BUILD=1 (or pass --no-build to a script) to skip the build.
oc_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
oc_dll="$oc_root/tests/Benchmarks/bin/Release/net10.0/OptimizedCache.Benchmarks.dll"

oc_build() {
  if [ "${OC_NO_BUILD:-0}" = 1 ] && [ -f "$oc_dll" ]; then return 0; fi
  if [ "${OC_BUILT:-0}" = 1 ]; then return 0; fi
  echo "[verification] building the measuring tools (tests/Benchmarks, Release)" >&2
  dotnet build "$oc_root/tests/Benchmarks/Benchmarks.csproj" -c Release -nologo -v quiet -clp:"ErrorsOnly;NoSummary" >&2
  export OC_BUILT=1
}

# Runs a tool from the repository root (so relative paths such as verification/results and
# verification/zipf-mixed.lua resolve), forwarding every argument; --no-build is consumed here.
oc_tool() {
  local tool="$1"; shift
  local args=()
  for a in "$@"; do
    if [ "$a" = --no-build ]; then export OC_NO_BUILD=1; else args+=("$a"); fi
  done
  case " ${args[*]} " in
    *" --help "*|*" -h "*) [ -f "$oc_dll" ] || oc_build ;;
    *) oc_build ;;
  esac
  (cd "$oc_root" && dotnet "$oc_dll" "$tool" "${args[@]}")
}
