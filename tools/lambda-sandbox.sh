#!/usr/bin/env bash
# Starts the runtime's bootstrap in an environment laid out as Lambda's; tools/lambda-run.sh calls it under the
# Runtime API, which sets AWS_LAMBDA_RUNTIME_API. Every step execs, so the runtime keeps this script's process id.
#   lambda-sandbox.sh namespace|folder <publish folder> <runtime folder> <handler> <archive folder or "">
set -euo pipefail
mode=$1 publish=$2 runtime=$3 handler=$4 archives=$5
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
wrapper_name=snaploader-exec-wrapper
function_name=${AWS_LAMBDA_FUNCTION_NAME:-snaploader-local}

# What Lambda sets for a dotnet10 function (and the image's own ENV), then what the caller passes on.
lambda_env=(
  "LAMBDA_TASK_ROOT=/var/task"
  "LAMBDA_RUNTIME_DIR=/var/runtime"
  "_HANDLER=$handler"
  "AWS_LAMBDA_RUNTIME_API=$AWS_LAMBDA_RUNTIME_API"
  "AWS_LAMBDA_FUNCTION_NAME=$function_name"
  "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=${AWS_LAMBDA_FUNCTION_MEMORY_SIZE:-3008}"
  "AWS_LAMBDA_FUNCTION_VERSION=${AWS_LAMBDA_FUNCTION_VERSION:-1}"
  "AWS_LAMBDA_INITIALIZATION_TYPE=${AWS_LAMBDA_INITIALIZATION_TYPE:-snap-start}"
  "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/$function_name"
  "AWS_LAMBDA_LOG_STREAM_NAME=$(date -u +%Y/%m/%d)/[1]00000000000000000000000000000000"
  "AWS_REGION=${AWS_REGION:-us-east-1}"
  "AWS_DEFAULT_REGION=${AWS_REGION:-us-east-1}"
  "LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib"
  "PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin"
  "LANG=en_US.UTF-8"
  "TZ=:UTC"
  "DOTNET_ROOT=/var/lang/bin"
  "DOTNET_RUNNING_IN_CONTAINER=true"
  "DOTNET_NOLOGO=true"
  "DOTNET_CLI_TELEMETRY_OPTOUT=true"
)
# The function's configuration: the caller's wrapper if it names one, else SnapLoader's when the function has it.
if [ -n "${AWS_LAMBDA_EXEC_WRAPPER:-}" ]; then
  lambda_env+=("AWS_LAMBDA_EXEC_WRAPPER=$AWS_LAMBDA_EXEC_WRAPPER")
elif [ -f "$publish/$wrapper_name" ]; then
  lambda_env+=("AWS_LAMBDA_EXEC_WRAPPER=/var/task/$wrapper_name")
fi
for name in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL_S3 AWS_LAMBDA_LOG_FORMAT AWS_LAMBDA_LOG_LEVEL \
  SNAPLOADER_ARCHIVE SNAPLOADER_TARGET_DIR SNAPLOADER_LOAD_TIMEOUT; do
  if [ -n "${!name:-}" ]; then lambda_env+=("$name=${!name}"); fi
done

if [ "$mode" = namespace ]; then
  [ -z "$archives" ] || lambda_env+=("SNAPLOADER_ARCHIVE_DIR=/var/snaploader-archives")
  mkdir -p /var/task /var/runtime /var/lang/bin /var/snaploader-archives
  exec unshare -m --propagation private env -i "${lambda_env[@]}" bash -c '
    set -e
    mount --bind "$0" /var/task && mount -o remount,bind,ro /var/task
    mount --bind "$1" /var/runtime && mount -o remount,bind,ro /var/runtime
    mount --bind "$2" /var/lang/bin && mount -o remount,bind,ro /var/lang/bin
    if [ -n "$3" ]; then mount --bind "$3" /var/snaploader-archives; fi
    cd /var/task
    exec /var/runtime/bootstrap "$4"
  ' "$publish" "$runtime" "$dotnet_root" "$archives" "$handler"
fi

# Without a mount namespace: the folders stay where they are (lambda-run.sh made the publish folder read-only).
[ -z "$archives" ] || lambda_env+=("SNAPLOADER_ARCHIVE_DIR=$archives")
lambda_env=("${lambda_env[@]//\/var\/task/$publish}")   # LAMBDA_TASK_ROOT, the wrapper, LD_LIBRARY_PATH
lambda_env=("${lambda_env[@]//\/var\/runtime/$runtime}")
lambda_env=("${lambda_env[@]//\/var\/lang\/bin/$dotnet_root}")
# Root writes through any mode bits while it holds CAP_DAC_OVERRIDE: the run gets no capabilities at all.
drop=()
[ "$(id -u)" -ne 0 ] || drop=(setpriv --bounding-set=-all --inh-caps=-all)
cd "$publish"
exec ${drop[@]+"${drop[@]}"} env -i "${lambda_env[@]}" "$runtime/bootstrap" "$handler"
