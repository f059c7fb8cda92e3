#!/bin/sh
# Runs the guest's tests and prints their TAP, the kernel log and the
# kmemleak report between the markers that scripts/tap-summary.py reads.
# Usage: run-all.sh [TEST...]   (default: every test of the guest, in order)
# RK_ALSO="TEST...": a boot's own tests, run with the default ones right
# after module.sh has loaded the module.
echo 1 > /proc/sys/kernel/printk
# The programs that fail many requests on purpose run after the others:
# they use up the rate limit of the module's ENOMEM line, which the others
# look for. Fault injection may turn DMA-API debugging off for the rest of
# the boot (it gives up when its own bookkeeping cannot allocate): only
# lifecycle.sh and the tests of /dev/dma_heap, which need none of it, run
# after it; those come last, as they may leave the module loaded for good.
if [ $# -eq 0 ]; then
	set -- /tests/module.sh ${RK_ALSO:-} /tests/kunit.sh \
		$(ls /tests/bin/* 2>/dev/null | grep -v -e /rk_heap_stress$ -e /rk_heap_faults$ -e /rk_heap_dmaheap$) \
		/tests/bin/rk_heap_stress /tests/access.sh /tests/unbind.sh /tests/bin/rk_heap_faults \
		/tests/lifecycle.sh /tests/dma_heap.sh /tests/bin/rk_heap_dmaheap
fi
# A real-time kernel (mainline's say PREEMPT_RT in uname -v; those of the
# RT patch set have /sys/kernel/realtime) runs the
# suite with every trace event of the module on: their assign code runs
# with preemption off, where a lock that sleeps on PREEMPT_RT must not be
# taken, and lockdep and DEBUG_ATOMIC_SLEEP report it. They are switched on
# before each test (module.sh loads the module, and a module loaded anew
# starts with its events off) and after each insmod of lifecycle.sh.
. /tests/tap.sh
# uptime_cs: the kernel's uptime in hundredths of a second
uptime_cs() {
	read -r up rest < /proc/uptime
	echo "${up%.*}${up#*.}"
}
RK_RT_TRACE=
case "$(uname -v) $(cat /sys/kernel/realtime 2>/dev/null)" in
*PREEMPT_RT*|*" 1") RK_RT_TRACE=1 ;;
esac
if [ "$RK_RT_TRACE" = 1 ]; then
	[ -d /sys/kernel/tracing/events ] ||
		mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
fi
export RK_RT_TRACE
# rt_trace_report NAME: after test NAME on a real-time kernel, whether the
# events are on and how many the buffer holds (unloading the module empties
# it), where the module is loaded
rt_trace_report() {
	[ "$RK_RT_TRACE" = 1 ] || return 0
	enable=/sys/kernel/tracing/events/rk_dma_heap/enable
	[ -r "$enable" ] || return 0
	echo "# rk_dma_heap trace events after $1: enable $(cat "$enable"), $(grep -c ' rk_dma_heap_[a-z]*: ' /sys/kernel/tracing/trace) in the buffer"
}
# What the kernel reports before this line in its log is the boot's, not
# the module's: scripts/tap-summary.py notes it but fails only on reports
# after it (the module is loaded by the first test).
echo "<5>rk_dma_heap tests: begin, module not loaded yet" > /dev/kmsg
echo "RK-TAP-BEGIN $(uname -r)"
for t in "$@"; do
	name=$(basename "$t")
	echo "# selftest: $name"
	rt_trace_on
	t0=$(uptime_cs)
	"$t" 2>&1
	echo "# exit: $name $?"
	# what each test costs, for the rig's timing table
	echo "# seconds: $name $(( ($(uptime_cs) - t0) / 100 ))"
	rt_trace_report "$name"
done
echo "RK-TAP-END"
# wait_seconds N: N seconds by the kernel's uptime, whatever sleep does:
# where the guest's sleep returned at once (ARM32 kernels without
# COMPAT_32BIT_TIME), kmemleak's second scan came before the last test's
# objects were old enough to be reported, and a leak passed unseen.
wait_seconds() {
	end=$(( $(uptime_cs) + $1 * 100 ))
	while [ "$(uptime_cs)" -lt "$end" ]; do
		sleep 1
	done
}
echo "==== dmesg ===="
dmesg
echo "==== kmemleak ===="
if [ -w /sys/kernel/debug/kmemleak ]; then
	# An object must be 5 s old to count; two scans avoid false reports.
	echo scan > /sys/kernel/debug/kmemleak
	wait_seconds 6
	echo scan > /sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak
elif [ -e /sys/kernel/debug/kmemleak ]; then
	echo "kmemleak: Kernel memory leak detector disabled (/sys/kernel/debug/kmemleak is not writable)"
else
	# Debian's kernels have no kmemleak; the debug kernels' builds check
	# that theirs has it
	echo "kmemleak: not in this kernel"
fi
echo "==== end ===="
