#!/usr/bin/env bash
# Starts (or stops) the two memcached instances the memcached backend's tests
# use: 127.0.0.1:11211 and 127.0.0.1:11212. `start` installs Debian's
# memcached package when the binary is absent, starts only the instances that
# are not already reachable, and records their pid files under .services/;
# `stop` stops only the instances this script started.
set -euo pipefail
cd "$(dirname "$0")/../.."

ports=(11211 11212)
piddir=.services
action=${1:-start}

reachable() {
	timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && printf 'version\r\n' >&3 && head -c 7 <&3 | grep -q VERSION" 2>/dev/null
}

install_memcached() {
	command -v memcached >/dev/null && return
	echo "memcached: installing Debian package memcached" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq memcached >/dev/null
	command -v memcached >/dev/null || { echo "memcached: binary still missing after install" >&2; exit 1; }
}

start_one() {
	local port=$1 pidfile
	pidfile="$PWD/$piddir/memcached-$port.pid"
	if reachable "$port"; then
		return
	fi
	memcached -d -p "$port" -l 127.0.0.1 -U 0 -u root -m 64 -P "$pidfile"
	for _ in $(seq 50); do
		reachable "$port" && return
		sleep 0.1
	done
	echo "memcached: 127.0.0.1:$port did not answer within 5s after start" >&2
	exit 1
}

stop_one() {
	local port=$1 pidfile pid
	pidfile="$piddir/memcached-$port.pid"
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
		grep -q memcached "/proc/$pid/comm" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	rm -f "$pidfile"
}

case $action in
start)
	mkdir -p "$piddir"
	install_memcached
	for p in "${ports[@]}"; do start_one "$p"; done
	;;
stop)
	for p in "${ports[@]}"; do stop_one "$p"; done
	;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
