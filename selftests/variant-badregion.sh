#!/bin/sh
# The heap node's memory-region is a no-map region: neither a CMA pool
# nor a carve-out.
. /tests/tap.sh
tap_plan 5
tap_check "rk_dma_heap.ko loads with a bad region" insmod /lib/modules/rk/rk-dma-heap.ko
tap_check "no heap node is created" sh -c '[ ! -e /dev/rk_dma_heap/rk-dma-heap-cma ]'
tap_check "one dmesg line says why" expect_eq "lines" 1 \
	"$(dmesg_count 'no heap registered: memory-region /reserved-memory/bad-region@5f000000 is no-map: the heap zeroes and maps buffers through the kernel linear map, which no-map leaves out')"
tap_check "nothing else about the probe in dmesg" expect_eq "lines" 0 \
	"$(dmesg_count 'probe of rk-dma-heap failed')"
tap_check "rmmod" rmmod rk_dma_heap
tap_done
