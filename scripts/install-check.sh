#!/usr/bin/env bash
# Check make install and make uninstall, in TAP 13: into a DESTDIR, for
# one of Debian's kernels (the headers of KERNEL, default debian-6.12):
# the module under lib/modules/VERSION/updates, built for that kernel; the
# udev rule; the modprobe.d softdeps, which kmod's modprobe follows (a
# stand-in module named rknpu, with no dependency of its own, loads after
# rk_dma_heap); the modules-load.d entry; and uninstall removing them all.
# Usage: scripts/install-check.sh [KERNEL]   (exit status 0 when all pass)
set -euo pipefail
. "$(dirname "$0")/common.sh"

k=${1:-debian-6.12}
rk_kernel "$k"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src="$tmp/src" dest="$tmp/dest"
# TAP as the guest's shell tests write it
# shellcheck source=selftests/tap.sh
. "$RK_TOP/selftests/tap.sh"

tap_plan 7
kdir=$(rk_kernel_build "$k" 2>"$tmp/kernel.log") ||
	{ sed 's/^/# /' "$tmp/kernel.log"; rk_die "no $k kernel tree"; }
ver=$(cat "$kdir/version")
mods="$dest/lib/modules/$ver"
mkdir -p "$src"
rk_copy_module_sources "$src"
cp -r "$RK_TOP/Makefile" "$RK_TOP/dist" "$RK_TOP/tools" "$src/"
mk() {
	make -C "$src" KDIR="$kdir/kdir" ARCH="$K_ARCH" CROSS_COMPILE="$K_CROSS" \
		DESTDIR="$dest" -j"$RK_JOBS" "$@"
}

installed() {
	mk install > "$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; return 1; }
	local f ko
	# compressed as the kernel's own modules are (Debian: xz)
	ko=$(ls "$mods"/updates/rk-dma-heap.ko* 2>/dev/null | head -n 1)
	for f in "${ko:-$mods/updates/rk-dma-heap.ko}" \
		"$dest/etc/udev/rules.d/60-rk-dma-heap.rules" \
		"$dest/etc/modprobe.d/rk_dma_heap.conf" \
		"$dest/etc/modules-load.d/rk_dma_heap.conf" \
		"$dest/usr/bin/rk-dma-heap-top"; do
		[ -f "$f" ] || { echo "missing: ${f#"$dest"}"; return 1; }
	done
}

vermagic() {
	local v
	v=$(modinfo -F vermagic "$mods"/updates/rk-dma-heap.ko*)
	case "$v" in
	"$ver "*) ;;
	*) echo "vermagic '$v' is not for $ver"; return 1 ;;
	esac
}

# a module of the kernel with no dependency, installed as rknpu.ko
softdep() {
	local m stand
	for m in $(cat "$kdir/modules.list"); do
		[ -n "$(modinfo -F depends "$kdir/modroot/lib/modules/$ver/$m")" ] ||
			{ stand=$m; break; }
	done
	[ -n "${stand:-}" ] || { echo "no module without dependencies in $k"; return 1; }
	install -D -m 0644 "$kdir/modroot/lib/modules/$ver/$stand" "$mods/extra/rknpu.ko"
	depmod -b "$dest" "$ver"
	local got want
	got=$(modprobe -n -v -d "$dest" -S "$ver" -C "$dest/etc/modprobe.d" rknpu |
		sed -n 's|^insmod .*/\([^/]*\.ko\).*|\1|p' | tr '\n' ' ')
	want="rk-dma-heap.ko rknpu.ko "
	[ "$got" = "$want" ] || { echo "modprobe rknpu loads: '$got', expected '$want'"; return 1; }
	# and with the options of the file
	modprobe -n -v -d "$dest" -S "$ver" -C "$dest/etc/modprobe.d" rk_dma_heap |
		grep -q 'rk-dma-heap\.ko.* dma_heap_names=cma,cma-uncached' ||
		{ echo "modprobe rk_dma_heap does not pass dma_heap_names=cma,cma-uncached"; return 1; }
	rm -f "$mods/extra/rknpu.ko"
}

loads_at_boot() {
	[ "$(grep -v '^#' "$dest/etc/modules-load.d/rk_dma_heap.conf")" = rk_dma_heap ] ||
		{ cat "$dest/etc/modules-load.d/rk_dma_heap.conf"; return 1; }
}

# the rule's keys, as udev spells them (no udevadm verify before systemd
# 254), and the same group and mode as the README's mdev line
udev_rule() {
	local r="$dest/etc/udev/rules.d/60-rk-dma-heap.rules"
	grep -qx 'SUBSYSTEM=="rk_dma_heap", GROUP="video", MODE="0660"' "$r" &&
		grep -qx 'SUBSYSTEM=="dma_heap", KERNEL=="cma|cma-uncached", GROUP="video", MODE="0660"' "$r" ||
		{ cat "$r"; return 1; }
	grep -qF 'SUBSYSTEM=rk_dma_heap;.* root:video 0660' "$RK_TOP/README.md" ||
		{ echo "README.md lacks the mdev line with group video, mode 0660"; return 1; }
}

uninstalled() {
	mk uninstall > "$tmp/uninstall.log" 2>&1 || { cat "$tmp/uninstall.log"; return 1; }
	local left
	left=$(find "$dest" -type f ! -name 'modules.*')
	[ -z "$left" ] || { echo "left after uninstall:"; echo "$left"; return 1; }
}

tap_check "make install DESTDIR=... puts the module, the udev rule, the softdeps, the modules-load.d entry and rk-dma-heap-top in place" installed
tap_check "the installed module is built for $ver" vermagic
tap_check "modprobe rknpu loads rk_dma_heap first (softdep), with dma_heap_names=cma,cma-uncached" softdep
tap_check "modules-load.d loads rk_dma_heap at boot" loads_at_boot
tap_check "the udev rule gives /dev/rk_dma_heap/* and /dev/dma_heap/cma, cma-uncached to group video, mode 0660, like the README's mdev line" udev_rule
tap_check "make uninstall DESTDIR=... removes all of it" uninstalled
tap_check "make uninstall again is harmless" mk uninstall
tap_done
