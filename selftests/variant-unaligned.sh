#!/bin/sh
# The heap's region is 64.5 MiB, a multiple of no kernel's pageblock size:
# the kernel refuses it as a CMA area, and the module says what to fix.
. /tests/tap.sh
tap_plan 6
tap_check "the kernel refused the region" expect_eq "lines" 1 \
	"$(dmesg_count 'incorrect alignment of CMA region')"
tap_check "rk_dma_heap.ko loads with the refused region" insmod /lib/modules/rk/rk-dma-heap.ko
tap_check "no heap node is created" sh -c '[ ! -e /dev/rk_dma_heap/rk-dma-heap-cma ]'
tap_check "one dmesg line gives the size and the pageblock size it must divide" \
	expect_eq "lines" 1 \
	"$(dmesg_count "no heap registered: the kernel refused memory-region /reserved-memory/rk-dma-heap-region@5b000000 (66048 KiB) as a CMA area: its base and size must be multiples of this kernel's pageblock size, [0-9]* KiB")"
tap_check "nothing else about the probe in dmesg" expect_eq "lines" 0 \
	"$(dmesg_count 'probe of rk-dma-heap failed')"
tap_check "rmmod" rmmod rk_dma_heap
tap_done
