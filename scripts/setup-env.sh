# Shared set-up for scripts/demo.sh, scripts/test.sh and scripts/bench.sh (sourced, not run).
#
# `setup_env EXTRAS [DEBIAN_PACKAGE...]` makes sure that
#   1. the named Debian packages are installed (apt-get, only the missing ones),
#   2. a Python >= 3.10 with venv exists (Debian's python3 and python3-venv otherwise),
#   3. the virtual environment $THEANOLAB_VENV (default: .venv in the checkout) exists,
#   4. theanolab is installed in it, editable, with EXTRAS (e.g. "test" or "test,bench").
# Step 4 is skipped when pyproject.toml and setup.py are unchanged since an install with
# EXTRAS or more (one stamp per install), so a second run starts at once.  Afterwards $PY is the environment's python.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${THEANOLAB_VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}

say() { printf '==> %s\n' "$*" >&2; }

need_debian_packages() {
    local missing=() package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null; then
        say "error: these Debian packages are needed and there is no apt-get: ${missing[*]}"
        return 1
    fi
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    say "installing Debian packages: ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}"
}

python_is_usable() {
    command -v "$PYTHON" >/dev/null &&
        "$PYTHON" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null
}

# True when an install stamped with $2 has every extra of the comma-separated list $1
# (after ./scripts/test.sh installed [test,notebook,docs], ./scripts/demo.sh needs nothing more).
installed_with() {
    local wanted=$1 key=$2 stamp have extra
    for stamp in "$VENV"/.theanolab-installed-\[*\]; do
        [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] || continue
        have=${stamp##*installed-[}
        have=",${have%]},"
        for extra in ${wanted//,/ }; do
            [[ $have == *",$extra,"* ]] || continue 2
        done
        return 0
    done
    return 1
}

setup_env() {
    local extras=$1
    shift
    need_debian_packages "$@"
    if ! python_is_usable; then
        say "no Python >= 3.10 with venv found as '$PYTHON'; installing Debian's"
        need_debian_packages python3 python3-venv python3-pip
        PYTHON=python3
        python_is_usable || { say "error: python3 is older than 3.10 or lacks venv"; return 1; }
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating the virtual environment $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    PY=$VENV/bin/python
    local stamp=$VENV/.theanolab-installed-[$extras] key
    key=$(cat "$ROOT/pyproject.toml" "$ROOT/setup.py" | sha256sum | cut -c1-64)
    if ! installed_with "$extras" "$key"; then
        say "installing theanolab${extras:+[$extras]} into $VENV"
        "$PY" -m pip install --quiet --disable-pip-version-check -e "$ROOT${extras:+[$extras]}"
        echo "$key" >"$stamp"
    fi
}

# The C backend compiles generated code: it needs a C compiler and the headers of $PY.
need_c_toolchain() {
    command -v cc >/dev/null || need_debian_packages gcc libc6-dev
    "$PY" -c 'import os, sysconfig, sys; sys.exit(not os.path.isfile(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' ||
        need_debian_packages python3-dev
}
