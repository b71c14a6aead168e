#!/usr/bin/env bash
# Set up the benchmark environment (theanolab plus PyTensor and JAX on CPU: the
# `bench` extra) and run every benchmark, updating the tables in docs/benchmarks.md.
# Arguments go to benchmarks/run_all.py (--quick: tiny sizes, print only).  Uses its
# own environment, .venv-bench, so the test environment stays small.  A C compiler
# serves theanolab's C backend, PyTensor's (g++) and the hand-written C anchor; the
# OpenBLAS that PyTensor is linked to in one column is theanolab's own dependency,
# the scipy-openblas32 wheel, so nothing else is installed.
set -euo pipefail
export THEANOLAB_VENV=${THEANOLAB_VENV:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv-bench}
source "$(dirname "${BASH_SOURCE[0]}")/setup-env.sh"

setup_env "bench"
need_c_toolchain
command -v g++ >/dev/null || need_debian_packages g++
cd "$ROOT"
exec "$PY" benchmarks/run_all.py "$@"
