#!/usr/bin/env bash
# Runs a published function under the real .NET Lambda runtime client, the way the dotnet10 managed runtime runs it,
# with no AWS account:
#   tools/lambda-run.sh <publish folder> <handler> <event.json> [archive folder]
# A Runtime API on 127.0.0.1 (tools/SnapLoader.RuntimeApi) starts the runtime's bootstrap
# (tools/SnapLoader.LambdaRuntime, Amazon.Lambda.RuntimeSupport) in a sandbox laid out as Lambda's
# (tools/lambda-sandbox.sh): the publish folder read-only at /var/task, the runtime at /var/runtime, dotnet at
# /var/lang/bin, Lambda's variables, the exec wrapper when the function has one. With SnapStart (the default here,
# AWS_LAMBDA_INITIALIZATION_TYPE=snap-start) the runtime runs the before-snapshot hooks, waits on restore/next and
# runs the after-restore hooks before its first invocation, as on Lambda. The event is invoked
# SNAPLOADER_RUN_INVOKES times (default 2); SNAPLOADER_RUN_RESULT names a file for every Runtime API call, the
# responses and the memory files the process held, as JSON; SNAPLOADER_RUN_BEFORE_RESTORE a shell command run while
# restore/next waits (a change to the environment during the snapshot). Exit status 0 when every invocation was
# answered.
# The archive comes from S3 when the function was published with a bucket (AWS_ENDPOINT_URL_S3 and credentials from
# the caller's environment), else from the archive folder (SNAPLOADER_ARCHIVE_DIR).
# Without permission for a mount namespace (or with SNAPLOADER_RUN_NO_NAMESPACE=1) it runs from the publish folder
# itself, made read-only for the run (mode bits, and no capabilities when started as root).
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 <publish folder> <handler> <event.json> [archive folder]" >&2
  exit 2
fi
publish=$(cd "$1" && pwd)
handler=$2
event=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
archives=${4:-}
[ -z "$archives" ] || archives=$(cd "$archives" && pwd)
here=$(cd "$(dirname "$0")" && pwd)

# Both tools are built on first use and when their sources change; one build at a time.
build_tool() {
  local name=$1 dll="$here/$1/bin/Release/net10.0/$1.dll"
  if [ ! -f "$dll" ] || [ -n "$(find "$here/$name" -newer "$dll" \( -name '*.cs' -o -name '*.csproj' -o -name bootstrap -o -name runtime-release \) -not -path '*/obj/*' -not -path '*/bin/*')" ]; then
    flock "$here/.build.lock" dotnet build "$here/$name/$name.csproj" -c Release -nologo -v:q >&2
  fi
}
build_tool SnapLoader.LambdaRuntime
build_tool SnapLoader.RuntimeApi

mode=namespace
if [ "${SNAPLOADER_RUN_NO_NAMESPACE:-}" = 1 ] || ! unshare -m --propagation private true 2>/dev/null; then
  mode=folder
  echo "lambda-run: no mount namespace here; running from $publish, made read-only" >&2
  chmod -R a-w "$publish"
  trap 'chmod -R u+w "$publish"' EXIT
fi

api=(dotnet "$here/SnapLoader.RuntimeApi/bin/Release/net10.0/SnapLoader.RuntimeApi.dll" --event "$event" --invokes "${SNAPLOADER_RUN_INVOKES:-2}")
[ -z "${SNAPLOADER_RUN_RESULT:-}" ] || api+=(--result "$SNAPLOADER_RUN_RESULT")
[ -z "${SNAPLOADER_RUN_BEFORE_RESTORE:-}" ] || api+=(--before-restore "$SNAPLOADER_RUN_BEFORE_RESTORE")
status=0
"${api[@]}" -- bash "$here/lambda-sandbox.sh" "$mode" "$publish" "$here/SnapLoader.LambdaRuntime/bin/Release/net10.0" "$handler" "$archives" || status=$?
exit "$status"
