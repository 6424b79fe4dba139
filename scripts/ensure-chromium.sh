#!/usr/bin/env bash
# Make sure Debian's chromium is present for the headless-browser test of the book.
# Never downloads a browser of its own: it uses the distribution's package.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "chromium is missing; install it with: sudo apt-get install -y chromium" >&2
  exit 1
fi
echo "installing Debian's chromium (for the book's browser test)..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
command -v chromium
