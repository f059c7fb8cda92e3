#!/bin/sh
# Device tree without a rockchip,rk-dma-heap-cma node (QEMU's own tree).
. /tests/tap.sh
tap_plan 4
tap_check "rk_dma_heap.ko loads without the node" insmod /lib/modules/rk/rk-dma-heap.ko
tap_check "no heap node is created" sh -c '[ ! -e /dev/rk_dma_heap/rk-dma-heap-cma ]'
tap_check "one dmesg line says why" expect_eq "lines" 1 \
	"$(dmesg_count 'rk_dma_heap: no heap registered: the device tree has no enabled "rockchip,rk-dma-heap-cma" node')"
tap_check "rmmod" rmmod rk_dma_heap
tap_done
