#!/usr/bin/env bash
# Set everything up, then run the tests.
#   ./scripts/test.sh                         the whole suite on the NumPy reference backend,
#                                             then again on the C backend (the default one)
#   ./scripts/test.sh tests/test_seeds.py -x  arguments go to pytest (one run, default backend)
# THEANOLAB_FLAGS=linker=py (or c|py) picks the backend of a run: that is the one switch.
# THEANOLAB_TEST_PASS names the pass, so backend-independent tests (docs, browser) run in one only.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup-env.sh"

# graphviz draws the teaching layer's graphs; chromium runs the browser tests (tests/viz, tests/course);
# the docs extra builds the site (tests/docs).
setup_env "test,notebook,docs" graphviz chromium
need_c_toolchain
cd "$ROOT"
if [ $# -gt 0 ]; then
    exec "$PY" -m pytest "$@"
fi
say "the suite on the reference backend (linker=py; tests/c and tests/cuda run in the next pass only)"
THEANOLAB_TEST_PASS=reference THEANOLAB_FLAGS="${THEANOLAB_FLAGS:+$THEANOLAB_FLAGS,}linker=py" "$PY" -m pytest -q -p no:cacheprovider --ignore=tests/c --ignore=tests/cuda
say "the suite on the C backend (linker=c|py)"
THEANOLAB_TEST_PASS=c THEANOLAB_FLAGS="${THEANOLAB_FLAGS:+$THEANOLAB_FLAGS,}linker=c|py" "$PY" -m pytest -q -p no:cacheprovider
