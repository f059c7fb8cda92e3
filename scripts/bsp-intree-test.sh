#!/usr/bin/env bash
# Test rk_dma_heap built into the Rockchip BSP kernel (kernel bsp-intree-5.10):
# build the kernel (the BSP tree after scripts/bsp-intree.sh, configured by
# scripts/bsp-kernel.sh with rv1106_defconfig and the QEMU fragments, then
# qemu/kernel-bsp-intree.config; cached under $RK_CACHE/build, keyed by the
# BSP tree, our sources and the fragments), the guest's initramfs, and boot
# it in QEMU five ways, each running selftests/bsp-intree.sh:
#   dt     our overlay's tree (its region wins over rk_dma_heap_cma=66M)
#   arg    QEMU's own tree, rk_dma_heap_cma=66M
#   fixed  QEMU's own tree, rk_dma_heap_cma=66M@0x50000000
#   bad    QEMU's own tree, rk_dma_heap_cma=66M@0x50080000 (refused)
#   huge   QEMU's own tree, rk_dma_heap_cma=1G (refused)
# Each console goes to out/bsp-intree-5.10/console-bsp-intree-WAY.log, in
# the format scripts/tap-summary.py reads; out/bsp-intree-5.10/summary.args
# lists them as its LABEL=PATH arguments. Ends with tap-summary.py's
# report and exit status.
# Usage: scripts/bsp-intree-test.sh [WAY...]
# RK_BSP_INTREE_KDIR=DIR boots a kernel built elsewhere instead (DIR/zImage
# or DIR/boot-image, DIR/modroot/lib/modules/VERSION).
# Exits with status 2 when there is no BSP tree.
set -euo pipefail
. "$(dirname "$0")/common.sh"

k=bsp-intree-5.10
ways=("$@")
[ ${#ways[@]} -gt 0 ] || ways=(dt arg fixed bad huge)
arch=arm
out="$RK_TOP/out/$k"
mkdir -p "$out"
timeout=${RK_GUEST_TIMEOUT:-900}

[ -n "${RK_GUEST_PREBUILT:-}" ] || "$RK_TOP/scripts/deps.sh"
if [ -n "${RK_BSP_INTREE_KDIR:-}" ]; then
	kdir=$RK_BSP_INTREE_KDIR
else
	[ -x "$RK_TOP/scripts/bsp-kernel.sh" ] ||
		rk_die "no scripts/bsp-kernel.sh to build the BSP kernel (set RK_BSP_INTREE_KDIR to boot one built by hand)"
	st=0
	kdir=$(rk_kernel_build "$k") || st=$?
	[ "$st" = 0 ] || exit "$st"
fi
image=$kdir/boot-image
[ -e "$image" ] || image=$kdir/arch/arm/boot/zImage
[ -e "$image" ] || rk_die "no kernel image in $kdir"
[ -d "$kdir/modroot/lib/modules" ] || rk_die "no modules in $kdir/modroot"

# the guest: busybox, /init, the kernel's modules, the tests (make check
# makes the test programs and device trees once for all)
dtbdir="$RK_TOP/out/dtb/$arch"
if [ -z "${RK_SHARED_READY:-}" ]; then
	"$RK_TOP/scripts/build-tests.sh" "$arch" >&2
	"$RK_TOP/scripts/dtb.sh" "$arch" "$dtbdir" > /dev/null
fi
# QEMU's dump is padded to 1 MiB, too big for the zImage boot: dtc writes
# it back compact.
dtc -q -I dtb -O dtb -o "$dtbdir/virt-compact.dtb" "$dtbdir/virt.dtb"
initrd="$out/initrd-bsp-intree.gz"
"$RK_TOP/scripts/initramfs.sh" "$k" "$kdir" - "$initrd"

rk_qemu "$arch"
: > "$out/summary.args"
for way in "${ways[@]}"; do
	dtb="$dtbdir/virt-compact.dtb"
	case "$way" in
	dt) dtb="$dtbdir/rk-virt.dtb"; arg=66M ;;
	arg) arg=66M ;;
	fixed) arg=66M@0x50000000 ;;
	bad) arg=66M@0x50080000 ;;
	huge) arg=1G ;;
	*) rk_die "unknown way '$way' (dt, arg, fixed, bad, huge)" ;;
	esac
	log="$out/console-bsp-intree-$way.log"
	rk_log "booting Linux $k ($way: rk_dma_heap_cma=$arg, $(basename "$dtb")), console in $log"
	st=0
	timeout "$timeout" "$RK_QEMU_BIN" -M virt "${RK_QEMU_OPTS[@]}" \
		-kernel "$image" -dtb "$dtb" -initrd "$initrd" \
		-append "console=ttyAMA0 panic=-1 loglevel=4 rk.mode=bsp-intree:$way rk_dma_heap_cma=$arg" \
		< /dev/null > "$log" 2>&1 || st=$?
	[ "$st" = 124 ] && echo "RK-GUEST-TIMEOUT after ${timeout}s" >> "$log"
	echo "$k-$way=$log" >> "$out/summary.args"
done

args=()
while IFS= read -r a; do
	args+=("$a")
done < "$out/summary.args"
exec python3 "$RK_TOP/scripts/tap-summary.py" "${args[@]}"
