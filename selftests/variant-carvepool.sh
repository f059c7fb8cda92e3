#!/bin/sh
# The heap's region is a "shared-dma-pool" that is neither reusable nor
# no-map (qemu-virt-overlay-carvepool.dts). arm64 kernels keep it reserved
# and the heap serves it as a carve-out; ARM32 kernels give it back to the
# system at boot, and the module must register no heap and say what to
# write instead.
. /tests/tap.sh
NODE=/dev/rk_dma_heap/rk-dma-heap-cma
REGION=/reserved-memory/pool-region@5e000000

# root allocates 64 KiB, maps it, writes and reads back (rk_heap_as)
serves() {
	expect_eq "rk_heap_as as root" "mapped 65536" "$(rk_heap_as 0 0 -)" &&
		expect_eq "first line of /proc/rk_dma_heap/alloc_bitmap" \
			"Total: 16384 KiB" "$(head -n 1 /proc/rk_dma_heap/alloc_bitmap)"
}

case "$(uname -m)" in
aarch64)
	tap_plan 4
	tap_check "rk_dma_heap.ko loads" insmod /lib/modules/rk/rk-dma-heap.ko
	tap_check "one registration line for a 16 MiB carve-out at 0x5e000000" \
		expect_eq "lines" 1 \
		"$(dmesg_count "heap rk-dma-heap-cma: 16384 KiB at 0x0*5e000000, allocated with its own page map (carve-out)$")"
	tap_check "$NODE serves a buffer from the 16 MiB region" serves
	tap_check "rmmod" rmmod rk_dma_heap
	;;
*)
	tap_plan 5
	tap_check "the kernel gave the region back at boot" expect_eq "lines" 1 \
		"$(dmesg_count 'Reserved memory: regions without no-map are not yet supported')"
	tap_check "rk_dma_heap.ko loads" insmod /lib/modules/rk/rk-dma-heap.ko
	tap_check "no heap node is created" sh -c "[ ! -e $NODE ]"
	tap_check "one dmesg line says why and what to write instead" \
		expect_eq "lines" 1 \
		"$(dmesg_count "no heap registered: the kernel did not keep memory-region $REGION reserved (ARM32 kernels give back a \"shared-dma-pool\" that is neither reusable nor no-map): for a carve-out, leave out its compatible")"
	tap_check "rmmod" rmmod rk_dma_heap
	;;
esac
tap_done
