#!/usr/bin/env bash
# Packs SnapLoader, publishes samples/OnnxEmbedding with it, and runs the published function the way the dotnet10
# managed runtime does, with no AWS account: the real runtime client (Amazon.Lambda.RuntimeSupport) against a Runtime
# API on 127.0.0.1, a read-only /var/task, the exec wrapper, the archive loaded into memory files at init, then
# SnapStart's before-snapshot hook, restore and after-restore hook, then two invocations.
set -euo pipefail
cd "$(dirname "$0")"

# What the run needs, as the test command installs it (see test.sh).
missing=()
command -v gcc >/dev/null || missing+=(gcc)
command -v make >/dev/null || missing+=(make)
command -v cmake >/dev/null || missing+=(cmake)
command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

dotnet pack src/SnapLoader.Runtime -c Release -o artifacts/packages -nologo -v:q
dotnet pack src/SnapLoader.Build.Tasks -c Release -o artifacts/packages -nologo -v:q
rm -rf artifacts/sample-packages/snaploader.*   # never a stale copy of the same version

dotnet publish samples/OnnxEmbedding -c Release -nologo
tools/lambda-run.sh samples/OnnxEmbedding/bin/Release/net10.0/linux-x64/publish \
  OnnxEmbedding::OnnxEmbedding.Function::Handler samples/OnnxEmbedding/event.json \
  samples/OnnxEmbedding/bin/Release/net10.0/linux-x64/snaploader
