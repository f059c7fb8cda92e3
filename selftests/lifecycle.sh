#!/bin/sh
# Unloading and reloading rk_dma_heap.ko (runs last: it unloads the client).
. /tests/tap.sh
NODE=/dev/rk_dma_heap/rk-dma-heap-cma

gone() {
	rmmod rk_dma_heap_test_client 2>/dev/null
	rmmod rk_dma_heap || return 1
	for p in "$NODE" /sys/class/rk_dma_heap /proc/rk_dma_heap /sys/kernel/rk_dma_heap; do
		[ ! -e "$p" ] || { echo "$p still exists after rmmod"; return 1; }
	done
}

back() {
	insmod /lib/modules/rk/rk_dma_heap.ko || return 1
	[ -c "$NODE" ] || { echo "$NODE missing after the second insmod"; return 1; }
	expect_eq "mode of $NODE" "crw-------" "$(ls -l "$NODE" | cut -c1-10)"
}

tap_plan 4
tap_check "rmmod removes the node, the class and the /proc and /sys nodes" gone
tap_check "second insmod registers the heap again" back
tap_check "second rmmod" gone
tap_check "third insmod" back
tap_done
