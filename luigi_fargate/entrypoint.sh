#!/bin/sh
# The container's one ENTRYPOINT: every argument goes to `luigi-fargate run` as an argv
# list. No shell ever evaluates the arguments, so `;`, `$(...)` or backticks in an ECS
# command override are plain text, and anything that isn't an allowlisted task
# invocation is refused by the runner (exit 2 or 3) before any code is imported.
set -eu
if [ "$#" -eq 0 ]; then
    echo "luigi-fargate-entrypoint: usage: [runner options] MODULE FAMILY [--param value ...]" >&2
    exit 2
fi
exec luigi-fargate run "$@"
