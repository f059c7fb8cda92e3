#!/bin/sh
# The heap's device going away (as when its device-tree overlay is
# removed) while buffers live: the buffers keep working, new allocations
# are refused, the device cannot be bound again until they are freed, and
# then it can. Driven through the test client's unbind-heap and bind-heap.
. /tests/tap.sh
NODE=/dev/rk_dma_heap/rk-dma-heap-cma
NPU=/sys/kernel/debug/rk_dma_heap_test/ff660000.npu
CLIENT=/lib/modules/rk/rk_dma_heap_test_client.ko

npu() {
	echo "$*" > "$NPU"
}

npu_result() {
	cat "$NPU"
}

# a 64 KiB buffer the NPU holds, written and mapped, then the device goes
unbind_with_live_buffer() {
	npu alloc 0 65536 live-at-unbind || return 1
	npu attach 0 || return 1
	npu unbind-heap 0 || return 1
	[ ! -e "$NODE" ] || { echo "$NODE still exists"; return 1; }
	! grep -q "rk-dma-heap-cma" /proc/rk_dma_heap/rk-dma-heap-usage ||
		{ echo "the removed heap is still listed"; return 1; }
}

buffer_still_works() {
	npu vmap 0 || { echo "vmap failed"; return 1; }
	expect_eq "sum of the buffer's bytes" "sum 0" "$(npu_result)"
}

# (the KUnit tests, earlier in the boot, saw such a line too)
alloc_refused() {
	line='rk_dma_heap: rk-dma-heap-cma: allocation refused: the heap.s device is gone$'
	before=$(dmesg_count "$line")
	if npu alloc 1 4096 2>/dev/null; then
		echo "an allocation from the removed heap succeeded"
		return 1
	fi
	expect_eq "new dmesg lines" 1 "$(( $(dmesg_count "$line") - before ))"
}

rebind_refused() {
	npu bind-heap 0 || return 1
	expect_eq "bind result" "bound 0" "$(npu_result)" || return 1
	[ ! -e "$NODE" ] || { echo "$NODE is back"; return 1; }
	expect_eq "dmesg lines" 1 \
		"$(dmesg_count 'rk-dma-heap: no heap registered: buffers of the device.s previous heap are still in use$')"
}

rebind_after_free() {
	npu free 0 || return 1
	npu bind-heap 0 || return 1
	expect_eq "bind result" "bound 1" "$(npu_result)" || return 1
	[ -c "$NODE" ] || { echo "$NODE missing"; return 1; }
	expect_eq "Used line of alloc_bitmap" " Used: 0 KiB" \
		"$(sed -n 2p /proc/rk_dma_heap/alloc_bitmap)"
}

# the client still holds the old heap, whose state went with its last
# buffer: a driver freeing pages that are not its own finds nothing to free
foreign_free_after_release() {
	npu free-foreign 0 || return 1
	expect_eq "dmesg lines" 1 \
		"$(dmesg_count 'rk_dma_heap: rk-dma-heap-cma: refusing to free 4096 bytes at pfn 0x[0-9a-f]*: the heap.s device is gone and none of its pages are allocated$')"
}

# the client still holds the old heap: reloaded, it finds the new one
client_reload() {
	rmmod rk_dma_heap_test_client || return 1
	insmod "$CLIENT" || return 1
	npu alloc 0 8192 after-rebind || return 1
	grep -q "after-rebind" /proc/rk_dma_heap/rk-dma-heap-info ||
		{ echo "the new allocation is not listed"; return 1; }
	npu free 0
}

tap_plan 7
tap_check "unbinding with a live buffer removes the node and the listing" unbind_with_live_buffer
tap_check "the buffer still reads and maps after the device is gone" buffer_still_works
tap_check "allocations from the removed heap fail, one dmesg line" alloc_refused
tap_check "binding again is refused while the old buffer lives" rebind_refused
tap_check "after the free, binding again brings the heap back, empty" rebind_after_free
tap_check "freeing foreign pages on the old heap is refused, one dmesg line" foreign_free_after_release
tap_check "the reloaded client allocates from the new heap" client_reload
tap_done
