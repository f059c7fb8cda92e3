#!/bin/sh
# The high-memory boot (qemu-virt-overlay-highmem.dts, 6 GiB of arm64 RAM),
# run after module.sh has loaded the module, before the rest of the suite:
# rk-dma-heap-cma's region really is at 5 GiB and its buffers lie there,
# holding none of swiotlb's slots (the heap's own device must reach them
# without bouncing: with a 32-bit DMA mask, each buffer's own mapping
# would take slots for its whole life, and those over 256 KiB would
# fail); and the second heap, rk-dma-heap-small, registered on its 2 MiB
# region and serves a buffer inside it.
. /tests/tap.sh
INFO=/proc/rk_dma_heap/rk-dma-heap-info
SMALL=/dev/rk_dma_heap/rk-dma-heap-small
BASE=$((0x140000000))
SIZE=$((64 << 20))
TLB_USED=/sys/kernel/debug/swiotlb/io_tlb_used

# ranges HEAP: "START END" of each buffer of HEAP in the info node
ranges() {
	grep -A1 "^dma-heap:<$1> " "$INFO" |
		sed -n 's/.*\[\(0x[0-9a-f]*\)-\(0x[0-9a-f]*\)\].*/\1 \2/p'
}

# in_region START END BASE SIZE: the range lies in the region
in_region() {
	[ "$(($1))" -ge "$3" ] && [ "$(($2))" -lt $(($3 + $4)) ] && [ "$(($1))" -le "$(($2))" ] ||
		{ printf 'buffer at %s-%s, outside the region at 0x%x (%d KiB)\n' "$1" "$2" "$3" $(($4 >> 10)); return 1; }
}

# Buffers of 64 KiB, 1 MiB and 4 MiB, written through their mappings
# between syncs (rk_heap_demo), held while the info node and swiotlb's
# count of used slots are read.
cma_buffers() {
	[ -r "$TLB_USED" ] || { echo "no $TLB_USED: swiotlb was not set up, though RAM reaches past 4 GiB"; return 1; }
	before=$(cat "$TLB_USED")
	out=$(rk_heap_demo -c "cat $TLB_USED; cat $INFO" 64 1024 4096) || { echo "$out"; return 1; }
	if echo "$out" | grep -q '^alloc '; then
		echo "$out" | grep '^alloc '
		return 1
	fi
	during=$(echo "$out" | sed -n 's/^\([0-9][0-9]*\)$/\1/p' | head -n 1)
	expect_eq "swiotlb slots in use while the buffers are held" "$before" "$during" || return 1
	n=0
	echo "$out" | grep -A1 '^dma-heap:<rk-dma-heap-cma> ' |
		sed -n 's/.*\[\(0x[0-9a-f]*\)-\(0x[0-9a-f]*\)\].*/\1 \2/p' > /tmp/highmem.ranges
	while read -r start end; do
		in_region "$start" "$end" "$BASE" "$SIZE" || return 1
		n=$((n + 1))
	done < /tmp/highmem.ranges
	expect_eq "buffers of rk-dma-heap-cma in the info node" 3 "$n"
}

# A 64 KiB buffer of the small heap held by rk_heap_as (written and read
# back through its mapping): its range lies in the small region.
small_buffer() {
	base=$(dmesg | sed -n 's/.*heap rk-dma-heap-small: 2048 KiB at \(0x[0-9a-f]*\), .*/\1/p' | tail -n 1)
	[ -n "$base" ] || { echo "no registration line of rk-dma-heap-small"; return 1; }
	hold_start "$SMALL" /tmp/small.out
	range=$(ranges rk-dma-heap-small)
	hold_end
	expect_eq "rk_heap_as on $SMALL" "mapped 65536" "$(cat /tmp/small.out)" || return 1
	set -- $range
	[ $# -eq 2 ] || { echo "no buffer of rk-dma-heap-small in $INFO"; cat "$INFO"; return 1; }
	expect_eq "buffer size" 65536 "$(($2 - $1 + 1))" || return 1
	in_region "$1" "$2" "$((base))" $((2 << 20))
}

tap_plan 5
tap_check "the kernel made the 64 MiB region at 5 GiB a CMA area" \
	expect_eq "lines" 1 \
	"$(dmesg_count 'Reserved memory: created CMA memory pool at 0x0*140000000, size 64 MiB$')"
tap_check "rk-dma-heap-cma registered on it" expect_eq "lines" 1 \
	"$(dmesg_count 'heap rk-dma-heap-cma: 65536 KiB at 0x0*140000000, allocated with ')"
tap_check "rk-dma-heap-cma's buffers lie there and hold no swiotlb slot" cma_buffers
tap_check "rk-dma-heap-small registered on its 2 MiB region" \
	expect_eq "lines" 1 "$(dmesg_count 'heap rk-dma-heap-small: 2048 KiB at 0x')"
tap_check "rk-dma-heap-small serves a buffer inside its region" small_buffer
tap_done
