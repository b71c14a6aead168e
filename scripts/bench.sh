#!/usr/bin/env bash
# Set up the benchmark environment (theanolab plus PyTensor) and run every benchmark,
# updating the table in docs/benchmarks.md.  Arguments go to benchmarks/run_all.py
# (--quick: tiny sizes, print only).  Uses its own environment, .venv-bench, so the
# test environment stays small.
set -euo pipefail
export THEANOLAB_VENV=${THEANOLAB_VENV:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv-bench}
source "$(dirname "${BASH_SOURCE[0]}")/setup-env.sh"

setup_env "bench"
cd "$ROOT"
exec "$PY" benchmarks/run_all.py "$@"
