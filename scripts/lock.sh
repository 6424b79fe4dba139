#!/usr/bin/env bash
# The locked environment: requirements.lock pins every package that `.[course,dev]` pulls in, plus the
# installers themselves (pip, setuptools, wheel, uv), for CPython 3.11 on x86-64 Linux.
#
#   scripts/lock.sh install   # `make setup`: make $VENV exactly requirements.lock, then `-e .` without deps
#   scripts/lock.sh compile   # `make lock`: resolve pyproject.toml again and rewrite requirements.lock
#
# uv does the work (2x faster than pip here with empty caches, 15x with warm ones: see the README); pip
# puts the locked uv in the venv first. Where uv cannot be installed, or with INSTALLER=pip, pip installs
# the lock.
# uv does not read pip's configuration, so the package sources pip is configured with (PIP_* variables,
# then pip.conf's [global]: find-links, index-url, extra-index-url, constraint, cert) are handed to uv
# as flags; sources that do not exist on this machine are left out. torch is pinned to its CPU build
# (2.13.0+cpu), which is not on PyPI: pip's find-links must hold it (elsewhere, add PyTorch's CPU wheel
# index as PIP_EXTRA_INDEX_URL).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PY=${PY:-python3.11}
LOCK=requirements.lock
BIN=$VENV/bin

pip_conf() { # pip_conf KEY: what pip uses for --KEY, from PIP_KEY or else pip.conf's [global]
    local var
    var="PIP_$(tr 'a-z-' 'A-Z_' <<<"$1")"
    if [[ -n "${!var:-}" ]]; then
        printf '%s\n' "${!var}"
    else
        "$BIN/python" -m pip config get "global.$1" 2>/dev/null || true
    fi
}

exists() { # a URL, or a path (file:// or plain) that is there
    local p=${1#file://}
    [[ $1 != file://* && $1 == *://* ]] || [[ -e $p ]]
}

uv_sources() { # fills UV_ARGS with pip's package sources, as uv flags
    UV_ARGS=(--index-strategy unsafe-best-match) # like pip: the best version from any source
    local v
    for v in $(pip_conf find-links); do exists "$v" && UV_ARGS+=(--find-links "$v"); done
    for v in $(pip_conf index-url); do exists "$v" && UV_ARGS+=(--index-url "$v"); done
    for v in $(pip_conf extra-index-url); do exists "$v" && UV_ARGS+=(--extra-index-url "$v"); done
    for v in $(pip_conf constraint); do exists "$v" && UV_ARGS+=(--constraint "$v"); done
    v=$(pip_conf cert)
    if [[ -n $v && -e $v && -z ${SSL_CERT_FILE:-} ]]; then export SSL_CERT_FILE=$v; fi
    return 0
}

ensure_venv() {
    if ! [[ -x $BIN/python ]]; then "$PY" -m venv "$VENV"; fi
}

ensure_uv() { # 0 when $BIN/uv is the locked version, else says why pip will do instead
    local want
    want=$(grep -E '^uv==' "$LOCK")
    if [[ ${INSTALLER:-uv} == pip ]]; then return 1; fi
    if [[ -x $BIN/uv && "$("$BIN/uv" --version 2>/dev/null | cut -d' ' -f2)" == "${want#uv==}" ]]; then
        return 0
    fi
    if "$BIN/python" -m pip install --quiet "$want"; then return 0; fi
    echo "lock.sh: could not install $want with pip; installing the lock with pip instead (slower)" >&2
    return 1
}

install() {
    ensure_venv
    if ensure_uv; then
        uv_sources
        # --compile-bytecode: the .pyc files now, once. Python would write them on first import, but
        # not where PYTHONDONTWRITEBYTECODE is set or the folder is read-only (every sandboxed kernel):
        # then every process compiles all it imports again (import tensorflow: 6.8 s against 3.5 s)
        "$BIN/uv" pip sync --python "$BIN/python" --quiet --compile-bytecode "${UV_ARGS[@]}" "$LOCK"
        "$BIN/uv" pip install --python "$BIN/python" --quiet --no-deps --no-build-isolation -e .
    else
        "$BIN/python" -m pip install --quiet -r "$LOCK"
        "$BIN/python" -m pip install --quiet --no-deps --no-build-isolation -e .
    fi
}

compile() {
    ensure_venv
    ensure_uv || {
        echo "lock.sh: compiling the lock needs uv" >&2
        exit 1
    }
    uv_sources
    # the installers are locked too: `uv pip sync` keeps only what the lock lists
    printf 'pip\nsetuptools>=77\nwheel\nuv\n' | "$BIN/uv" pip compile --python "$BIN/python" "${UV_ARGS[@]}" \
        --extra course --extra dev --custom-compile-command "make lock" -o "$LOCK" pyproject.toml -
}

case "${1:-}" in
install) install ;;
compile) compile ;;
*)
    echo "usage: $0 install|compile" >&2
    exit 2
    ;;
esac
