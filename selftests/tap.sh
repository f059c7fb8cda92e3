# shellcheck shell=sh
# Minimal TAP output for the guest's shell tests. Source it, call
# tap_plan N, then tap_check DESCRIPTION COMMAND... for each test, and
# tap_done at the end (exit status 1 if any test failed).
tap_n=0
tap_failed=0

tap_plan() {
	echo "TAP version 13"
	echo "1..$1"
}

# tap_check DESCRIPTION COMMAND...: runs COMMAND; its output becomes
# diagnostics ("# ...") when it fails.
tap_check() {
	tap_desc=$1
	shift
	tap_n=$((tap_n + 1))
	if tap_out=$("$@" 2>&1); then
		echo "ok $tap_n $tap_desc"
	else
		echo "$tap_out" | sed 's/^/# /'
		echo "not ok $tap_n $tap_desc"
		tap_failed=1
	fi
}

tap_done() {
	exit $tap_failed
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
	[ "$2" = "$3" ] && return 0
	echo "$1: expected '$2', got '$3'"
	return 1
}

# dmesg_count PATTERN: number of kernel log lines matching PATTERN
dmesg_count() {
	dmesg | grep -c -- "$1"
}

# rt_trace_on: on a real-time kernel (run-all.sh sets RK_RT_TRACE=1 there),
# every trace event of the module on. Loading the module starts its events
# off, so the tests that load it call this after insmod; elsewhere it
# costs one test of a variable.
rt_trace_on() {
	[ "${RK_RT_TRACE:-}" = 1 ] || return 0
	for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
		[ -w "$d/events/rk_dma_heap/enable" ] || continue
		echo 1 > "$d/events/rk_dma_heap/enable"
		return
	done
}

# hold_start NODE OUT: rk_heap_as allocates 64 KiB from NODE, writes and
# reads it back through a mapping, and holds it until hold_end; its output
# goes to OUT. Returns once it said "mapped" (or gave up, or 30 s by the
# kernel's uptime passed: a guest's sleep may be cut short).
hold_start() {
	rm -f /tmp/hold.fifo
	mkfifo /tmp/hold.fifo
	rk_heap_as 0 0 - "$1" hold < /tmp/hold.fifo > "$2" &
	hold_pid=$!
	exec 3> /tmp/hold.fifo
	hold_end=$(( $(cut -d. -f1 /proc/uptime) + 30 ))
	while ! grep -q mapped "$2" && [ "$(cut -d. -f1 /proc/uptime)" -lt "$hold_end" ]; do
		kill -0 "$hold_pid" 2>/dev/null || break
		sleep 0.1
	done
}

# hold_end: the buffer of hold_start is freed
hold_end() {
	exec 3>&-
	wait "$hold_pid"
}
