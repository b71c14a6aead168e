#!/usr/bin/env bash
# The main job: set everything up, then open the course in JupyterLab.
#   ./scripts/demo.sh                      JupyterLab on the course notebooks (notebooks/); it prints the URL
#   ./scripts/demo.sh --port 8899          arguments go to JupyterLab (e.g. --no-browser, --ip)
#   ./scripts/demo.sh --headless           no browser: train the tutorial's logistic regression in the terminal
#   ./scripts/demo.sh --headless --steps 100   arguments after --headless go to the demo (--help lists them)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup-env.sh"

if [ "${1:-}" = "--headless" ]; then
    shift
    setup_env ""
    need_c_toolchain
    exec "$PY" -m theanolab.demo "$@"
fi
# graphviz lays out the teaching layer's graphs (the notebook extra also ships a fallback).
setup_env "notebook" graphviz
need_c_toolchain
root_flag=()
[ "$(id -u)" -ne 0 ] || root_flag=(--allow-root)  # JupyterLab refuses root without it (containers)
say "opening the course: JupyterLab on $ROOT/notebooks (Ctrl-C to stop)"
exec "$PY" -m jupyterlab --ServerApp.root_dir="$ROOT/notebooks" "${root_flag[@]}" "$@"
