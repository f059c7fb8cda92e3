#!/usr/bin/env bash
# Host checks of the kernel code, as TAP: no compiler warnings (W=1) on each
# test kernel, checkpatch --strict, kernel-doc, sparse (make C=2) on the
# reference kernel, the structure rules, dkms and the uapi header.
# Needs the module builds of scripts/build.sh (out/KERNEL/).
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

# make check names the kernels it tested (the BSP ones only with a tree)
set -- ${RK_CHECK_KERNELS:-$RK_KERNELS}
echo "TAP version 13"
echo "1..$(( $# + 8 ))"
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

# Where the kernel patches every function's entry for ftrace (arm64's
# DYNAMIC_FTRACE_WITH_CALL_OPS), loading a module with a function below the
# kernel's CONFIG_FUNCTION_ALIGNMENT hits a BUG(). GCC before 14 does not
# align functions it finds cold (one that only prints, say), and Debian's
# kernels are built with a newer GCC than ours: check every module.
: > "$tmp/align"
for v in "$@"; do
	kd=$(cat "$RK_TOP/out/$v/kernel-dir" 2>/dev/null)/kdir
	align=$(sed -n 's/^CONFIG_FUNCTION_ALIGNMENT=//p' "$kd/.config" 2>/dev/null)
	grep -q '^CONFIG_DYNAMIC_FTRACE_WITH_CALL_OPS=y' "$kd/.config" 2>/dev/null ||
		continue
	rk_kernel "$v"
	for ko in $(find "$RK_TOP/out/$v/module" -name '*.ko'); do
		"${K_CROSS}readelf" -sW "$ko" | awk '$4 == "FUNC" && $7 != "UND" { print $2, $8 }' |
		while read -r addr name; do
			[ $(( 0x$addr % align )) = 0 ] ||
				echo "Linux $v: ${ko##*/}: $name at 0x$addr is not aligned to $align bytes"
		done
	done
done >> "$tmp/align"
[ -s "$tmp/align" ]; st=$(( $? == 0 ))
result "$st" "every function of the modules is aligned as ftrace's call ops need" "$tmp/align"

# checkpatch and kernel-doc of the newest series; sparse and dkms on the
# 6.12 ARM32 debug kernel (bookworm's sparse predates newer headers).
src=$(rk_kernel_source 7.2)
v=6.12
kdir=$(rk_kernel_dir "$v")
rk_kernel "$v"
cd "$RK_TOP" || exit 1
files=(*.c *.h include/linux/*.h include/uapi/linux/*.h selftests/client/*.c
	selftests/kunit/*.c)
# ALLOC_WITH_SIZEOF asks for kzalloc_obj(), which kernels before 7.0 lack.
ignore=FILE_PATH_CHANGES,SPDX_LICENSE_TAG,ALLOC_WITH_SIZEOF
perl "$src/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
	--ignore "$ignore" -f "${files[@]}" > "$tmp/cp" 2>&1
# The compat header is the one place that must compare kernel versions,
# and its macros define whole callbacks (a return there hides no flow;
# a callback's name in its declarator needs no parentheses).
perl "$src/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
	--ignore "$ignore,LINUX_VERSION_CODE,CONSTANT_COMPARISON,MACRO_WITH_FLOW_CONTROL,MACRO_ARG_PRECEDENCE" \
	-f include/rk_dma_heap_compat.h >> "$tmp/cp" 2>&1
grep -qE '(ERROR|WARNING|CHECK):' "$tmp/cp"; st=$(( $? == 0 ))
result "$st" "checkpatch.pl --strict is clean" "$tmp/cp"

# Structure: kernel versions are compared in the compat header only, and
# no .c file includes another (the module is a composite object).
{ grep -nE 'LINUX_VERSION_CODE|KERNEL_VERSION|RK_KERNEL_AT_LEAST' \
	*.c selftests/client/*.c selftests/kunit/*.c include/linux/*.h *.h
  grep -nE '^#include *"[^"]*\.c"' *.c selftests/client/*.c selftests/kunit/*.c
} > "$tmp/struct" 2>&1
[ -s "$tmp/struct" ]; st=$(( $? == 0 ))
result "$st" "version checks only in include/rk_dma_heap_compat.h; no .c includes a .c" "$tmp/struct"

# Kernel-doc on every exported function, checked by the kernel's tool.
perl "$src/scripts/kernel-doc" -none -Wall *.c > "$tmp/kd" 2>&1
[ -s "$tmp/kd" ]; st=$(( $? == 0 ))
result "$st" "kernel-doc is complete and well-formed" "$tmp/kd"

mod="$RK_TOP/out/$v/module"
make -C "$kdir" M="$mod" ARCH="$K_ARCH" CROSS_COMPILE="$K_CROSS" \
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
	export ARCH="$K_ARCH" CROSS_COMPILE="$K_CROSS"
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
  "${K_CROSS}gcc" -Wall -Werror -I"$RK_TOP/include/uapi" -c -o "$tmp/uapi.o" "$tmp/uapi.c"; } > "$tmp/uapi.log" 2>&1
result $? "uapi header compiles standalone in user space (host and ARM)" "$tmp/uapi.log"

# A program that also includes mainline's <linux/dma-heap.h> (librga's and
# rknn's allocators do), in either order, or the C library's <fcntl.h>, and
# one that uses the flag masks with no other header: each compiles without
# a warning, and both ALLOC requests are the same (issue 22, item 10).
uapi_prog() {
	local h
	for h in "$@"; do
		echo "#include <$h>"
	done
	cat <<'SRC'
int main(void)
{
	struct dma_heap_allocation_data d = { .fd_flags = O_RDWR | O_CLOEXEC };

	return RK_DMA_HEAP_IOCTL_ALLOC == DMA_HEAP_IOCTL_ALLOC ||
	       sizeof(d) != sizeof(struct rk_dma_heap_allocation_data) ||
	       (d.fd_flags & ~RK_DMA_HEAP_VALID_FD_FLAGS) ||
	       _IOC_SIZE(DMA_HEAP_IOCTL_ALLOC) != 24;
}
SRC
}
: > "$tmp/uapi2.log"
for order in "linux/rk-dma-heap.h linux/dma-heap.h" \
	"linux/dma-heap.h linux/rk-dma-heap.h" \
	"fcntl.h linux/rk-dma-heap.h linux/dma-heap.h" "linux/rk-dma-heap.h"; do
	# shellcheck disable=SC2086
	uapi_prog $order > "$tmp/uapi2.c"
	for cc in gcc arm-linux-gnueabihf-gcc aarch64-linux-gnu-gcc; do
		if ! "$cc" -Wall -Wextra -Werror -I"$RK_TOP/include/uapi" \
			-c -o "$tmp/uapi2.o" "$tmp/uapi2.c" >> "$tmp/uapi2.log" 2>&1; then
			echo "$cc: #include <${order// />, <}> does not compile" >> "$tmp/uapi2.log"
		fi
	done
done
grep -q "does not compile" "$tmp/uapi2.log"; st=$(( $? == 0 ))
result "$st" "uapi header with <linux/dma-heap.h> in either order, and alone with its flag masks" "$tmp/uapi2.log"
exit $failed
