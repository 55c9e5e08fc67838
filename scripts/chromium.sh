#!/usr/bin/env bash
# Prints the path of the Chromium that the demo's browser test
# (examples/demo/browser_test.go) drives, installing Debian's chromium
# package first when it is absent. Nothing else goes to stdout, so that
# `CLOAKROOM_CHROMIUM=$(scripts/chromium.sh)` works; progress and errors go
# to stderr. Only a distribution package will do: this machine's closed
# network refuses the prebuilt browsers that tools download for themselves.
#
# Start it with --headless --no-sandbox --disable-gpu --disable-quic
# --no-first-run --disable-background-networking --disable-component-update
# --disable-sync and a fresh --user-data-dir: this machine's closed network
# refuses the connections Chromium otherwise makes in the background.
set -euo pipefail

chromium=/usr/bin/chromium

die() {
	echo "chromium: $*" >&2
	exit 1
}

works() { [ -x "$chromium" ] && "$chromium" --version >/dev/null 2>&1; }

if ! works; then
	command -v apt-get >/dev/null || die "$chromium is missing and there is no apt-get to install Debian's chromium package"
	echo "chromium: installing Debian package chromium" >&2
	export DEBIAN_FRONTEND=noninteractive
	# apt's chatter (debconf notes and the like) is shown only on failure,
	# to keep a successful run down to the path.
	log=$(mktemp)
	trap 'rm -f "$log"' EXIT
	apt-get update -qq >"$log" 2>&1 || { cat "$log" >&2; die "apt-get update failed"; }
	apt-get install -y -qq chromium >"$log" 2>&1 || { cat "$log" >&2; die "apt-get install -y chromium failed"; }
	works || die "$chromium does not run after installing Debian's chromium package"
fi
echo "$chromium"
