# shellcheck shell=bash
# Settings shared by the scripts of the QEMU test rig. Source, do not run.

RK_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Kernel trees and builds live outside the clone so that they survive it.
RK_CACHE=${RK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rk_dma_heap}
RK_ARCH=arm
RK_CROSS=arm-linux-gnueabihf-
RK_KERNELS="6.1 6.12"
RK_JOBS=${RK_JOBS:-$(($(nproc) + 1))}

rk_die() {
	echo "error: $*" >&2
	exit 1
}

rk_log() {
	echo ">>> $*" >&2
}

# rk_kernel_pkgver VERSION: Debian version of linux-source-VERSION
rk_kernel_pkgver() {
	dpkg-query -W -f='${Version}' "linux-source-$1" 2>/dev/null ||
		rk_die "linux-source-$1 is not installed (run scripts/deps.sh)"
}

# Bump when scripts/kernel.sh changes what it builds.
RK_KERNEL_RECIPE=1

# rk_kernel_fragment VERSION: the config fragment of VERSION, the common
# one followed by the version's own (qemu/kernel-VERSION.config).
rk_kernel_fragment() {
	cat "$RK_TOP/qemu/kernel.config"
	if [ -e "$RK_TOP/qemu/kernel-$1.config" ]; then
		cat "$RK_TOP/qemu/kernel-$1.config"
	fi
}

# rk_kernel_dir VERSION: the cached build directory for VERSION; its name
# changes whenever the source package, the config fragment or the recipe
# changes, so a stale build is never reused.
rk_kernel_dir() {
	local v=$1 key
	key=$( { rk_kernel_pkgver "$v"; echo "recipe $RK_KERNEL_RECIPE";
		rk_kernel_fragment "$v"; } | sha256sum | cut -c1-12)
	echo "$RK_CACHE/build/linux-$v-$key"
}

# rk_copy_module_sources DEST: what builds rk_dma_heap.ko (Kbuild, sources,
# headers) copied to DEST, to build out of the source tree.
rk_copy_module_sources() {
	cp -r "$RK_TOP"/Kbuild "$RK_TOP"/*.c "$RK_TOP"/*.h "$RK_TOP/include" "$1/"
}

rk_check_kernel_version() {
	case " $RK_KERNELS " in
	*" $1 "*) ;;
	*) rk_die "unknown kernel '$1' (choose one of: $RK_KERNELS)" ;;
	esac
}
