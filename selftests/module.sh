#!/bin/sh
# Loading rk_dma_heap.ko on the QEMU overlay's device tree: the heap's
# device node, its CMA pool and the test client's devices.
. /tests/tap.sh
HEAP=rk-dma-heap-cma
NODE=/dev/rk_dma_heap/$HEAP
# 66 MiB, as qemu-virt-overlay.dts reserves
REGION_PAGES=$((0x4200000 / 4096))

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

cma_pool_ok() {
	count=$(cat /sys/kernel/debug/cma/$HEAP/count) || return 1
	expect_eq "pages in the CMA area $HEAP" "$REGION_PAGES" "$count" || return 1
	dmesg | grep -q "created CMA memory pool at 0x[0-9a-f]*, size 66 MiB" ||
		{ echo "no 'created CMA memory pool ... size 66 MiB' line"; return 1; }
	# reusable: the kernel counts it (and linux,cma's 16 MiB) as CMA
	# memory it may lend to movable allocations
	expect_eq "CmaTotal in /proc/meminfo" "$(( (66 + 16) * 1024 )) kB" \
		"$(awk '/^CmaTotal:/ { print $2, $3 }' /proc/meminfo)" || return 1
	expect_eq "heap registration lines" 1 \
		"$(dmesg_count "rk-dma-heap: heap $HEAP: $((REGION_PAGES * 4)) KiB at 0x")"
}

client_ok() {
	insmod /lib/modules/rk/rk_dma_heap_test_client.ko || return 1
	for d in ffa50000.rkvenc ffa00000.rkisp ff660000.npu; do
		[ -e /sys/kernel/debug/rk_dma_heap_test/$d ] ||
			{ echo "no test client device $d"; return 1; }
	done
}

tap_plan 5
tap_check "rk_dma_heap.ko loads" insmod /lib/modules/rk/rk_dma_heap.ko
tap_check "module is listed as live" sh -c 'grep -q "^rk_dma_heap .* Live" /proc/modules'
tap_check "$NODE: char device, mode 0600, right major/minor" node_ok
tap_check "region is a 66 MiB CMA pool lent to the system, and the heap reports it" cma_pool_ok
tap_check "test client binds ffa50000.rkvenc, ffa00000.rkisp, ff660000.npu" client_ok
tap_done
