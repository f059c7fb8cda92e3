#!/bin/sh
# Loading rk_dma_heap.ko on the QEMU overlay's device tree: the heap's
# device node, its region (a CMA pool, or a carve-out) and the test
# client's devices.
. /tests/tap.sh
HEAP=rk-dma-heap-cma
NODE=/dev/rk_dma_heap/$HEAP
# The region's device-tree node: its "size" is what the kernel reserved
# (64 MiB in qemu-virt-overlay.dts), big-endian, one or two cells; a
# carve-out (qemu-virt-overlay-carveout.dts) has a "reg" of two address and
# two size cells instead.
DT_REGION=$(ls -d /proc/device-tree/reserved-memory/rk-dma-heap-region* 2>/dev/null | head -n 1)
region_hex=$(od -A n -t x1 -v "$DT_REGION/size" 2>/dev/null | tr -d ' \n')
reg_hex=$(od -A n -t x1 -v "$DT_REGION/reg" 2>/dev/null | tr -d ' \n')
[ -n "$region_hex" ] || region_hex=$(echo "$reg_hex" | cut -c17-32)
REGION_BYTES=$((0x${region_hex:-0}))
REGION_KIB=$((REGION_BYTES / 1024))
REGION_MIB=$((REGION_BYTES >> 20))

node_ok() {
	[ -c "$NODE" ] || { echo "$NODE is not a character device"; ls -l /dev/rk_dma_heap; return 1; }
	expect_eq "mode of $NODE" "crw-------" "$(ls -l "$NODE" | cut -c1-10)" || return 1
	sysdev=$(cat /sys/class/rk_dma_heap/$HEAP/dev)
	major=$(stat -c %t "$NODE")
	minor=$(stat -c %T "$NODE")
	expect_eq "major:minor of $NODE" "$sysdev" "$((0x$major)):$((0x$minor))" || return 1
	grep -q " rk_dma_heap$" /proc/devices || { echo "no rk_dma_heap in /proc/devices"; return 1; }
	expect_eq "major in /proc/devices" "${sysdev%%:*}" \
		"$(awk '$2 == "rk_dma_heap" { print $1 }' /proc/devices)"
}

# The CMA debugfs directory of the region, named after the node (5.10 cuts
# "cma-" + name to 15 characters); none where CONFIG_CMA_DEBUGFS is off, as
# on Debian's kernels.
cma_debugfs() {
	for d in /sys/kernel/debug/cma/rk-dma-heap-region /sys/kernel/debug/cma/cma-rk-dma-heap; do
		[ -r "$d/count" ] && { echo "$d"; return 0; }
	done
	return 1
}

# The rig's name of the kernel under test (rk.kernel= on the command
# line, set by scripts/guest.sh), e.g. 6.12, debian-7.2, bsp-5.10
rig_kernel() {
	sed -n 's/.*rk\.kernel=\([^ ]*\).*/\1/p' /proc/cmdline
}

# The kernel version as a number, e.g. 7.2 -> 702
kernel_version() {
	uname -r | awk -F. '{ print $1 * 100 + $2 }'
}

cma_pool_ok() {
	[ "$REGION_BYTES" -gt 0 ] 2>/dev/null ||
		{ echo "no size in $DT_REGION"; ls "$DT_REGION"; return 1; }
	base=$(dmesg | sed -n "s/.*Reserved memory: created CMA memory pool at \(0x[0-9a-f]*\), size $REGION_MIB MiB\$/\1/p")
	[ -n "$base" ] ||
		{ echo "no 'created CMA memory pool at 0x..., size $REGION_MIB MiB' line"; return 1; }
	if dir=$(cma_debugfs); then
		expect_eq "pages in the CMA area $dir" "$((REGION_BYTES / 4096))" \
			"$(cat "$dir/count")" || return 1
		expect_eq "base of the CMA area $dir" "$((base / 4096))" \
			"$(cat "$dir/base_pfn")" || return 1
	elif [ -d /sys/kernel/debug/cma ]; then
		# the tests fall back to the module's nodes only without CMA debugfs
		echo "CMA debugfs has no directory for the region:"
		ls /sys/kernel/debug/cma
		return 1
	fi
	# the module's view of the region, on every kernel
	expect_eq "first line of /proc/rk_dma_heap/alloc_bitmap" \
		"Total: $REGION_KIB KiB" "$(head -n 1 /proc/rk_dma_heap/alloc_bitmap)" || return 1
	# reusable: the kernel counts every CMA area, ours included, as memory
	# it may lend to movable allocations: the device tree's pools ("created
	# CMA memory pool ... size N MiB") and a default area from the kernel's
	# configuration ("cma: Reserved N MiB at ...")
	cma_mib=$(dmesg | sed -n -e 's/.*created CMA memory pool at 0x[0-9a-f]*, size \([0-9][0-9]*\) MiB$/\1/p' \
		-e 's/.*cma: Reserved \([0-9][0-9]*\) MiB at .*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
	expect_eq "CmaTotal in /proc/meminfo (the ${cma_mib} MiB of CMA areas in dmesg)" \
		"$((cma_mib * 1024)) kB" \
		"$(awk '/^CmaTotal:/ { print $2, $3 }' /proc/meminfo)" || return 1
	[ "$cma_mib" -gt "$REGION_MIB" ] ||
		{ echo "no default CMA area beside the region (${cma_mib} MiB in all)"; return 1; }
	# one registration line, with the kernel's base, and the backend: the
	# module uses cma_alloc() where the kernel exports it (7.2 on, and
	# Rockchip's BSP kernels)
	backend="dma_alloc_pages()"
	[ "$(kernel_version)" -ge 702 ] && backend="cma_alloc()"
	case "$(rig_kernel)" in bsp-*) backend="cma_alloc()" ;; esac
	# where every mapping bounces (swiotlb=force, the bounce boot) our
	# device's mappings of cma_alloc()'s pages would be copies, and the
	# heap takes its blocks with dma_alloc_pages(), whose are the pages
	grep -q 'swiotlb=[^ ]*force' /proc/cmdline && backend="dma_alloc_pages()"
	expect_eq "heap registration lines" 1 \
		"$(dmesg_count "rk-dma-heap-cma rk-dma-heap: heap $HEAP: $REGION_KIB KiB at $base, allocated with $backend\$")"
}

# A carve-out: reserved, never a CMA area, served by the heap's own map.
carveout_ok() {
	[ "$REGION_BYTES" -gt 0 ] 2>/dev/null ||
		{ echo "no size in $DT_REGION"; ls "$DT_REGION"; return 1; }
	# the kernel prints the base with 8 or 16 digits (%pa)
	base=0x0*$(printf '%x' "$((0x$(echo "$reg_hex" | cut -c1-16)))")
	expect_eq "CMA pools made of the region" 0 \
		"$(dmesg_count "created CMA memory pool at $base")" || return 1
	[ -z "$(cma_debugfs)" ] ||
		{ echo "the region has a CMA debugfs directory: $(cma_debugfs)"; return 1; }
	expect_eq "first line of /proc/rk_dma_heap/alloc_bitmap" \
		"Total: $REGION_KIB KiB" "$(head -n 1 /proc/rk_dma_heap/alloc_bitmap)" || return 1
	expect_eq "heap registration lines" 1 \
		"$(dmesg_count "rk-dma-heap-cma rk-dma-heap: heap $HEAP: $REGION_KIB KiB at $base, allocated with its own page map (carve-out)\$")"
}

if [ -e "$DT_REGION/reusable" ]; then
	region_test="region is a ${REGION_MIB} MiB CMA pool lent to the system, and the heap reports it"
	region_ok=cma_pool_ok
else
	region_test="region is a ${REGION_MIB} MiB carve-out, no CMA pool, and the heap reports it"
	region_ok=carveout_ok
fi

client_ok() {
	insmod /lib/modules/rk/rk_dma_heap_test_client.ko || return 1
	for d in ffa50000.rkvenc ffa00000.rkisp ff660000.npu; do
		[ -e /sys/kernel/debug/rk_dma_heap_test/$d ] ||
			{ echo "no test client device $d"; return 1; }
	done
}

tap_plan 5
tap_check "rk_dma_heap.ko loads" insmod /lib/modules/rk/rk-dma-heap.ko
tap_check "module is listed as live" sh -c 'grep -q "^rk_dma_heap .* Live" /proc/modules'
tap_check "$NODE: char device, mode 0600, right major/minor" node_ok
tap_check "$region_test" "$region_ok"
tap_check "test client binds ffa50000.rkvenc, ffa00000.rkisp, ff660000.npu" client_ok
tap_done
