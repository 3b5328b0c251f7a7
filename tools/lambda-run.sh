#!/usr/bin/env bash
# Runs a published function the way the dotnet8 managed runtime does, with no AWS account:
#   tools/lambda-run.sh <publish folder> <Assembly::Namespace.Type::Method> <event.json> [archive folder]
# The publish folder is mounted read-only at /var/task in a private mount namespace (unshare -m, as root), the exec
# wrapper starts the host exactly as AWS_LAMBDA_EXEC_WRAPPER would (wrapper dotnet exec ...), with the variables
# Lambda sets. The archive comes from S3 when the function was published with a bucket (AWS_ENDPOINT_URL_S3 and
# credentials from the caller's environment), else from the archive folder (SNAPLOADER_ARCHIVE_DIR).
# Without permission for a mount namespace (or with SNAPLOADER_RUN_NO_NAMESPACE=1) it runs from the publish folder
# itself, made read-only for the run (mode bits, and no capabilities when started as root).
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 <publish folder> <Assembly::Namespace.Type::Method> <event.json> [archive folder]" >&2
  exit 2
fi
publish=$(cd "$1" && pwd)
handler=$2
event=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
archives=${4:-}
here=$(cd "$(dirname "$0")" && pwd)

host_dir="$here/SnapLoader.LambdaHost/bin/Release/net8.0"
if [ ! -f "$host_dir/SnapLoader.LambdaHost.dll" ] || [ -n "$(find "$here/SnapLoader.LambdaHost" -name '*.cs' -newer "$host_dir/SnapLoader.LambdaHost.dll")" ]; then
  dotnet build "$here/SnapLoader.LambdaHost/SnapLoader.LambdaHost.csproj" -c Release -nologo -v:q >&2
fi
dotnet=$(command -v dotnet)
wrapper_name=snaploader-exec-wrapper

lambda_env=(
  "LAMBDA_TASK_ROOT=/var/task"
  "LAMBDA_RUNTIME_DIR=/var/runtime"
  "AWS_LAMBDA_FUNCTION_NAME=${AWS_LAMBDA_FUNCTION_NAME:-snaploader-local}"
  "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=${AWS_LAMBDA_FUNCTION_MEMORY_SIZE:-3008}"
  "AWS_LAMBDA_FUNCTION_VERSION=\$LATEST"
  "AWS_REGION=${AWS_REGION:-us-east-1}"
  "AWS_DEFAULT_REGION=${AWS_REGION:-us-east-1}"
  "AWS_EXECUTION_ENV=AWS_Lambda_dotnet8"
  "AWS_LAMBDA_EXEC_WRAPPER=/var/task/$wrapper_name"
  "LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib"
  "DOTNET_ROLL_FORWARD=Major"
)
for name in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL_S3 AWS_LAMBDA_LOG_FORMAT SNAPLOADER_TARGET_DIR HOME PATH DOTNET_ROOT; do
  if [ -n "${!name:-}" ]; then lambda_env+=("$name=${!name}"); fi
done

if [ "${SNAPLOADER_RUN_NO_NAMESPACE:-}" != 1 ] && unshare -m --propagation private true 2>/dev/null; then
  [ -n "$archives" ] && lambda_env+=("SNAPLOADER_ARCHIVE_DIR=/var/snaploader-archives")
  mkdir -p /var/task /var/snaploader-archives
  exec unshare -m --propagation private env -i "${lambda_env[@]}" bash -c '
    set -e
    mount --bind "$0" /var/task && mount -o remount,bind,ro /var/task
    if [ -n "$1" ]; then mount --bind "$1" /var/snaploader-archives; fi
    # A function published without SnapLoader has no wrapper: started as the runtime would without one.
    wrapper=/var/task/'"$wrapper_name"'
    [ -x "$wrapper" ] || wrapper=
    exec $wrapper "$2" exec "$3/SnapLoader.LambdaHost.dll" "$4" "$5"
  ' "$publish" "$archives" "$dotnet" "$host_dir" "$handler" "$event"
fi

# Fallback without a mount namespace: the task root is the publish folder, read-only for the run.
echo "lambda-run: no mount namespace here; running from $publish, made read-only" >&2
[ -n "$archives" ] && lambda_env+=("SNAPLOADER_ARCHIVE_DIR=$archives")
lambda_env=("${lambda_env[@]//\/var\/task/$publish}")   # LAMBDA_TASK_ROOT, the wrapper, LD_LIBRARY_PATH
chmod -R a-w "$publish"
trap 'chmod -R u+w "$publish"' EXIT
# Root writes through any mode bits while it holds CAP_DAC_OVERRIDE: the run gets no capabilities at all.
drop=()
[ "$(id -u)" -ne 0 ] || drop=(setpriv --bounding-set=-all --inh-caps=-all)
wrapper="$publish/$wrapper_name"
[ -x "$wrapper" ] || wrapper=
"${drop[@]}" env -i "${lambda_env[@]}" $wrapper "$dotnet" exec "$host_dir/SnapLoader.LambdaHost.dll" "$handler" "$event"
