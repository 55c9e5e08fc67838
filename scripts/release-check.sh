#!/usr/bin/env bash
# Checks that the library modules install as published. It packs them with
# tools/release into a file-based module proxy at the release version, then
# builds and tests a program outside the repository (module
# example.com/outside, from tools/release/testdata/outside) that gets them
# from that proxy as a user's `go get` would: no workspace, no replace
# directive, third-party modules verified against the public checksum
# database. Everything happens in a temporary directory, removed at the end.
#
# Usage: scripts/release-check.sh [version]
# The version defaults to $RELEASE_VERSION, then v0.4.0. $GO names the go
# command (default go).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
version=${1:-${RELEASE_VERSION:-v0.4.0}}
go=${GO:-go}

say() { printf 'release-check: %s\n' "$*"; }
fail() {
	printf 'release-check: FAILED: %s\n' "$*" >&2
	exit 1
}

git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
	fail "$root is not a git checkout: the release is made of the files git would commit"

work=$(mktemp -d "${TMPDIR:-/tmp}/release-check.XXXXXX")
cleanup() {
	chmod -R u+w "$work" 2>/dev/null || true # the module cache is read-only
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

say "version $version, working in $work"

say "testing and building tools/release"
(cd tools/release && GOWORK=off "$go" test -count=1 ./... &&
	GOWORK=off "$go" build -buildvcs=false -o "$work/release" .) ||
	fail "tools/release does not pass its tests or does not build"

# The proxy packs a tagged commit. The working tree also holds ignored files
# (.services with its servers' data, build output) that would end up in the
# root module's zip, so pack a copy of the files git would commit: tracked
# and untracked ones, less the ignored and the deleted ones.
say "copying the files git would commit to $work/src"
mkdir "$work/src"
git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do
		if [ -e "$f" ]; then printf '%s\0' "$f"; fi
	done |
	tar --null -T - -cf - | tar -C "$work/src" -xf -

say "packing the library modules at $version into $work/proxy"
"$work/release" -root "$work/src" "$version" "$work/proxy" >"$work/packed" ||
	fail "could not pack the release at $version (see above)"
sed 's/^/  /' "$work/packed"

out=$work/outside
mkdir "$out"
cp tools/release/testdata/outside/main.go tools/release/testdata/outside/main_test.go "$out/"
cat >"$out/go.mod" <<'EOF'
module example.com/outside

go 1.24
EOF

# A user's environment, with the packed release in front of the public
# proxy. The module cache of the user is served as a proxy too, which saves
# downloads, but a fresh cache is used: the go command never downloads a
# version it has cached again, so the shared cache would keep the
# github.com/cloakroom modules of the first run.
#   GOWORK=off     no go.work from the environment
#   GONOPROXY=none even if GOPRIVATE covers github.com/cloakroom, get it
#                  from the proxy, not from GitHub
#   GONOSUMDB      the cloakroom modules are not in the checksum database
#                  (yet, and never at the content packed here): without it
#                  go get fails with a 404 from sum.golang.org
#   GOSUMDB        every other module is verified against the database, even
#                  if the environment turned it off
#   GOFLAGS        -trimpath keeps the temporary directories out of the build
#                  cache's keys, so that the next run reuses what this one
#                  compiled (gin and its dependencies take minutes)
user_cache=$("$go" env GOMODCACHE)
export GOWORK=off
export GOMODCACHE=$work/modcache
export GOPROXY="file://$work/proxy,file://$user_cache/cache/download,https://proxy.golang.org"
export GONOPROXY=none
export GONOSUMDB=github.com/cloakroom
export GOSUMDB=sum.golang.org
export GOFLAGS=-trimpath

mods=(github.com/cloakroom/cloakroom github.com/cloakroom/cloakroom/adapters/gin github.com/cloakroom/cloakroom/adapters/echo5 github.com/cloakroom/cloakroom/backends/redis)
say "in $out: go get ${mods[*]/%/@$version}"
(cd "$out" && "$go" get "${mods[@]/%/@$version}") ||
	fail "go get could not resolve the release at $version"
say "the outside program requires:"
(cd "$out" && "$go" list -m all | grep '^github.com/cloakroom/' | sed 's/^/  /')

say "go build ./..."
(cd "$out" && "$go" build ./...) || fail "the outside program does not build against the release"
say "go test ./..."
(cd "$out" && "$go" test -count=1 ./...) || fail "the outside program's test fails against the release"

say "ok: the modules at $version install and work outside the repository (${SECONDS}s)"
