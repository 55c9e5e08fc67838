#!/usr/bin/env bash
# Counts what one request costs in instructions, for each library and
# framework of the given cases (default Read), with valgrind's callgrind:
# unlike nanoseconds, a count that a shared, noisy machine does not blur.
# Each library runs 10,000 and 30,000 requests; the difference over 20,000
# is one request's cost, set-up cancelled. Prints a markdown table with
# each peer's count over cloakroom's on the same framework (above 1,
# cloakroom does less).
#
#	bench/instructions.sh              # Read
#	bench/instructions.sh Write New
set -euo pipefail
cd "$(dirname "$0")"
command -v valgrind >/dev/null || { echo "instructions.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go test -c -o "$work/bench.test" .

# count PATTERN N prints the instructions of N requests and their set-up.
count() {
	GODEBUG=asyncpreemptoff=1 GOGC=off GOMAXPROCS=1 valgrind --tool=callgrind \
		--callgrind-out-file="$work/out" "$work/bench.test" -test.run '^$' \
		-test.bench "$1" -test.benchtime "${2}x" >/dev/null 2>&1
	callgrind_annotate "$work/out" | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
}

echo "| framework | case | library | instructions | × instructions |"
echo "| --- | --- | --- | ---: | ---: |"
for c in "${@:-Read}"; do
	# The sub-benchmarks of case c, named as go test names them, found by
	# running each once. Redis's are left out: most of their cost is the
	# server's, which callgrind does not see.
	names=$("$work/bench.test" -test.run '^$' -test.bench "/^$c\$/" -test.benchtime 1x |
		awk '/^Benchmark/ && !/^BenchmarkRedis/ { sub(/-[0-9]+$/, "", $1); print $1 }')
	declare -A own=()
	for name in $names; do
		IFS=/ read -r fw _ lib <<<"$name"
		pattern="^$fw\$/^$c\$/^$lib\$"
		n=$((($(count "$pattern" 30000) - $(count "$pattern" 10000)) / 20000))
		ratio=""
		if [ "$lib" = cloakroom ]; then
			own[$fw]=$n
		elif [ -n "${own[$fw]:-}" ]; then
			ratio=$(awk -v p="$n" -v o="${own[$fw]}" 'BEGIN { printf "%.1f", p / o }')
		fi
		echo "| ${fw#Benchmark} | $c | $lib | $n | $ratio |"
	done
done
