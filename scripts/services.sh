#!/usr/bin/env bash
# Starts (or stops) every server the tests need that is not already running.
# Each scripts/services/NAME.sh owns one service: `start` is idempotent and
# records what it started under .services/, `stop` stops only that.
set -euo pipefail
cd "$(dirname "$0")/.."
action=${1:-start}
mkdir -p .services
status=0
for s in scripts/services/*.sh; do
	[ -e "$s" ] || continue
	if ! bash "$s" "$action"; then
		echo "services: $s $action failed" >&2
		status=1
	fi
done
# The demo's browser test needs Chromium: a program, not a server, so there
# is nothing to stop. The test finds it where this installs it.
if [ "$action" = start ] && ! bash scripts/chromium.sh >/dev/null; then
	echo "services: scripts/chromium.sh failed" >&2
	status=1
fi
exit $status
