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
	insmod /lib/modules/rk/rk-dma-heap.ko || return 1
	rt_trace_on
	[ -c "$NODE" ] || { echo "$NODE missing after the second insmod"; return 1; }
	expect_eq "mode of $NODE" "crw-------" "$(ls -l "$NODE" | cut -c1-10)"
}

busy() {
	rmmod rk_dma_heap_test_client 2>/dev/null
	# a live dma-buf pins the module; once it is freed, rmmod works
	out=$(rk_heap_demo -c 'rmmod rk_dma_heap 2>&1; echo "status $?"' 64) || return 1
	echo "$out" | grep -q "^status [1-9]" || { echo "rmmod succeeded with a live buffer: $out"; return 1; }
	[ -c "$NODE" ] || { echo "node gone after the refused rmmod"; return 1; }
}

# a mapping alone (its fd closed) pins the module just as well
busy_mapping() {
	out=$(rk_heap_demo -m -c 'rmmod rk_dma_heap 2>&1; echo "status $?"' 64) || return 1
	echo "$out" | grep -q "^status [1-9]" || { echo "rmmod succeeded with a live mapping: $out"; return 1; }
	[ -c "$NODE" ] || { echo "node gone after the refused rmmod"; return 1; }
}

# node_mode sets the node's mode where no udev rule or mdev line does
node_mode_set() {
	insmod /lib/modules/rk/rk-dma-heap.ko node_mode=0666 || return 1
	expect_eq "mode of $NODE with node_mode=0666" "crw-rw-rw-" \
		"$(ls -l "$NODE" | cut -c1-10)" || return 1
	rmmod rk_dma_heap
}

# a mode with more than read and write bits is refused, and dmesg says why
# (busybox's insmod tries twice, finit_module then init_module: one line
# for each try, and nothing else)
node_mode_bad() {
	echo "<5>rk_dma_heap tests: node_mode=0755" > /dev/kmsg
	out=$(insmod /lib/modules/rk/rk-dma-heap.ko node_mode=0755 2>&1) &&
		{ echo "insmod with node_mode=0755 succeeded"; rmmod rk_dma_heap; return 1; }
	case "$out" in
	*"Invalid argument"*) ;;
	*) echo "insmod: expected EINVAL, got: $out"; return 1 ;;
	esac
	lines=$(dmesg | sed -n '/rk_dma_heap tests: node_mode=0755/,$p' | grep 'rk_dma_heap' | sed 1d)
	[ -n "$lines" ] || { echo "no dmesg line about node_mode"; return 1; }
	other=$(echo "$lines" | grep -v 'rk_dma_heap: node_mode 0755 refused: give it in octal (e.g. 0660), read and write bits only$')
	[ -z "$other" ] || { echo "other lines: $other"; return 1; }
	[ ! -e /sys/module/rk_dma_heap ] || { echo "module loaded after the refusal"; return 1; }
}

# CYCLES loads and unloads, each with buffers allocated and freed between:
# 100, or RK_CYCLES (the carve-out boot runs 10: what is stressed here does
# not depend on the kind of region, and the check boot runs all 100)
CYCLES=${RK_CYCLES:-100}
cycles() {
	i=0
	while [ $i -lt "$CYCLES" ]; do
		i=$((i + 1))
		insmod /lib/modules/rk/rk-dma-heap.ko || { echo "insmod $i failed"; return 1; }
		rt_trace_on
		out=$(rk_heap_demo -c '' 4 64 1024) || { echo "cycle $i: $out"; return 1; }
		case "$out" in
		*"freed 3 buffers"*) ;;
		*) echo "cycle $i: $out"; return 1 ;;
		esac
		rmmod rk_dma_heap || { echo "rmmod $i failed"; return 1; }
	done
	[ ! -e "$NODE" ] || { echo "$NODE left after the cycles"; return 1; }
}

# Whether kunit.sh ran the KUnit case find_without_put, which leaves one
# reference from rk_dma_heap_find() unreleased, as videobuf2-cma-sg does.
# Kernels without KUnit (Debian's) do not run it.
kunit_leaked_ref() {
	dmesg | grep -qE '(not )?ok [0-9]+ (- )?find_without_put$'
}

leaked_ref() {
	want=0
	kunit_leaked_ref && want=1
	expect_eq "dmesg lines about a leaked reference" $want \
		"$(dmesg_count 'rk_dma_heap: rk-dma-heap-cma: [0-9]* reference(s) from rk_dma_heap_find() were never released with rk_dma_heap_put()')" || return 1
	[ $want = 0 ] || expect_eq "dmesg lines about 1 leaked reference" 1 \
		"$(dmesg_count 'rk_dma_heap: rk-dma-heap-cma: 1 reference(s) from rk_dma_heap_find() were never released with rk_dma_heap_put()')"
}

tap_plan 11
tap_check "rmmod is refused while a buffer is alive" busy
tap_check "rmmod is refused while only a mapping is alive" busy_mapping
tap_check "rmmod removes the node, the class and the /proc and /sys nodes" gone
if kunit_leaked_ref; then
	tap_check "a reference never put does not stop the unload; dmesg says so" leaked_ref
else
	# no KUnit run (no KUnit in this kernel): no reference was leaked
	tap_check "unload with every reference put: no dmesg line about a leak" leaked_ref
fi
tap_check "second insmod registers the heap again" back
tap_check "second rmmod" gone
tap_check "third insmod" back
tap_check "final rmmod" gone
tap_check "node_mode=0666 gives the node mode crw-rw-rw-" node_mode_set
tap_check "node_mode=0755 is refused with EINVAL and a dmesg line saying why" node_mode_bad
tap_check "$CYCLES insmod/rmmod cycles with buffers allocated and freed between" cycles
tap_done
