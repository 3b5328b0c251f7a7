#!/usr/bin/env bash
# Builds libsnaploader_preload.so for one runtime identifier and copies it to <outdir>.
#   native/build.sh linux-x64 <outdir>     (gcc)
#   native/build.sh linux-arm64 <outdir>   (aarch64-linux-gnu-gcc; Debian: gcc-aarch64-linux-gnu)
# Set SNAPLOADER_NATIVE_BUILD_DIR to choose the CMake build folder (default: native/build/<rid>).
# Pass --test as a third argument to also run the C tests (arm64: through qemu-aarch64 when installed).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
rid="${1:?usage: build.sh <linux-x64|linux-arm64> <outdir> [--test]}"
outdir="${2:?usage: build.sh <linux-x64|linux-arm64> <outdir> [--test]}"
run_tests="${3:-}"
build="${SNAPLOADER_NATIVE_BUILD_DIR:-$here/build/$rid}"
args=(-DCMAKE_BUILD_TYPE=Release)
case "$rid" in
  linux-x64) ;;
  linux-arm64) args+=(-DCMAKE_TOOLCHAIN_FILE="$here/cmake/aarch64-linux-gnu.cmake") ;;
  *) echo "build.sh: unsupported runtime identifier '$rid' (linux-x64 or linux-arm64)" >&2; exit 2 ;;
esac
[ "$run_tests" = "--test" ] || args+=(-DBUILD_TESTING=OFF)
cmake -S "$here" -B "$build" "${args[@]}" >/dev/null
cmake --build "$build" --parallel >/dev/null
mkdir -p "$outdir"
# A new file renamed into place, never a copy over the old one: a process that has the old one mapped (a test's child
# while another test run builds) would otherwise run the new bytes at the old addresses and crash.
cp "$build/libsnaploader_preload.so" "$outdir/.libsnaploader_preload.so.$$"
mv -f "$outdir/.libsnaploader_preload.so.$$" "$outdir/libsnaploader_preload.so"
if [ "$run_tests" = "--test" ]; then
  ctest --test-dir "$build" --output-on-failure
fi
