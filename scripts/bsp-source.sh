#!/usr/bin/env bash
# Find (and prepare once) the Rockchip BSP kernel tree the rig builds for
# the RV1106: BSP_SRC names it (a checked-out tree, or a git repository,
# bare or not, which is checked out into the cache); without BSP_SRC the
# tree prepared earlier in the cache is used. Prints the tree's path, or
# exits with status 2 and says why when there is none.
# Usage: scripts/bsp-source.sh
set -euo pipefail
. "$(dirname "$0")/common.sh"

cached="$RK_CACHE/src/bsp-linux"

# is_tree DIR: DIR is a kernel tree with the RV1106 configuration
is_tree() {
	[ -f "$1/Makefile" ] && [ -f "$1/arch/arm/configs/rv1106_defconfig" ]
}

# checkout GITDIR: check the repository's HEAD out into the cache. Public
# copies of the BSP lack a few blobs (AMD GPU headers, Android ABI lists)
# that no ARM32 build reads, so "git archive" or "git checkout" fail on
# them: every file whose blob is present is checked out, the rest listed.
checkout() {
	local git=$1 commit tmp
	commit=$(git --git-dir="$git" rev-parse HEAD)
	if [ -e "$cached/.extracted" ] &&
		[ "$(cat "$cached/.commit" 2>/dev/null)" = "$commit" ]; then
		return 0
	fi
	rk_log "checking out the BSP tree ${commit:0:12} into $cached"
	tmp="$cached.tmp"
	rm -rf "$cached" "$tmp"
	mkdir -p "$tmp"
	export GIT_DIR="$git" GIT_INDEX_FILE="$tmp.index"
	git read-tree HEAD
	git ls-files -s -z | tr '\0' '\n' |
		awk '{ print $2 }' | git cat-file --batch-check='%(objectname) %(objecttype)' |
		paste -d' ' - <(git ls-files -z | tr '\0' '\n') |
		awk '$2 == "missing" { sub(/^[^ ]+ [^ ]+ /, ""); print }' > "$tmp.missing"
	if [ -s "$tmp.missing" ]; then
		rk_log "$(wc -l < "$tmp.missing") files have no blob in $git, left out:"
		sed 's/^/    /' "$tmp.missing" >&2
	fi
	git ls-files | grep -vxF -f "$tmp.missing" | tr '\n' '\0' |
		git checkout-index -z --stdin --prefix="$tmp/"
	rm -f "$tmp.index" "$tmp.missing"
	unset GIT_DIR GIT_INDEX_FILE
	is_tree "$tmp" || rk_die "$git: no arch/arm/configs/rv1106_defconfig, not an RV1106 BSP tree"
	echo "$commit" > "$tmp/.commit"
	touch "$tmp/.extracted"
	mv "$tmp" "$cached"
}

if [ -n "${BSP_SRC:-}" ]; then
	[ -e "$BSP_SRC" ] || rk_die "BSP_SRC=$BSP_SRC does not exist"
	if is_tree "$BSP_SRC"; then
		(cd "$BSP_SRC" && pwd)
		exit 0
	fi
	gitdir=$(git -C "$BSP_SRC" rev-parse --absolute-git-dir 2>/dev/null) ||
		rk_die "BSP_SRC=$BSP_SRC is neither an RV1106 BSP kernel tree nor a git repository"
	checkout "$gitdir"
fi
if [ -e "$cached/.extracted" ]; then
	echo "$cached"
	exit 0
fi
echo "no Rockchip BSP tree: give one with BSP_SRC=/path (a tree or a git repository)" >&2
exit 2
