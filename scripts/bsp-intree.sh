#!/usr/bin/env bash
# Replace the Rockchip BSP's own dma-buf heap with rk_dma_heap in a BSP
# kernel tree (Linux 5.10, e.g. Luckfox's RV1106 kernel), to build it into
# the kernel:
#
#   scripts/bsp-intree.sh SRC DEST
#
# SRC is the BSP tree. DEST is SRC itself (the tree is changed in place),
# or a directory that does not exist yet (SRC is copied there first), or a
# tree this script made from SRC before. Running it again is fine: it
# puts the current rk_dma_heap sources in place of the previous ones.
#
# What it does to DEST:
# - drivers/dma-buf/rk_heaps/ (the BSP heap) holds rk_dma_heap's sources
#   instead: Kbuild, the .c files, rk_dma_heap_priv.h and
#   rk_dma_heap_compat.h, and bsp/Kconfig as its Kconfig, which keeps the
#   BSP's symbols: DMABUF_HEAPS_ROCKCHIP (the menu) and
#   DMABUF_HEAPS_ROCKCHIP_CMA_HEAP (y: built in, m: the module
#   rk_dma_heap);
# - include/linux/rk-dma-heap.h and include/uapi/linux/rk-dma-heap.h are
#   rk_dma_heap's, so the tree's rknpu and videobuf2-cma-sg build against
#   its API, and the arch code's rk_dma_heap_cma_setup() call reserves the
#   memory of the boot argument rk_dma_heap_cma=.
# The files are copies of this checkout's: edit them here, run again.
# Nothing else in the tree changes (drivers/dma-buf/Kconfig and Makefile
# already source and enter rk_heaps/).
#
# Without arguments (the test rig, scripts/bsp-kernel.sh): SRC is the tree
# scripts/bsp-source.sh finds, DEST a copy of it in the cache
# ($RK_CACHE/src/bsp-intree); prints DEST. Exits with status 2 when there
# is no BSP tree.
set -euo pipefail
. "$(dirname "$0")/common.sh"

# the BSP files rk_dma_heap replaces, relative to the tree
heaps=drivers/dma-buf/rk_heaps
headers=(include/linux/rk-dma-heap.h include/uapi/linux/rk-dma-heap.h)
# in DEST: which rk_dma_heap sources (a hash) replaced the BSP heap
marker=$heaps/.rk_dma_heap

# is_bsp_tree DIR: DIR is a kernel tree whose dma-buf directory builds the
# Rockchip heaps
is_bsp_tree() {
	[ -f "$1/Makefile" ] && [ -f "$1/drivers/dma-buf/Kconfig" ] &&
		grep -q '^source "drivers/dma-buf/rk_heaps/Kconfig"' "$1/drivers/dma-buf/Kconfig" &&
		grep -q 'CONFIG_DMABUF_HEAPS_ROCKCHIP.*rk_heaps/' "$1/drivers/dma-buf/Makefile"
}

# sources_hash: one hash of every file this script puts into a tree
sources_hash() {
	(cd "$RK_TOP" && cat Kbuild bsp/Kconfig ./*.c ./*.h include/rk_dma_heap_compat.h \
		"${headers[@]}") | sha256sum | cut -c1-16
}

# replace TREE: put rk_dma_heap in place of the BSP heap in TREE. Files
# are removed before they are copied: a tree of hard links to another
# keeps the other intact.
replace() {
	local tree=$1 h
	rm -rf "${tree:?}/$heaps"
	mkdir -p "$tree/$heaps"
	cp "$RK_TOP/Kbuild" "$RK_TOP"/*.c "$RK_TOP"/*.h \
		"$RK_TOP/include/rk_dma_heap_compat.h" "$tree/$heaps/"
	cp "$RK_TOP/bsp/Kconfig" "$tree/$heaps/Kconfig"
	for h in "${headers[@]}"; do
		rm -f "${tree:?}/$h"
		cp "$RK_TOP/$h" "$tree/$h"
	done
	sources_hash > "$tree/$marker"
}

intree() {
	local src=$1 dest=$2 st
	is_bsp_tree "$src" ||
		rk_die "$src is not a Rockchip BSP kernel tree (no drivers/dma-buf/rk_heaps in its Kconfig and Makefile)"
	src=$(cd "$src" && pwd)
	if [ -e "$dest" ]; then
		dest=$(cd "$dest" && pwd)
		[ "$dest" = "$src" ] || [ -e "$dest/$marker" ] ||
			rk_die "$dest exists and is neither $src nor a tree this script made: give a new directory"
		is_bsp_tree "$dest" || rk_die "$dest is not a Rockchip BSP kernel tree"
	else
		rk_log "copying $src to $dest"
		mkdir -p "$(dirname "$dest")"
		cp -a "$src" "$dest.tmp"
		mv "$dest.tmp" "$dest"
		dest=$(cd "$dest" && pwd)
	fi
	grep -q rk_dma_heap_cma_setup "$dest/arch/arm/mm/init.c" ||
		rk_log "warning: arch/arm/mm/init.c does not call rk_dma_heap_cma_setup(): rk_dma_heap_cma= will reserve nothing"
	replace "$dest"
	# a clean tree is what "make O=..." demands; say so rather than fail later
	st=0
	[ ! -e "$dest/.config" ] || st=1
	[ "$st" = 0 ] || rk_log "note: $dest has a .config; builds with O= need 'make mrproper' there first"
	rk_log "rk_dma_heap $(cat "$dest/$marker") is in $dest/$heaps"
}

case $# in
2)
	intree "$1" "$2" ;;
0)
	# The rig's tree: a copy of the BSP tree in the cache, made again when
	# the BSP tree changes.
	st=0
	src=$("$RK_TOP/scripts/bsp-source.sh") || st=$?
	[ "$st" = 0 ] || exit "$st"
	dest="$RK_CACHE/src/bsp-intree"
	id=$(cat "$src/.commit" 2>/dev/null || sha256sum < "$src/Makefile" | cut -c1-16)
	if [ -e "$dest" ] && [ "$(cat "$dest/.bsp-source" 2>/dev/null)" != "$src $id" ]; then
		rm -rf "$dest"
	fi
	intree "$src" "$dest" >&2
	echo "$src $id" > "$dest/.bsp-source"
	# the key of scripts/bsp-kernel.sh's build directory: the BSP tree
	# and our sources
	echo "$id rk_dma_heap $(cat "$dest/$marker")" > "$dest/.commit"
	echo "$dest" ;;
*)
	echo "usage: scripts/bsp-intree.sh SRC DEST   (DEST may be SRC)" >&2
	exit 1 ;;
esac
