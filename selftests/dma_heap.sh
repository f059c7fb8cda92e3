#!/bin/sh
# The heap in /dev/dma_heap: rk_dma_heap loaded with dma_heap_names. Runs
# after lifecycle.sh, which leaves the module unloaded, and leaves it
# loaded for rk_heap_dmaheap, which runs next: where the kernel exports
# dma_heap_add() (6.18 on), the module cannot be unloaded any more.
. /tests/tap.sh
KO=/lib/modules/rk/rk-dma-heap.ko

# mainline's dma_heap_add() (6.18 on), exported, not only there (6.12 has
# it for its own heaps; Rockchip's BSP exports one with other arguments)
has_dma_heap_add() {
	v=$(uname -r)
	major=${v%%.*}
	minor=${v#*.}
	minor=${minor%%.*}
	[ "$major" -gt 6 ] || { [ "$major" = 6 ] && [ "$minor" -ge 18 ]; } || return 1
	grep -q ' __ksymtab_dma_heap_add$' /proc/kallsyms
}

# a heap of the kernel's own that holds a name: the system heap, or the
# one mainline makes for the region's node; empty if there is none
OTHER=$(ls /dev/dma_heap 2>/dev/null | head -n 1)
NAMES="rk-test,rk-test-uncached,rk-test-dma32,bad/name,rk-test"
[ -z "$OTHER" ] || NAMES="$NAMES,$OTHER"

load() {
	echo "<5>rk_dma_heap tests: load with heap names" > /dev/kmsg
	insmod "$KO" dma_heap_names="$NAMES" || return 1
	rt_trace_on
	[ -c /dev/rk_dma_heap/rk-dma-heap-cma ] || { echo "no heap node"; return 1; }
}

# rk-test-dma32 is added only where the whole region lies below 4 GiB:
# not in the high-memory boot (region at 5 GiB), where one dmesg line says
# why. DMA32 is 1 where it is added, else 0.
dma32_region() {
	set -- $(dmesg | sed -n 's/.*heap rk-dma-heap-cma: \([0-9]*\) KiB at \(0x[0-9a-f]*\),.*/\1 \2/p' | tail -n 1)
	[ $# -eq 2 ] && [ $(($2 + $1 * 1024)) -le $((1 << 32)) ]
}

# the kernel log since load()
log() {
	dmesg | sed -n '/rk_dma_heap tests: load with heap names/,$p' | sed 's/^\[[^]]*\] //'
}

added() {
	if [ "$DMA32" = 0 ]; then
		[ ! -e /dev/dma_heap/rk-test-dma32 ] ||
			{ echo "/dev/dma_heap/rk-test-dma32 with the region above 4 GiB"; return 1; }
		expect_eq "dmesg lines refusing rk-test-dma32" 1 \
			"$(log | grep -cx 'rk_dma_heap: dma_heap_names: rk-test-dma32 not added: the region does not lie below 4 GiB')" || return 1
	fi
	for n in rk-test:cached rk-test-uncached:uncached rk-test-dma32:cached; do
		[ "$DMA32" = 1 ] || [ "$n" != rk-test-dma32:cached ] || continue
		name=${n%%:*}
		[ -c "/dev/dma_heap/$name" ] || { echo "no /dev/dma_heap/$name"; ls -l /dev/dma_heap; return 1; }
		expect_eq "dmesg lines for $name" 1 \
			"$(log | grep -cx "rk_dma_heap: /dev/dma_heap/$name: rk-dma-heap-cma, ${n#*:}")" || return 1
	done
}

refused() {
	expect_eq "dmesg line for bad/name" 1 \
		"$(log | grep -cxF "rk_dma_heap: dma_heap_names: 'bad/name' is not a heap name (1 to 32 characters, no '/')")" || return 1
	expect_eq "dmesg line for the second rk-test" 1 \
		"$(log | grep -cx "rk_dma_heap: dma_heap_names: rk-test not added: /dev/dma_heap/rk-test exists already")" || return 1
	[ -z "$OTHER" ] || expect_eq "dmesg line for $OTHER" 1 \
		"$(log | grep -cxF "rk_dma_heap: dma_heap_names: $OTHER not added: /dev/dma_heap/$OTHER exists already")"
}

stays() {
	expect_eq "dmesg line about staying loaded" 1 \
		"$(log | grep -cx "rk_dma_heap: $((2 + DMA32)) heap(s) in /dev/dma_heap: the kernel cannot remove them, so rk_dma_heap stays loaded until reboot")" || return 1
	if rmmod rk_dma_heap 2>/dev/null; then
		echo "rmmod succeeded"
		return 1
	fi
	[ -c /dev/dma_heap/rk-test ] || { echo "/dev/dma_heap/rk-test gone"; return 1; }
}

ignored() {
	expect_eq "dmesg lines about dma_heap_names" 1 \
		"$(log | grep -c 'dma_heap_names')" || return 1
	expect_eq "the line" 1 \
		"$(log | grep -cx 'rk_dma_heap: dma_heap_names ignored: this kernel does not export dma_heap_add() (mainline 6.18 on, with CONFIG_DMABUF_HEAPS)')" || return 1
	[ ! -e /dev/dma_heap/rk-test ] || { echo "/dev/dma_heap/rk-test exists"; return 1; }
}

if has_dma_heap_add; then
	tap_plan 4
	tap_check "insmod with dma_heap_names" load
	DMA32=0
	dma32_region && DMA32=1
	if [ "$DMA32" = 1 ]; then
		tap_check "rk-test, rk-test-uncached and rk-test-dma32 (region below 4 GiB) are in /dev/dma_heap, one dmesg line each" added
	else
		tap_check "rk-test and rk-test-uncached are in /dev/dma_heap, rk-test-dma32 refused (region above 4 GiB), one dmesg line each" added
	fi
	tap_check "a name with '/', a repeated name and another heap's name are refused, one dmesg line each" refused
	tap_check "rmmod is refused once heaps are in /dev/dma_heap, and dmesg said so" stays
else
	tap_plan 2
	tap_check "insmod with dma_heap_names" load
	tap_check "without dma_heap_add() the names are ignored, in one dmesg line" ignored
fi
tap_done
