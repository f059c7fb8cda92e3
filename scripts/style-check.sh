#!/usr/bin/env bash
# Host checks of the kernel code, as TAP: no compiler warnings (W=1) on each
# test kernel, checkpatch --strict, and sparse (make C=2).
# Needs the module builds of scripts/build.sh (out/VERSION/).
set -uo pipefail
. "$(dirname "$0")/common.sh"

n=0
failed=0
result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		sed 's/^/# /' "$3" | head -n 60
		echo "not ok $n $2"
		failed=1
	fi
}

set -- $RK_KERNELS
echo "TAP version 13"
echo "1..$(( $# + 5 ))"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for v in "$@"; do
	w="$RK_TOP/out/$v/module-warnings.log"
	if [ ! -e "$w" ]; then
		echo "module was not built for Linux $v" > "$tmp/w"
		result 1 "module builds without warnings (W=1) on Linux $v" "$tmp/w"
	else
		[ -s "$w" ]; st=$(( $? == 0 ))
		result "$st" "module builds without warnings (W=1) on Linux $v" "$w"
	fi
done

v=${RK_KERNELS##* }
src="$RK_CACHE/src/linux-source-$v-$(rk_kernel_pkgver "$v")"
kdir=$(rk_kernel_dir "$v")
cd "$RK_TOP" || exit 1
files=(*.c *.h include/linux/*.h include/uapi/linux/*.h selftests/client/*.c
	selftests/kunit/*.c)
perl "$src/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG -f "${files[@]}" > "$tmp/cp" 2>&1
# The compat header is the one place that must compare kernel versions.
perl "$src/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG,LINUX_VERSION_CODE,CONSTANT_COMPARISON \
	-f include/rk_dma_heap_compat.h >> "$tmp/cp" 2>&1
grep -qE '(ERROR|WARNING|CHECK):' "$tmp/cp"; st=$(( $? == 0 ))
result "$st" "checkpatch.pl --strict is clean" "$tmp/cp"

# Kernel-doc on every exported function, checked by the kernel's tool.
perl "$src/scripts/kernel-doc" -none -Wall *.c > "$tmp/kd" 2>&1
[ -s "$tmp/kd" ]; st=$(( $? == 0 ))
result "$st" "kernel-doc is complete and well-formed" "$tmp/kd"

mod="$RK_TOP/out/$v/module"
make -C "$kdir" M="$mod" ARCH="$RK_ARCH" CROSS_COMPILE="$RK_CROSS" \
	RK_DMA_HEAP_TEST_CLIENT=m C=2 CHECK="sparse" modules > "$tmp/sp" 2>&1
grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$tmp/sp" > "$tmp/spw"
[ -s "$tmp/spw" ]; st=$(( $? == 0 ))
result "$st" "sparse (make C=2) is clean" "$tmp/spw"
# dkms.conf: run its build command the way dkms would, against a kernel
# tree, in a copy laid out like dkms's build directory.
(
	kernel_source_dir=$kdir
	dkms_tree=$tmp/dkms
	# shellcheck source=/dev/null
	. "$RK_TOP/dkms.conf"
	b="$dkms_tree/$PACKAGE_NAME/$PACKAGE_VERSION/build"
	mkdir -p "$b"
	rk_copy_module_sources "$b"
	export ARCH="$RK_ARCH" CROSS_COMPILE="$RK_CROSS"
	eval "${MAKE[0]}" && test -e "$b/${BUILT_MODULE_NAME[0]}.ko"
) > "$tmp/dkms.log" 2>&1
result $? "dkms.conf builds the module (Linux $v)" "$tmp/dkms.log"
# The uapi header compiles on its own in user space (host and ARM).
cat > "$tmp/uapi.c" <<'SRC'
#include <linux/rk-dma-heap.h>
int main(void)
{
	struct rk_dma_heap_allocation_data d = { 0 };

	return sizeof(d) != 24 || RK_DMA_HEAP_IOCTL_ALLOC == DMA_HEAP_IOCTL_ALLOC;
}
SRC
{ gcc -Wall -Werror -I"$RK_TOP/include/uapi" -o "$tmp/uapi" "$tmp/uapi.c" &&
  "$tmp/uapi" &&
  "${RK_CROSS}gcc" -Wall -Werror -I"$RK_TOP/include/uapi" -c -o "$tmp/uapi.o" "$tmp/uapi.c"; } > "$tmp/uapi.log" 2>&1
result $? "uapi header compiles standalone in user space (host and ARM)" "$tmp/uapi.log"
exit $failed
