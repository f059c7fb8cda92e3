#!/usr/bin/env bash
# Pack the guest's initramfs: busybox, /init, the kernel's modules, our
# module and test modules, and the tests.
# Usage: scripts/initramfs.sh KERNEL KERNEL_DIR MODULE_DIR OUTPUT
# MODULE_DIR "-": no module of ours (a kernel with rk_dma_heap built in).
set -euo pipefail
. "$(dirname "$0")/common.sh"

k=$1 kdir=$2 mod=$3 output=$4
rk_kernel "$k"
root=$(mktemp -d)
chmod 755 "$root"	# mktemp makes it 0700: the guest's / for non-root users
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,mnt,root,lib/modules/rk,tests/bin}
cp "$RK_CACHE/busybox-$K_DEB/busybox" "$root/bin/busybox"
"${K_CROSS}readelf" -h "$root/bin/busybox" 2>/dev/null |
	grep -q "Machine:.*$( [ "$K_ARCH" = arm ] && echo ARM || echo AArch64)" ||
	rk_die "$RK_CACHE/busybox-$K_DEB/busybox is not a $K_DEB build (run scripts/deps.sh)"
cp "$RK_TOP/qemu/init" "$root/init"
chmod 755 "$root/init"
cp -r "$kdir/modroot/lib/modules/." "$root/lib/modules/"
if [ "$mod" != - ]; then
	cp "$mod/rk-dma-heap.ko" "$root/lib/modules/rk/"
	cp "$mod"/selftests/client/*.ko "$root/lib/modules/rk/"
	# the KUnit tests exist only where the kernel has KUnit
	shopt -s nullglob
	for ko in "$mod"/selftests/kunit/*.ko; do
		cp "$ko" "$root/lib/modules/rk/"
	done
fi
cp -r "$RK_TOP/out/tests/$K_ARCH/bin/." "$root/tests/bin/"
cp -r "$RK_TOP/out/tests/$K_ARCH/tools/." "$root/bin/"
cp "$RK_TOP"/selftests/*.sh "$root/tests/"
chmod 755 "$root"/tests/*.sh
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
	gzip -1 > "$output.tmp"
mv "$output.tmp" "$output"
