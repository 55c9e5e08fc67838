#!/usr/bin/env bash
# PostgreSQL (127.0.0.1:5432) and MariaDB (127.0.0.1:3306) for the SQL
# backend's tests (SQLite needs no server). Machines of this kind run both at
# session start; `start` starts only a server that does not answer, installing
# its Debian package first when absent (and then opening it to the tests:
# trust auth on loopback for PostgreSQL, an empty root password for MariaDB),
# and records what it started under .services/. `stop` stops only that. The
# tests create their cloakroom_test databases themselves.
set -euo pipefail
cd "$(dirname "$0")/../.."

piddir=.services
action=${1:-start}
wait_secs=60

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 -t 2 2>/dev/null; }
my_up() { mariadb-admin --connect-timeout=2 -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1; }

apt_install() {
	echo "sql: installing Debian packages: $*" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "$@" >/dev/null
}

wait_for() {
	local what=$1 check=$2
	for _ in $(seq $((wait_secs * 5))); do
		"$check" && return
		sleep 0.2
	done
	echo "sql: $what did not answer on loopback within ${wait_secs}s after start" >&2
	exit 1
}

pg_version() { ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1; }

start_postgres() {
	pg_up && return
	local fresh=0
	if ! command -v pg_ctlcluster >/dev/null || [ -z "$(pg_version)" ]; then
		apt_install postgresql
		fresh=1
	fi
	local ver
	ver=$(pg_version)
	if [ "$fresh" = 1 ]; then
		# A fresh cluster asks for passwords on TCP; the tests connect as
		# postgres without one, on loopback only.
		local hba=/etc/postgresql/$ver/main/pg_hba.conf
		sed -i '/^host/d' "$hba"
		printf 'host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n' >>"$hba"
	fi
	pg_ctlcluster --skip-systemctl-redirect "$ver" main start
	echo "$ver" >"$piddir/sql-postgres.started"
	wait_for "PostgreSQL $ver" pg_up
}

start_mariadb() {
	my_up && return
	local fresh=0
	if ! command -v mariadbd >/dev/null; then
		apt_install mariadb-server
		fresh=1
	fi
	install -d -o mysql -g mysql /run/mysqld
	start-stop-daemon --start --oknodo --background --make-pidfile \
		--pidfile "$PWD/$piddir/sql-mariadb.pid" --exec /usr/sbin/mariadbd
	wait_for "MariaDB" mariadb_socket_up
	if [ "$fresh" = 1 ]; then
		# Debian's root uses socket auth only; the tests log in over TCP.
		mariadb -u root -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('')"
	fi
	wait_for "MariaDB" my_up
}

mariadb_socket_up() { mariadb-admin --connect-timeout=2 -u root ping >/dev/null 2>&1 || my_up; }

stop_postgres() {
	local marker=$piddir/sql-postgres.started
	[ -f "$marker" ] || return 0
	pg_ctlcluster --skip-systemctl-redirect "$(cat "$marker")" main stop || true
	rm -f "$marker"
}

stop_mariadb() {
	local pidfile=$piddir/sql-mariadb.pid pid
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	if [ -n "$pid" ] && grep -q mariadbd "/proc/$pid/comm" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 150); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
	fi
	rm -f "$pidfile"
}

case $action in
start)
	mkdir -p "$piddir"
	start_postgres
	start_mariadb
	;;
stop)
	stop_postgres
	stop_mariadb
	;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
