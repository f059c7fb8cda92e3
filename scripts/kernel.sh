#!/usr/bin/env bash
# Build (or reuse) one debug test kernel: the boot image (boot-image), its
# modules (modroot) and a prepared tree to build rk_dma_heap.ko against
# (kdir), from Debian's linux-source package of its series.
# Usage: scripts/kernel.sh KERNEL   (prints the build directory)
set -euo pipefail
. "$(dirname "$0")/common.sh"

k=${1:?usage: kernel.sh KERNEL}
rk_kernel "$k"
[ "$K_KIND" = debug ] || rk_die "$k is not a debug kernel (scripts/debian-kernel.sh, scripts/bsp-kernel.sh)"
out=$(rk_kernel_dir "$k")
rk_kernel_lock "$k" "$out"
src=$(rk_kernel_source "$k")

rk_log "building Linux $k ($(basename "$src")) in $out, about 10 minutes"
rm -rf "$out"
mkdir -p "$out"
frag="$out/fragment.config"
rk_kernel_fragment "$k" > "$frag"
kmake() {
	make -C "$src" O="$out" ARCH="$K_ARCH" CROSS_COMPILE="$K_CROSS" "$@"
}
kmake -s KCONFIG_ALLCONFIG="$frag" allnoconfig

rk_config_check "$k" "$src" "$out" "$frag" ||
	rk_die "config fragment does not apply to Linux $k"

image=zImage
[ "$K_ARCH" = arm64 ] && image=Image
if ! kmake -j"$RK_JOBS" "$image" modules > "$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	rk_die "Linux $k build failed (log: $out/build.log)"
fi
rk_kernel_install "$k" "$out" "$image"
echo "$out"
