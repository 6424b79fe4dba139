#!/usr/bin/env bash
# Make sure a Debian package's command is present: ensure-deb.sh COMMAND PACKAGE [MORE PACKAGES...]
# `make test` uses it for chromium and its fonts (the book's browser checks and prints), bubblewrap
# (the grading sandbox) and PostgreSQL (the gradebook tests). COMMAND is a name on PATH, or a path
# pattern for what Debian keeps off PATH (PostgreSQL's initdb: '/usr/lib/postgresql/*/bin/initdb', a font).
# It installs the distribution's package with apt-get (as root) and never downloads anything else.
set -euo pipefail
cmd="$1"
shift
have() {
  case "$cmd" in
    */*) compgen -G "$cmd" >/dev/null ;;
    *) command -v "$cmd" >/dev/null 2>&1 ;;
  esac
}
if have; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "$cmd is missing; install it with: sudo apt-get install -y $*" >&2
  exit 1
fi
echo "installing Debian's $* ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "$@" >/dev/null
have || { echo "installed $*, but $cmd is still missing" >&2; exit 1; }
