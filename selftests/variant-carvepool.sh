#!/bin/sh
# Four heap nodes (qemu-virt-overlay-carvepool.dts): rk-dma-heap-cma on
# its CMA region; rk-dma-heap-carveout, named by rockchip,heap-name, on a
# "shared-dma-pool" that is neither reusable nor no-map; one whose
# rockchip,heap-name is not valid; and one on a carve-out whose base is
# not page-aligned, which is refused. arm64 kernels keep the pool reserved
# and the second heap serves it as a carve-out; ARM32 kernels give it back
# to the system at boot, and the module must register no heap for it and
# say what to write instead.
. /tests/tap.sh
CMA=/dev/rk_dma_heap/rk-dma-heap-cma
CARVE=/dev/rk_dma_heap/rk-dma-heap-carveout
INFO=/proc/rk_dma_heap/rk-dma-heap-info

# A 64 KiB buffer of the second heap, held by rk_heap_as (which wrote and
# read it back through a mapping): its range in the info node lies in the
# pool, and the usage node and rk-dma-heap-top show both heaps.
carve_buffer() {
	hold_start "$CARVE" /tmp/carve.out
	range=$(grep -A1 '^dma-heap:<rk-dma-heap-carveout> ' "$INFO" |
		sed -n 's/.*\[\(0x[0-9a-f]*\)-\(0x[0-9a-f]*\)\].*/\1 \2/p')
	heaps=$(grep -c -e '^heap rk-dma-heap-cma$' -e '^heap rk-dma-heap-carveout$' \
		/proc/rk_dma_heap/rk-dma-heap-usage)
	top=$(rk-dma-heap-top --once)
	hold_end
	expect_eq "rk_heap_as on $CARVE" "mapped 65536" "$(cat /tmp/carve.out)" || return 1
	set -- $range
	[ $# -eq 2 ] || { echo "no buffer of rk-dma-heap-carveout in $INFO"; cat "$INFO"; return 1; }
	expect_eq "buffer size" 65536 "$(($2 - $1 + 1))" || return 1
	[ "$(($1))" -ge $((0x5e000000)) ] && [ "$(($2))" -le $((0x5effffff)) ] ||
		{ echo "buffer at $1-$2, outside the pool at 0x5e000000"; return 1; }
	expect_eq "heaps in the usage node" 2 "$heaps" || return 1
	expect_eq "rk-dma-heap-top's region of the carve-out" 1 \
		"$(echo "$top" | grep -c '^REGION: rk-dma-heap-carveout, 16384 KiB at 0x5e000000$')" &&
		expect_eq "rk-dma-heap-top's region of rk-dma-heap-cma" 1 \
		"$(echo "$top" | grep -c '^REGION: rk-dma-heap-cma, 65536 KiB at 0x')"
}

tap_plan 9
case "$(uname -m)" in
aarch64)
	tap_check "the kernel kept the pool reserved" expect_eq "lines" 1 \
		"$(dmesg_count 'map non-reusable pool-region@5e000000')"
	;;
*)
	tap_check "the kernel gave the pool back at boot" expect_eq "lines" 1 \
		"$(dmesg_count 'Reserved memory: regions without no-map are not yet supported')"
	;;
esac
tap_check "rk_dma_heap.ko loads" insmod /lib/modules/rk/rk-dma-heap.ko
tap_check "$CMA serves a buffer beside the others" \
	expect_eq "rk_heap_as" "mapped 65536" "$(rk_heap_as 0 0 -)"
tap_check "one dmesg line refuses the invalid name" expect_eq "lines" 1 \
	"$(dmesg_count "rk-dma-heap-badname: no heap registered: rockchip,heap-name must be one string, not empty, without '/'")"
tap_check "one dmesg line refuses the carve-out that is not page-aligned" \
	expect_eq "lines" 1 \
	"$(dmesg_count "rk-dma-heap-unaligned: no heap registered: memory-region /reserved-memory/unaligned-region@5f000800 (0x0*5f000800, 1024 KiB) is not page-aligned: a carve-out must start and end on a page boundary$")"
tap_check "only the two heaps' nodes exist" expect_eq "nodes" \
	"$([ "$(uname -m)" = aarch64 ] && echo 'rk-dma-heap-carveout rk-dma-heap-cma' || echo rk-dma-heap-cma)" \
	"$(ls /dev/rk_dma_heap | sort | tr '\n' ' ' | sed 's/ $//')"
case "$(uname -m)" in
aarch64)
	tap_check "one registration line for a 16 MiB carve-out at 0x5e000000" \
		expect_eq "lines" 1 \
		"$(dmesg_count "heap rk-dma-heap-carveout: 16384 KiB at 0x0*5e000000, allocated with its own page map (carve-out)$")"
	tap_check "$CARVE serves a buffer from the pool" carve_buffer
	;;
*)
	tap_check "one dmesg line says why and what to write instead" \
		expect_eq "lines" 1 \
		"$(dmesg_count "no heap registered: the kernel did not keep memory-region /reserved-memory/pool-region@5e000000 reserved (ARM32 kernels give back a \"shared-dma-pool\" that is neither reusable nor no-map): for a carve-out, leave out its compatible")"
	tap_check "# SKIP the pool is not the heap's on ARM32" true
	;;
esac
tap_check "rmmod" rmmod rk_dma_heap
tap_done
