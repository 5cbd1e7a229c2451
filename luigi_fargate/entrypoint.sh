#!/bin/sh
# The container's one ENTRYPOINT. This file is a template: install it at image build time with
#
#     luigi-fargate entrypoint-path --install /usr/local/bin/luigi-fargate-entrypoint
#
# which writes it with the absolute path of the Python that has luigi-fargate installed in
# place of the placeholder below. The script then looks nothing up through PATH (an ECS
# environment override of PATH can't make it run another program), and `-P` keeps the
# working directory off sys.path.
#
# Every argument goes to `luigi-fargate run` as an argv list. No shell ever evaluates the
# arguments, so `;`, `$(...)` or backticks in an ECS command override are plain text, and
# anything that isn't an allowlisted task invocation is refused by the runner (exit 2 or 3)
# before any code is imported.
set -eu
PYTHON=@LUIGI_FARGATE_PYTHON@
case "$PYTHON" in
    /*) ;;
    *)
        echo "luigi-fargate-entrypoint: this is the uninstalled template; install it at build time with 'luigi-fargate entrypoint-path --install DEST'" >&2
        exit 2
        ;;
esac
if [ "$#" -eq 0 ]; then
    echo "luigi-fargate-entrypoint: usage: [runner options] MODULE FAMILY [--param value ...]" >&2
    exit 2
fi
exec "$PYTHON" -P -m luigi_fargate run "$@"
