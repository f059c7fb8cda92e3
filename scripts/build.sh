#!/usr/bin/env bash
# Build everything one guest kernel needs: the kernel (cached; a debug
# kernel is built, a Debian one downloaded), the module and the test
# modules for it, the test programs, the initramfs and the device tree.
# Usage: scripts/build.sh KERNEL   (prints the output directory)
# Compiler warnings of the module land in OUT/module-warnings.log.
set -euo pipefail
. "$(dirname "$0")/common.sh"

k=${1:?usage: build.sh KERNEL}
rk_kernel "$k"
# nothing of an earlier build may be booted if this one fails
rm -f "$RK_TOP/out/$k/initrd.gz" "$RK_TOP/out/$k/kernel-dir"
kdir=$(rk_kernel_build "$k")
out="$RK_TOP/out/$k"
mkdir -p "$out"
# for the boots of make check, which must not ask apt again each time
echo "$kdir" > "$out/kernel-dir"

# Module and test modules, built in a copy so that the kernels' objects
# never meet in the source tree.
mod="$out/module"
rm -rf "$mod"
mkdir -p "$mod"
rk_copy_module_sources "$mod"
mkdir -p "$mod/selftests"
cp -r "$RK_TOP/selftests/client" "$RK_TOP/selftests/kunit" "$mod/selftests/"
rk_log "building rk-dma-heap.ko for Linux $k"
if ! make -C "$kdir/kdir" M="$mod" ARCH="$K_ARCH" CROSS_COMPILE="$K_CROSS" \
	RK_DMA_HEAP_TEST_CLIENT=m W=1 -j"$RK_JOBS" modules \
	> "$out/module-build.log" 2>&1; then
	cat "$out/module-build.log" >&2
	rk_die "module build failed for Linux $k"
fi
grep -E 'warning:|error:' "$out/module-build.log" > "$out/module-warnings.log" || true

# make check makes the test programs and device trees once for all
if [ -z "${RK_SHARED_READY:-}" ]; then
	"$RK_TOP/scripts/build-tests.sh" "$K_ARCH" >&2
	"$RK_TOP/scripts/dtb.sh" "$K_ARCH" "$RK_TOP/out/dtb/$K_ARCH" >/dev/null
fi
"$RK_TOP/scripts/initramfs.sh" "$k" "$kdir" "$mod" "$out/initrd.gz" >&2
echo "$out"
