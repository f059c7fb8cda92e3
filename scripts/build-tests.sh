#!/usr/bin/env bash
# Build the guest's test programs (static) for one architecture into
# out/tests/ARCH/bin and out/tests/ARCH/tools (the test tools of
# selftests/tools and the project's tools of tools/, e.g. rk-dma-heap-top;
# both land in the guest's PATH). The kselftest harness comes
# from a kernel source package, libdrm from Debian's libdrm-dev for ARCH,
# unpacked into the cache (the host installs nothing foreign).
# Usage: scripts/build-tests.sh arm|arm64
set -euo pipefail
. "$(dirname "$0")/common.sh"

arch=${1:?usage: build-tests.sh ARCH}
rk_arch "$arch"
out="$RK_TOP/out/tests/$arch"
inc="$RK_TOP/out/tests/include"
mkdir -p "$out/bin" "$out/tools" "$inc"

src=$(rk_kernel_source 6.12)
cp "$src/tools/testing/selftests/kselftest_harness.h" \
	"$src/tools/testing/selftests/kselftest.h" "$inc/"
sysroot="$RK_CACHE/sysroot-$A_DEB"
rk_deb_unpack "$(rk_deb_fetch bookworm "libdrm-dev:$A_DEB")" "$sysroot"

# 64-bit time_t: V4L2's ioctls then use their 64-bit-time layouts. This
# does not spare the kernel's 32-bit-time calls: armhf glibc (2.36) still
# makes clock_nanosleep's and futex's 32-bit forms whenever the time fits,
# so the ARM32 kernels need COMPAT_32BIT_TIME (rk_heap_sleep checks it).
cflags=(-static -O2 -g -Wall -Werror -D_GNU_SOURCE -D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64
	-I"$inc" -I"$RK_TOP/include/uapi" -I"$RK_TOP/selftests"
	-I"$sysroot/usr/include" -I"$sysroot/usr/include/libdrm")
shopt -s nullglob
for c in "$RK_TOP"/selftests/*.c "$RK_TOP"/selftests/tools/*.c "$RK_TOP"/tools/*.c; do
	name=$(basename "$c" .c)
	dir=bin
	case "$c" in */tools/*) dir=tools ;; esac
	libs=()
	grep -q xf86drm.h "$c" && libs=("$sysroot/usr/lib/${A_CROSS%-}/libdrm.a")
	if [ ! -e "$out/$dir/$name" ] || [ "$c" -nt "$out/$dir/$name" ] ||
	   [ "$RK_TOP/selftests/rk_test.h" -nt "$out/$dir/$name" ]; then
		rk_log "compiling ${c#"$RK_TOP"/} for $arch"
		"${A_CROSS}gcc" "${cflags[@]}" -o "$out/$dir/$name" "$c" "${libs[@]}" -lpthread
	fi
done
