#!/usr/bin/env bash
# Redis for backends/redis tests: the standalone server on 6379 (the
# machine's own; started only if down), a 3-master Cluster on 7001-7003 and a
# Sentinel set-up (master 6390, replica 6391, sentinel 26390, master name
# "cloakroom"). Everything started here is recorded under .services/redis/
# and is the only thing `stop` stops.
#
# Usage: scripts/services/redis.sh start|stop
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
DIR=$ROOT/.services/redis
HOST=127.0.0.1
CLUSTER_PORTS=(7001 7002 7003)
SENTINEL_MASTER_PORT=6390
SENTINEL_REPLICA_PORT=6391
SENTINEL_PORT=26390
SENTINEL_NAME=cloakroom
WAIT_SECONDS=30

log() { echo "redis.sh: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# ping PORT: true when a Redis server answers on PORT.
ping() {
	[ "$(timeout 3 redis-cli -h "$HOST" -p "$1" ping 2>/dev/null)" = PONG ]
}

# wait_for DESCRIPTION COMMAND...: retries COMMAND for up to WAIT_SECONDS.
wait_for() {
	local what=$1
	shift
	local deadline=$((SECONDS + WAIT_SECONDS))
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || die "timed out after ${WAIT_SECONDS}s waiting for $what (logs in $DIR)"
		sleep 0.2
	done
}

install() {
	command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return
	log "installing redis-server"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server
}

# owned NAME: true when a process started by this script under NAME lives.
owned() {
	local pidfile=$DIR/$1.pid
	[ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# stop_one NAME: stops the process recorded as NAME, if it still runs.
stop_one() {
	local pidfile=$DIR/$1.pid pid
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		local deadline=$((SECONDS + 10))
		while kill -0 "$pid" 2>/dev/null; do
			if [ "$SECONDS" -ge "$deadline" ]; then
				kill -9 "$pid" 2>/dev/null || true
				break
			fi
			sleep 0.1
		done
	fi
	rm -f "$pidfile"
}

# start_node NAME PORT [ARGS...]: starts a throwaway redis-server.
start_node() {
	local name=$1 port=$2
	shift 2
	if ping "$port"; then
		die "port $port already answers but was not started by this script; stop that server first"
	fi
	mkdir -p "$DIR/$name"
	redis-server --port "$port" --bind "$HOST" --save '' --appendonly no \
		--daemonize yes --dir "$DIR/$name" --pidfile "$DIR/$name.pid" \
		--logfile "$DIR/$name.log" "$@"
	local deadline=$((SECONDS + WAIT_SECONDS))
	until ping "$port"; do
		if [ "$SECONDS" -ge "$deadline" ] || { [ -f "$DIR/$name.pid" ] && ! owned "$name"; }; then
			tail -n 5 "$DIR/$name.log" >&2 || true
			die "redis $name did not come up on port $port (log: $DIR/$name.log)"
		fi
		sleep 0.2
	done
}

start_standalone() {
	ping 6379 && return
	log "standalone redis on 6379 is down; starting it"
	mkdir -p /var/lib/redis /var/log/redis "$DIR"
	redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
		--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log \
		--pidfile "$DIR/standalone.pid"
	wait_for "standalone redis on 6379" ping 6379
}

cluster_ok() {
	local port
	for port in "${CLUSTER_PORTS[@]}"; do
		timeout 3 redis-cli -h "$HOST" -p "$port" cluster info 2>/dev/null |
			grep -q '^cluster_state:ok' || return 1
	done
}

start_cluster() {
	cluster_ok && return
	local port addrs=()
	for port in "${CLUSTER_PORTS[@]}"; do stop_one "cluster-$port"; done
	for port in "${CLUSTER_PORTS[@]}"; do rm -rf "$DIR/cluster-$port"; done
	for port in "${CLUSTER_PORTS[@]}"; do
		start_node "cluster-$port" "$port" --cluster-enabled yes \
			--cluster-config-file "nodes-$port.conf"
		addrs+=("$HOST:$port")
	done
	log "creating cluster ${addrs[*]}"
	timeout 60 redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 \
		--cluster-yes >"$DIR/cluster-create.log" 2>&1 ||
		die "redis-cli --cluster create failed; see $DIR/cluster-create.log"
	wait_for "cluster_state:ok on ${addrs[*]}" cluster_ok
}

# sentinel_ok: the sentinel knows the master, and the master answers as one.
sentinel_ok() {
	local addr port
	addr=$(timeout 3 redis-cli -h "$HOST" -p "$SENTINEL_PORT" \
		sentinel get-master-addr-by-name "$SENTINEL_NAME" 2>/dev/null) || return 1
	port=$(echo "$addr" | sed -n 2p)
	[ -n "$port" ] || return 1
	timeout 3 redis-cli -h "$HOST" -p "$port" role 2>/dev/null | head -1 | grep -qx master
}

replica_linked() {
	timeout 3 redis-cli -h "$HOST" -p "$SENTINEL_REPLICA_PORT" info replication 2>/dev/null |
		grep -q '^master_link_status:up'
}

start_sentinel() {
	sentinel_ok && return
	stop_one sentinel
	stop_one "sentinel-replica"
	stop_one "sentinel-master"
	rm -rf "$DIR/sentinel" "$DIR/sentinel-master" "$DIR/sentinel-replica"
	# No 5 s wait before the first full sync to the replica.
	start_node sentinel-master "$SENTINEL_MASTER_PORT" --repl-diskless-sync-delay 0
	start_node sentinel-replica "$SENTINEL_REPLICA_PORT" \
		--replicaof "$HOST" "$SENTINEL_MASTER_PORT"
	wait_for "replica on $SENTINEL_REPLICA_PORT to link to its master" replica_linked
	ping "$SENTINEL_PORT" && die "port $SENTINEL_PORT already answers but was not started by this script"
	mkdir -p "$DIR/sentinel"
	# Sentinel rewrites its config file, so it gets a fresh writable one.
	cat >"$DIR/sentinel/sentinel.conf" <<EOF
port $SENTINEL_PORT
bind $HOST
daemonize yes
pidfile $DIR/sentinel.pid
logfile $DIR/sentinel.log
dir $DIR/sentinel
sentinel monitor $SENTINEL_NAME $HOST $SENTINEL_MASTER_PORT 1
sentinel down-after-milliseconds $SENTINEL_NAME 5000
sentinel failover-timeout $SENTINEL_NAME 10000
EOF
	redis-server "$DIR/sentinel/sentinel.conf" --sentinel
	wait_for "sentinel on $SENTINEL_PORT to report master $SENTINEL_NAME" sentinel_ok
	wait_for "sentinel on $SENTINEL_PORT to discover the replica" sentinel_sees_replica
}

sentinel_sees_replica() {
	timeout 3 redis-cli -h "$HOST" -p "$SENTINEL_PORT" sentinel replicas "$SENTINEL_NAME" 2>/dev/null |
		grep -q "^$SENTINEL_REPLICA_PORT\$"
}

start() {
	install
	mkdir -p "$DIR"
	start_standalone
	start_cluster
	start_sentinel
	log "ready: standalone 6379, cluster ${CLUSTER_PORTS[*]}, sentinel $SENTINEL_PORT ($SENTINEL_NAME)"
}

stop() {
	[ -d "$DIR" ] || return 0
	local port
	stop_one sentinel
	stop_one sentinel-replica
	stop_one sentinel-master
	for port in "${CLUSTER_PORTS[@]}"; do stop_one "cluster-$port"; done
	stop_one standalone
	rm -rf "$DIR"
}

case ${1:-} in
start) start ;;
stop) stop ;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
