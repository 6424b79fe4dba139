#!/usr/bin/env bash
# Make sure Debian's bubblewrap is present: `lstm-course grade` runs every student kernel in it.
set -euo pipefail
if command -v bwrap >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "bubblewrap is missing; install it with: sudo apt-get install -y bubblewrap" >&2
  exit 1
fi
echo "installing Debian's bubblewrap (the grading sandbox)..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null
command -v bwrap
