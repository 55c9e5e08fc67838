#!/usr/bin/env bash
# MongoDB for backends/mongodb tests. Debian ships no MongoDB server, so this
# builds FerretDB v1 (the MongoDB wire protocol over SQLite) from the Go
# module proxy (tools/ferretdb, its own module) into .services/bin/ferretdb
# and starts it on 127.0.0.1:27017 with a fresh data directory under
# .services/ferretdb-data. A MongoDB server already answering on 27017 is
# used as it is. The binary is built even then: the backend's restart test
# starts its own FerretDB on a free port.
#
# Usage: scripts/services/mongodb.sh start|stop
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=$ROOT/.services/bin/ferretdb
SRC=$ROOT/tools/ferretdb
DATA=$ROOT/.services/ferretdb-data
PIDFILE=$ROOT/.services/ferretdb.pid
LOG=$ROOT/.services/ferretdb.log
ADDR=127.0.0.1:27017
URI=mongodb://$ADDR/
WAIT_SECONDS=60

log() { echo "mongodb.sh: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# build compiles tools/ferretdb when the binary is absent or older than any
# of its sources. A cold module cache takes a minute or two.
build() {
	if [ -x "$BIN" ] && [ -z "$(find "$SRC" -type f -newer "$BIN" -print -quit)" ]; then
		return
	fi
	command -v go >/dev/null || die "go is not on PATH; it is needed to build FerretDB"
	log "building FerretDB into $BIN"
	mkdir -p "$(dirname "$BIN")"
	(cd "$SRC" && GOWORK=off go build -o "$BIN.tmp" .) || die "building FerretDB failed"
	mv "$BIN.tmp" "$BIN"
}

port_open() { timeout 1 bash -c "</dev/tcp/${ADDR%:*}/${ADDR#*:}" 2>/dev/null; }

# answers: true when a MongoDB server (FerretDB or real) answers a ping.
answers() { port_open && "$BIN" -ping "$URI" >/dev/null 2>&1; }

# ours: true when the pid file names a live FerretDB this script started.
ours() {
	[ -f "$PIDFILE" ] || return 1
	local pid
	pid=$(cat "$PIDFILE")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$BIN"
}

start() {
	mkdir -p "$ROOT/.services"
	build
	if answers; then
		ours || log "a MongoDB server already answers on $ADDR; using it"
		return
	fi
	port_open && die "$ADDR is taken by something that does not answer a MongoDB ping"
	rm -rf "$DATA"
	mkdir -p "$DATA"
	setsid "$BIN" -listen "$ADDR" -data "$DATA" >"$LOG" 2>&1 </dev/null &
	echo $! >"$PIDFILE"
	local deadline=$((SECONDS + WAIT_SECONDS))
	until answers; do
		ours || die "FerretDB exited during start-up; its log: $(tail -n 20 "$LOG")"
		[ "$SECONDS" -lt "$deadline" ] || die "FerretDB did not answer on $ADDR within ${WAIT_SECONDS}s (log: $LOG)"
		sleep 0.2
	done
	log "FerretDB answers on $ADDR (pid $(cat "$PIDFILE"))"
}

stop() {
	if ours; then
		local pid
		pid=$(cat "$PIDFILE")
		kill "$pid"
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
	fi
	rm -f "$PIDFILE"
}

case ${1:-start} in
start) start ;;
stop) stop ;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
