#!/usr/bin/env bash
# The main job: set everything up, then train the tutorial's logistic regression and print
# its progress.  Arguments go to the demo: ./scripts/demo.sh --steps 10000
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup-env.sh"

# Debian packages the demo needs (none yet: the JupyterLab course will add graphviz here).
setup_env ""
need_c_toolchain
exec "$PY" -m theanolab.demo "$@"
