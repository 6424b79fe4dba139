#!/usr/bin/env bash
# Make sure reveal.js is installed for the offline slides (scripts/slides.py): `make reveal`, `make test`.
# It fetches one pinned version from the npm registry at install time (`npm pack`), checks the
# tarball's sha512 against the integrity npm publishes for it (pinned below), and unpacks it into
# $VENV/share/reveal.js-$VERSION/. Nothing is fetched when that folder is already there.
# 4.6.1 is the last 4.x release: nbconvert 7.17's reveal template was written for reveal.js 4
# (its default is unpkg's reveal.js@4.0.2) and loads dist/reveal.js, dist/reveal.css,
# dist/theme/<theme>.css and plugin/notes/notes.js, which 4.6.1 has at the same paths.
set -euo pipefail
VERSION=4.6.1
INTEGRITY="sha512-1CW0auaXNPmwmvQ7TwpszwVxMi2Xr5cTS3J3EBC/HHgbPF32Dn7aiu/LKWDOGjMbaDwKQiGmfqcoGQ74HUHCMw=="
VENV="${VENV:-.venv}"
dest="$VENV/share/reveal.js-$VERSION"

if [ -f "$dest/dist/reveal.js" ] && [ -f "$dest/plugin/notes/notes.js" ]; then
  exit 0
fi
bash "$(dirname "$0")/ensure-deb.sh" npm npm # Debian's npm, when it is missing (the CI image has none)
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "fetching reveal.js $VERSION from the npm registry ..."
(cd "$tmp" && npm pack --silent "reveal.js@$VERSION" >/dev/null)
tgz="$tmp/reveal.js-$VERSION.tgz"
want="$(printf '%s' "${INTEGRITY#sha512-}" | base64 -d | od -An -tx1 | tr -d ' \n')"
got="$(sha512sum "$tgz" | cut -d' ' -f1)"
if [ "$got" != "$want" ]; then
  echo "reveal.js-$VERSION.tgz: sha512 $got is not the pinned $want" >&2
  exit 1
fi
mkdir -p "$tmp/unpacked" "$VENV/share"
tar -xzf "$tgz" -C "$tmp/unpacked"
rm -rf "$dest"
mv "$tmp/unpacked/package" "$dest"
echo "reveal.js $VERSION: $dest"
