#!/usr/bin/env bash
# Build (or reuse) one Rockchip BSP test kernel: the boot image
# (boot-image), its modules (modroot) and a prepared tree to build
# rk_dma_heap.ko against (kdir), from the BSP tree (scripts/bsp-source.sh,
# or scripts/bsp-intree.sh for a bsp-intree kernel) with rv1106_defconfig
# and the fragments of rk_kernel_fragment merged on top. The tree itself is
# never written to: everything goes to the build directory (O=).
# Usage: scripts/bsp-kernel.sh KERNEL   (prints the build directory)
# Exits with status 2 when there is no BSP tree.
set -euo pipefail
. "$(dirname "$0")/common.sh"

k=${1:?usage: bsp-kernel.sh KERNEL}
rk_kernel "$k"
case "$K_KIND" in
bsp*) ;;
*) rk_die "$k is not a BSP kernel (scripts/kernel.sh, scripts/debian-kernel.sh)" ;;
esac
status=0
src=$(rk_bsp_source "$k") || status=$?
[ "$status" = 0 ] || exit "$status"
out=$(rk_bsp_kernel_dir "$k" "$src")
rk_kernel_lock "$k" "$out"
kmake() {
	make -C "$src" O="$out" ARCH="$K_ARCH" CROSS_COMPILE="$K_CROSS" "$@"
}

# A bsp-intree kernel whose last build had the same BSP tree, fragments
# and recipe differs from it only in our sources: make rebuilds what they
# touch in that build directory (a minute or two) instead of the whole
# kernel (about ten), which every change of the module would cost.
base=
reuse=
if [ "$K_KIND" = bsp-intree ]; then
	base=$( { cat "$src/.bsp-source" 2>/dev/null; echo "recipe $RK_BSP_KERNEL_RECIPE";
		rk_kernel_fragment "$k"; } | sha256sum | cut -c1-16)
	for old in "$RK_CACHE/build/linux-$k-"*; do
		[ "$old" != "$out" ] && [ -e "$old/.done" ] &&
			[ "$(cat "$old/.base" 2>/dev/null)" = "$base" ] && reuse=$old
	done
fi
# configure: a new build directory with the merged configuration
configure() {
	local frag="$out/fragment.config"
	rk_log "building Linux $k ($src) in $out, about 5 minutes"
	rm -rf "$out"
	mkdir -p "$out"
	[ -z "$base" ] || echo "$base" > "$out/.base"
	# The fragments repeat some options (qemu/kernel-bsp.config turns off what
	# qemu/kernel.config turns on): keep the last line of each option, so that
	# the merge and the check below see one value per option.
	rk_kernel_fragment "$k" | awk '
		/^CONFIG_[A-Za-z0-9_]*=/ { sym = $0; sub(/=.*/, "", sym) }
		/^# CONFIG_[A-Za-z0-9_]* is not set$/ { sym = $2 }
		!/^CONFIG_/ && !/^# CONFIG_[A-Za-z0-9_]* is not set$/ { next }
		{ line[NR] = $0; last[sym] = NR; name[NR] = sym }
		END { for (i = 1; i <= NR; i++) if ((i in line) && last[name[i]] == i) print line[i] }
	' > "$frag"
	# merge_config.sh leaves its temporary files in the current directory: the
	# build directory, not the tree. -m: merge only; olddefconfig then fills in
	# the defaults and resolves the dependencies.
	(cd "$out" && "$src/scripts/kconfig/merge_config.sh" -m -O "$out" \
		"$src/arch/arm/configs/rv1106_defconfig" "$frag") > "$out/merge.log" 2>&1 ||
		{ cat "$out/merge.log" >&2; rk_die "merging the config fragment failed"; }
	kmake -s olddefconfig

	rk_config_check "$k" "$src" "$out" "$frag" ||
		rk_die "config fragment does not apply to the BSP tree of $k"
}

if [ -n "$reuse" ]; then
	rk_log "rebuilding Linux $k in $out: only rk_dma_heap changed since $reuse"
	rm -rf "$out"
	mv "$reuse" "$out"
	rm -f "$out/.done"
else
	configure
fi

if ! kmake -j"$RK_JOBS" zImage modules > "$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	rk_die "Linux $k build failed (log: $out/build.log)"
fi
rk_kernel_install "$k" "$out" zImage
echo "$out"
