#!/usr/bin/env bash
# Build the guest's test programs (static ARM32) into out/tests/bin. The
# kselftest harness comes from the kernel source package, not from the repo.
set -euo pipefail
. "$(dirname "$0")/common.sh"

out="$RK_TOP/out/tests"
inc="$out/include"
mkdir -p "$out/bin" "$inc"
v=${RK_KERNELS##* }
src="$RK_CACHE/src/linux-source-$v-$(rk_kernel_pkgver "$v")"
[ -e "$src/.extracted" ] || "$RK_TOP/scripts/kernel.sh" "$v" >/dev/null
cp "$src/tools/testing/selftests/kselftest_harness.h" \
	"$src/tools/testing/selftests/kselftest.h" "$inc/"
ln -sf /usr/include/xf86drm.h "$inc/xf86drm.h"

# 64-bit time_t: the test kernels have no COMPAT_32BIT_TIME (V4L2 needs it).
cflags=(-static -O2 -g -Wall -Werror -D_GNU_SOURCE -D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64
	-I"$inc" -I"$RK_TOP/include/uapi" -I"$RK_TOP/selftests"
	-I/usr/include/libdrm)
mkdir -p "$out/tools"
shopt -s nullglob
for c in "$RK_TOP"/selftests/*.c "$RK_TOP"/selftests/tools/*.c; do
	name=$(basename "$c" .c)
	dir=bin
	case "$c" in */tools/*) dir=tools ;; esac
	libs=()
	grep -q xf86drm.h "$c" && libs=(-L/usr/lib/arm-linux-gnueabihf -ldrm)
	if [ ! -e "$out/$dir/$name" ] || [ "$c" -nt "$out/$dir/$name" ] ||
	   [ "$RK_TOP/selftests/rk_test.h" -nt "$out/$dir/$name" ]; then
		rk_log "compiling selftests/$name.c"
		"${RK_CROSS}gcc" "${cflags[@]}" -o "$out/$dir/$name" "$c" "${libs[@]}" -lpthread
	fi
done
