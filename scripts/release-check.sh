#!/usr/bin/env bash
# Checks that the library modules can be released at a version. It packs
# them with tools/release into a file-based module proxy at that version,
# then, everything in a temporary directory removed at the end:
#
#  1. API: compares each module's API with its previous tag (tools/release
#     compat, golang.org/x/exp/apidiff) and fails on incompatible changes
#     the version does not allow (v0: a minor or major bump; v1+: a major).
#  2. Install: builds and tests a program outside the repository (module
#     example.com/outside, from tools/release/testdata/outside) that gets
#     every module from that proxy as a user's `go get` would: no
#     workspace, no replace directive, third-party modules verified against
#     the public checksum database. Its tests use every module.
#  3. Go floors: builds and vets each module, as downloaded from the proxy,
#     with the Go release its go.mod names (go 1.24 means go1.24.0), so that
#     a newer standard library API or a dependency that needs a newer Go
#     fails here rather than for a user on the oldest Go we claim.
#
# Usage: scripts/release-check.sh [version]
# The version defaults to $RELEASE_VERSION, then v0.4.0. $GO names the go
# command (default go). It needs git, and the network for the Go module
# proxy (the floors' toolchains, modules missing from the local cache).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
version=${1:-${RELEASE_VERSION:-v0.4.0}}
go=${GO:-go}

say() { printf 'release-check: [%4ss] %s\n' "$SECONDS" "$*"; }
fail() {
	printf 'release-check: FAILED: %s\n' "$*" >&2
	exit 1
}
# Every failure ends with a FAILED line, also one that no `|| fail` names.
trap 'status=$?; fail "line $LINENO: \`$BASH_COMMAND\` exited with $status"' ERR

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
# The modules come from the packer, which finds every published module, so
# that a new module is checked without editing this script. Those under a
# cmd directory are commands, which users go install rather than import:
# the API comparison covers them, the outside program and the floor check
# take the libraries only, and the commands are go installed.
mapfile -t mods < <(sed -n 's/^packed \([^@ ]*\)@.*/\1/p' "$work/packed")
libs=()
cmds=()
for m in "${mods[@]}"; do
	case $m in
	*/cmd/*) cmds+=("$m") ;;
	*) libs+=("$m") ;;
	esac
done
[ "${#libs[@]}" -gt 0 ] || fail "tools/release packed no library module"

# The API is compared between the repository's tags and the copy that was
# packed, in the developer's environment: it concerns the repository, not
# what a user installs. The tool loads each module with GOWORK=off.
say "comparing the API of each module with its previous tag"
if ! "$work/release" compat -root "$work/src" -repo "$root" "$version" | sed 's/^/  /'; then
	fail "incompatible API changes that $version does not allow, or the comparison failed (see above)"
fi

out=$work/outside
mkdir "$out"
cp tools/release/testdata/outside/*.go "$out/"
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
#                  if the environment turned it off; so are the toolchains
#                  the floor check downloads
#   GOFLAGS        -trimpath keeps the temporary directories out of the build
#                  cache's keys, so that the next run reuses what this one
#                  compiled (gin, sqlite and their dependencies take minutes,
#                  and the floor check compiles them again with old releases)
user_cache=$("$go" env GOMODCACHE)
export GOWORK=off
export GOMODCACHE=$work/modcache
export GOPROXY="file://$work/proxy,file://$user_cache/cache/download,https://proxy.golang.org"
export GONOPROXY=none
export GONOSUMDB=github.com/cloakroom
export GOSUMDB=sum.golang.org
export GOFLAGS=-trimpath

# go get adds the release; go mod tidy then adds what the outside program's
# own imports need beyond it (the OpenTelemetry SDK its test uses), as a
# user would, at the versions the modules require.
say "in $out: go get ${libs[*]/%/@$version}"
(cd "$out" && "$go" get "${libs[@]/%/@$version}" && "$go" mod tidy) ||
	fail "go get could not resolve the release at $version"
say "the outside program requires:"
(cd "$out" && "$go" list -m all | grep '^github.com/cloakroom/' | sed 's/^/  /')

# A module that the outside program does not import is installed but not
# tried: its tests must use a package of each.
used=$(cd "$out" && "$go" list -test -deps -f '{{with .Module}}{{.Path}}{{end}}' ./...) ||
	fail "could not list the packages of the outside program"
unused=()
for m in "${libs[@]}"; do
	grep -qxF "$m" <<<"$used" || unused+=("$m")
done
[ "${#unused[@]}" -eq 0 ] ||
	fail "the outside program uses no package of ${unused[*]}: add a test of it to tools/release/testdata/outside"

say "go build ./..."
(cd "$out" && "$go" build ./...) || fail "the outside program does not build against the release"
say "go test ./..."
(cd "$out" && "$go" test -count=1 ./...) || fail "the outside program's test fails against the release"

# go install pkg@version refuses a module whose go.mod has a replace
# directive, which a command's development copy might keep. It runs with a
# module cache of its own, as on a machine that never built the outside
# program: with that program's cache, go1.26 looked for the command in the
# root module only and failed, though a fresh cache installs it.
for m in "${cmds[@]}"; do
	say "go install $m@$version"
	GOMODCACHE=$work/modcache-install GOBIN=$work/bin "$go" install "$m@$version" ||
		fail "$m@$version does not go install (a replace directive in its go.mod?)"
	"$work/bin/${m##*/}" -h >/dev/null 2>&1 || [ $? -eq 2 ] ||
		fail "$m@$version installs, but its -h fails"
done

# Each module in a module of its own that requires only it, at the go
# version the module states, built and vetted by that Go release: the go
# command downloads it from the proxy (golang.org/toolchain) when
# GOTOOLCHAIN names it. go get -t brings the dependencies of the module's
# tests too, which go vet type-checks.
say "building and vetting each library module with the Go release of its go line"
for m in "${libs[@]}"; do
	start=$SECONDS
	# The go line of the module as published, from the .mod the proxy
	# serves. Run in $work, where no go.mod is, so that no go.sum changes.
	gomod=$(cd "$work" && "$go" mod download -json "$m@$version" |
		sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
	floor=$(sed -n 's/^go \([^ ]*\)$/\1/p' "$gomod")
	[ -n "$floor" ] || fail "no go line in $m's go.mod ($gomod)"
	case $floor in
	*.*.* | *rc* | *beta*) toolchain=go$floor ;; # a release: 1.24.3, 1.25rc1
	*) toolchain=go$floor.0 ;;                   # a language version, 1.24: its first release
	esac
	dir=$work/floor/${m//\//_}
	mkdir -p "$dir"
	printf 'module example.com/floor\n\ngo %s\n' "$floor" >"$dir/go.mod"
	(cd "$dir" && export GOTOOLCHAIN=$toolchain &&
		"$go" get -t "$m/...@$version" && "$go" build "$m/..." && "$go" vet "$m/...") ||
		fail "$m@$version does not build or vet with $toolchain, the Go release of its go line ($floor)"
	printf '  %-52s go %-7s %-9s ok (%ds)\n' "$m" "$floor" "$toolchain" $((SECONDS - start))
done

say "ok: the modules at $version keep their API, install, work outside the repository and build with their Go floors (${SECONDS}s)"
