#!/usr/bin/env bash
# The Python peers of the interoperability tests (examples/interop): Flask,
# Django (with psycopg2 for its PostgreSQL sessions), Quart and redis-py,
# all from Debian, for Debian's /usr/bin/python3 (a python3 earlier on the
# PATH, e.g. pyenv's, does not see them). `start` installs the packages only
# when one is missing; `stop` has nothing to stop: the tests start and stop
# the Python apps themselves. PostgreSQL and Redis come from sql.sh and
# redis.sh.
set -euo pipefail

action=${1:-start}
python=/usr/bin/python3
packages=(python3-flask python3-django python3-psycopg2 python3-redis python3-quart)

have_all() { "$python" -c 'import flask, django, psycopg2, redis, quart' >/dev/null 2>&1; }

case $action in
start)
	have_all && exit 0
	echo "python: installing Debian packages: ${packages[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
	if ! have_all; then
		echo "python: $python still cannot import flask, django, psycopg2, redis and quart" >&2
		exit 1
	fi
	;;
stop) ;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
