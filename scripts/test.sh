#!/usr/bin/env bash
# Set everything up, then run the test suite.  Arguments go to pytest:
# ./scripts/test.sh tests/test_import.py -x
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup-env.sh"

setup_env "test"
cd "$ROOT"
exec "$PY" -m pytest "$@"
