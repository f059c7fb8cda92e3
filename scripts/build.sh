#!/usr/bin/env bash
# Build everything one guest kernel needs: the kernel (cached), the module
# and the test client for it, the test programs and the initramfs.
# Usage: scripts/build.sh VERSION   (prints the output directory)
# Compiler warnings of the module land in OUT/module-warnings.log.
set -euo pipefail
. "$(dirname "$0")/common.sh"

v=${1:?usage: build.sh VERSION}
rk_check_kernel_version "$v"
kdir=$("$RK_TOP/scripts/kernel.sh" "$v")
out="$RK_TOP/out/$v"
mkdir -p "$out"

# Module and test client, built in a copy so that both kernels' objects
# never meet in the source tree.
mod="$out/module"
rm -rf "$mod"
mkdir -p "$mod"
rk_copy_module_sources "$mod"
mkdir -p "$mod/selftests"
cp -r "$RK_TOP/selftests/client" "$RK_TOP/selftests/kunit" "$mod/selftests/"
rk_log "building rk_dma_heap.ko for Linux $v"
if ! make -C "$kdir" M="$mod" ARCH="$RK_ARCH" CROSS_COMPILE="$RK_CROSS" \
	RK_DMA_HEAP_TEST_CLIENT=m W=1 -j"$RK_JOBS" modules \
	> "$out/module-build.log" 2>&1; then
	cat "$out/module-build.log" >&2
	rk_die "module build failed for Linux $v"
fi
grep -E 'warning:|error:' "$out/module-build.log" > "$out/module-warnings.log" || true

"$RK_TOP/scripts/build-tests.sh" >&2
"$RK_TOP/scripts/initramfs.sh" "$v" "$kdir" "$mod" "$out/initrd.gz" >&2
"$RK_TOP/scripts/dtb.sh" "$RK_TOP/out/dtb" >/dev/null
echo "$out"
