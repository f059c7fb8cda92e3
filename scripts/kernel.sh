#!/usr/bin/env bash
# Build (or reuse) the QEMU test kernel for one version: zImage, modules and
# a prepared tree to build rk_dma_heap.ko against.
# Usage: scripts/kernel.sh 6.1|6.12   (prints the build directory)
set -euo pipefail
. "$(dirname "$0")/common.sh"

v=${1:?usage: kernel.sh VERSION}
rk_check_kernel_version "$v"
pkgver=$(rk_kernel_pkgver "$v")
out=$(rk_kernel_dir "$v")
if [ -e "$out/.done" ]; then
	echo "$out"
	exit 0
fi

src="$RK_CACHE/src/linux-source-$v-$pkgver"
if [ ! -e "$src/.extracted" ]; then
	rk_log "unpacking /usr/src/linux-source-$v.tar.xz"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -C "$src.tmp" -xf "/usr/src/linux-source-$v.tar.xz"
	mv "$src.tmp/linux-source-$v" "$src"
	rmdir "$src.tmp"
	touch "$src/.extracted"
fi

rk_log "building Linux $v ($pkgver) in $out, about 10 minutes"
rm -rf "$out"
mkdir -p "$out"
frag="$out/fragment.config"
rk_kernel_fragment "$v" > "$frag"
kmake() {
	make -C "$src" O="$out" ARCH="$RK_ARCH" CROSS_COMPILE="$RK_CROSS" "$@"
}
kmake -s KCONFIG_ALLCONFIG="$frag" allnoconfig

# Kconfig silently drops options whose dependencies are not met: refuse to
# go on with a kernel that lacks what the tests rely on.
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF "$line" "$out/.config" && continue ;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }
		sym=${sym%% *}
		! grep -q "^$sym=" "$out/.config" && continue ;;
	*) continue ;;
	esac
	echo "kernel $v: '$line' did not survive allnoconfig" >&2
	missing=1
done < "$frag"
[ "$missing" = 0 ] || rk_die "config fragment does not apply to Linux $v"

if ! kmake -j"$RK_JOBS" zImage modules > "$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	rk_die "Linux $v build failed (log: $out/build.log)"
fi
rm -rf "$out/modroot"
kmake -s INSTALL_MOD_PATH="$out/modroot" modules_install >&2
touch "$out/.done"
# Builds of this version under an older key are never used again.
for old in "$RK_CACHE/build/linux-$v-"*; do
	[ "$old" = "$out" ] || rm -rf "$old"
done
echo "$out"
