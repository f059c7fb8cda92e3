#!/usr/bin/env bash
# Pack the guest's initramfs: busybox, /init, the kernel's modules, our
# module and test client, and the tests.
# Usage: scripts/initramfs.sh VERSION KERNEL_BUILD_DIR MODULE_DIR OUTPUT
set -euo pipefail
. "$(dirname "$0")/common.sh"

v=$1 kdir=$2 mod=$3 output=$4
root=$(mktemp -d)
chmod 755 "$root"	# mktemp makes it 0700: the guest's / for non-root users
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,mnt,root,lib/modules/rk,tests/bin}
cp "$RK_CACHE/busybox-armhf/busybox" "$root/bin/busybox"
"${RK_CROSS}readelf" -h "$root/bin/busybox" 2>/dev/null | grep -q "Machine:.*ARM" ||
	rk_die "$RK_CACHE/busybox-armhf/busybox is not an ARM build (run scripts/deps.sh)"
cp "$RK_TOP/qemu/init" "$root/init"
chmod 755 "$root/init"
cp -r "$kdir/modroot/lib/modules/." "$root/lib/modules/"
cp "$mod/rk_dma_heap.ko" "$root/lib/modules/rk/"
cp "$mod"/selftests/client/*.ko "$mod"/selftests/kunit/*.ko "$root/lib/modules/rk/"
cp -r "$RK_TOP"/out/tests/bin/. "$root/tests/bin/"
cp -r "$RK_TOP"/out/tests/tools/. "$root/bin/"
cp "$RK_TOP"/selftests/*.sh "$root/tests/"
chmod 755 "$root"/tests/*.sh
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
	gzip -1 > "$output.tmp"
mv "$output.tmp" "$output"
