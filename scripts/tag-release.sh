#!/usr/bin/env bash
# Tags HEAD with the release version once per released module, with the tag
# the go command looks for in that module's directory: v0.4.0 for the root
# module, adapters/gin/v0.4.0 for the gin adapter, and so on. The modules
# and their tags come from tools/release, the packer release-check uses, so
# the tags are those of the release it checked. Run make release-check
# first; push the tags with git push origin --tags.
#
# Usage: scripts/tag-release.sh [version]
# The version defaults to $RELEASE_VERSION, then v0.4.0.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-${RELEASE_VERSION:-v0.4.0}}
go=${GO:-go}

fail() {
	printf 'tag-release: %s\n' "$*" >&2
	exit 1
}

[ -z "$(git status --porcelain --untracked-files=no)" ] ||
	fail "the working tree has uncommitted changes: tag a commit, not a working tree"

work=$(mktemp -d "${TMPDIR:-/tmp}/tag-release.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd tools/release && GOWORK=off "$go" run . -root ../.. "$version" "$work/proxy") >"$work/packed" ||
	fail "tools/release could not pack $version"
mapfile -t tags < <(sed -n 's/^packed .* (tag \(.*\))$/\1/p' "$work/packed")
[ "${#tags[@]}" -gt 0 ] || fail "tools/release named no tag"

head=$(git rev-parse HEAD)
for tag in "${tags[@]}"; do
	if at=$(git rev-parse -q --verify "refs/tags/$tag^{commit}"); then
		[ "$at" = "$head" ] || fail "$tag already tags $at, not HEAD ($head)"
		echo "tag-release: $tag already tags HEAD"
		continue
	fi
	git tag -a "$tag" -m "cloakroom $version"
	echo "tag-release: tagged $tag"
done
