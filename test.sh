#!/usr/bin/env bash
# Runs every test on a fresh Linux machine: installs what the tests need, builds, tests, and ends with one line
# "N passed, N failed[, N skipped]". Usage: ./test.sh [extra dotnet test arguments]
set -euo pipefail
cd "$(dirname "$0")"

install_apt_packages() {
  local missing=()
  command -v gcc >/dev/null || missing+=(gcc)
  command -v unzip >/dev/null || missing+=(unzip)
  command -v zip >/dev/null || missing+=(zip)
  command -v python3 >/dev/null || missing+=(python3)
  command -v node >/dev/null || missing+=(nodejs npm)
  # The preload shim: cmake builds it for linux-x64 and, with the cross compiler, linux-arm64; qemu runs the
  # arm64 tests.
  command -v cmake >/dev/null || missing+=(cmake)
  command -v make >/dev/null || missing+=(make)
  command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
  command -v qemu-aarch64 >/dev/null || missing+=(qemu-user)
  if [ ${#missing[@]} -gt 0 ]; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

install_apt_packages
# s3rver: the S3-compatible server the tests start on 127.0.0.1.
npm ci --prefix tests/s3rver --no-audit --no-fund --loglevel=error >/dev/null

results="artifacts/test-results"
rm -rf "$results"
dotnet build SnapLoader.Build.sln -c Debug -nologo -v:q
status=0
# One project at a time, each into its own folder: TRX names are timestamps and would collide.
for project in tests/*/*.Tests.csproj; do
  name=$(basename "$project" .csproj)
  dotnet test "$project" -c Debug --no-build --logger trx --results-directory "$results/$name" "$@" || status=$?
done

# One closing line for people and CI, summed over the TRX files of every test project.
sum() { grep -ho "$1=\"[0-9]*\"" "$results"/*/*.trx 2>/dev/null | grep -o '[0-9]*' | awk '{s+=$1} END {print s+0}'; }
passed=$(sum passed); failed=$(sum failed); total=$(sum total)
skipped=$((total - passed - failed))
if [ "$total" -eq 0 ]; then
  echo "no test ran" >&2
  status=1
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "dotnet test failed outside the tests (see above)" >&2
fi
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
exit "$status"
