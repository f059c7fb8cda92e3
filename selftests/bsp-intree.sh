#!/bin/sh
# rk_dma_heap built into a Rockchip BSP kernel (scripts/bsp-intree.sh),
# booted by scripts/bsp-intree-test.sh in one of these ways, named by
# rk.mode=bsp-intree:WAY on the kernel command line:
#   dt     our overlay's region (64 MiB), and rk_dma_heap_cma=66M, which
#          the region overrides
#   arg    QEMU's own tree and rk_dma_heap_cma=66M
#   fixed  QEMU's own tree and rk_dma_heap_cma=66M@0x50000000
#   bad    QEMU's own tree and rk_dma_heap_cma=66M@0x50080000 (a base
#          off the pageblock size): no area, no heap, the boot goes on
#   huge   QEMU's own tree and rk_dma_heap_cma=1G, more than the guest's
#          512 MiB: the same
. /tests/tap.sh

way=
for a in $(cat /proc/cmdline); do
	case "$a" in rk.mode=bsp-intree:*) way=${a#rk.mode=bsp-intree:} ;; esac
done

HEAP=/dev/rk_dma_heap/rk-dma-heap-cma
INFO=/proc/rk_dma_heap/rk-dma-heap-info
BITMAP=/proc/rk_dma_heap/alloc_bitmap
USAGE=/proc/rk_dma_heap/rk-dma-heap-usage

# the one kernel log line of rk_dma_heap_cma_setup()
case "$way" in
dt)	size=65536; setup='rk_dma_heap: rk_dma_heap_cma=66M: nothing reserved, the device tree'"'"'s "rockchip,rk-dma-heap-cma" region is used' ;;
arg)	size=67584; setup='rk_dma_heap: rk_dma_heap_cma=66M: reserved 67584 KiB at 0x' ;;
fixed)	size=67584; setup='rk_dma_heap: rk_dma_heap_cma=66M@0x50000000: reserved 67584 KiB at 0x50000000 ' ;;
bad)	size=0; setup="rk_dma_heap: rk_dma_heap_cma=66M@0x50080000: the size and the base must be a multiple of this kernel's pageblock size, 1024 KiB; nothing reserved" ;;
huge)	size=0; setup="rk_dma_heap: rk_dma_heap_cma=1G: 1048576 KiB is more than this system's lowmem; nothing reserved" ;;
*)	tap_plan 1
	tap_check "rk.mode=bsp-intree:WAY names a known way (dt, arg, fixed, bad, huge)" false
	tap_done ;;
esac

# base of the region: the device tree's as the kernel reserved it (the
# 64 MiB pool; the other one is the default CMA area), or ours
region_base() {
	if [ "$way" = dt ]; then
		dmesg | sed -n 's/.*Reserved memory: created CMA memory pool at \(0x[0-9a-f]*\), size 64 MiB.*/\1/p'
	else
		dmesg | sed -n 's/.*rk_dma_heap: rk_dma_heap_cma=[^ ]*: reserved [0-9]* KiB at \(0x[0-9a-f]*\) .*/\1/p'
	fi
}

# the probe's line: "heap rk-dma-heap-cma: N KiB at BASE, allocated with ..."
check_probe() {
	base=$(region_base)
	[ -n "$base" ] || { echo "no reservation line for the region in dmesg"; return 1; }
	line=$(dmesg | grep "heap rk-dma-heap-cma: [0-9]* KiB at ")
	echo "$line"
	echo "$line" | grep -q "heap rk-dma-heap-cma: $size KiB at $base, allocated with "
}

check_bitmap() {
	expect_eq "$BITMAP" "Total: $size KiB| Used: 0 KiB" \
		"$(head -n 2 $BITMAP | tr '\n' '|' | sed 's/|$//')"
}

# settles COMMAND...: COMMAND passes within 5 tries a second apart. The
# region is lent to the system, whose movable pages (a program's, the
# page cache's) come and go in it, and the nodes count them as used
# until they leave: the heap itself holds nothing here.
settles() {
	for try in 1 2 3 4; do
		"$@" > /dev/null 2>&1 && return 0
		sleep 1
	done
	"$@"
}

# CmaTotal counts the pages of CMA areas the system may borrow
check_lent() {
	cma=$(sed -n 's/^CmaTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
	echo "CmaTotal: $cma kB, region $size KiB"
	[ "${cma:-0}" -ge "$size" ]
}

# allocate 1 MiB named "bsp-intree" with rk_heap_demo, look at the nodes
# while it is held, then after it is freed
check_roundtrip() {
	rk_heap_demo -c "cat $INFO > /tmp/held-info; cat $BITMAP > /tmp/held-bitmap; cat $USAGE > /tmp/held-usage" \
		1024:bsp-intree || return 1
	cat /tmp/held-info
	base=$(region_base)
	grep -q 'Alloc by (bsp-intree *) \[0x[0-9a-f]*-0x[0-9a-f]*\] 0x00100000 (1024 KiB)' /tmp/held-info ||
		{ echo "no 1024 KiB allocation by bsp-intree in $INFO"; return 1; }
	start=$(sed -n 's/.*Alloc by (bsp-intree *) \[\(0x[0-9a-f]*\)-.*/\1/p' /tmp/held-info)
	# inside the region (shell arithmetic is 64-bit in busybox)
	if [ $((start)) -lt $((base)) ] ||
	   [ $((start + 1048576)) -gt $((base + size * 1024)) ]; then
		echo "buffer at $start lies outside the region at $base"
		return 1
	fi
	expect_eq "Used while held" " Used: 1024 KiB" "$(sed -n 2p /tmp/held-bitmap)"
}

check_leftover() {
	cat $INFO
	if grep -q 'Alloc by' $INFO; then
		echo "allocations left"
		return 1
	fi
	expect_eq "Used after free" " Used: 0 KiB" "$(sed -n 2p $BITMAP)"
}

# videobuf2-cma-sg calls rk_dma_heap_find() and friends: loading it
# resolves them against the built-in heap
check_vb2() {
	modprobe videobuf2-cma-sg && grep -q '^videobuf2_cma_sg ' /proc/modules
}

if [ "$size" = 0 ]; then
	tap_plan 4
	tap_check "one dmesg line says why nothing was reserved" \
		expect_eq "lines" 1 "$(dmesg_count "$setup")"
	tap_check "no heap node" sh -c "[ ! -e $HEAP ]"
	tap_check "one dmesg line says no heap was registered" expect_eq "lines" 1 \
		"$(dmesg_count 'rk_dma_heap: no heap registered: the device tree has no enabled "rockchip,rk-dma-heap-cma" node')"
	tap_check "videobuf2-cma-sg loads against the built-in API" check_vb2
	tap_done
fi

tap_plan 9
tap_check "one dmesg line from rk_dma_heap_cma= ($way)" \
	expect_eq "lines" 1 "$(dmesg_count "$setup")"
tap_check "heap node $HEAP" sh -c "[ -c $HEAP ]"
tap_check "probe line: $size KiB at the region's base" check_probe
tap_check "bitmap node: Total: $size KiB, Used: 0 KiB" settles check_bitmap
tap_check "usage node shows the region" settles sh -c \
	"cat $USAGE; grep -q '^region $size KiB, used 0 KiB, free $size KiB' $USAGE"
tap_check "the region is lent to the system (CmaTotal)" check_lent
tap_check "allocation of 1 MiB inside the region, shown in the nodes" check_roundtrip
tap_check "nothing left after the buffer is freed" check_leftover
tap_check "videobuf2-cma-sg loads against the built-in API" check_vb2
# what the nodes showed while the buffer was held, for the log's reader
for f in /tmp/held-info /tmp/held-usage; do
	[ -f "$f" ] && sed "s|^|# ${f#/tmp/}: |" "$f"
done
head -n 2 /tmp/held-bitmap 2>/dev/null | sed 's|^|# held-bitmap: |'
tap_done
