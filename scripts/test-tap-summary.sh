#!/bin/bash
# Self-test of scripts/tap-summary.py on the console logs recorded in
# tests/tap-logs/.  Prints TAP, so that its output can be handed to
# tap-summary.py as a host TAP file; exits 0 when every check passed.
# usage: scripts/test-tap-summary.sh
set -u

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
summary=$top/scripts/tap-summary.py
logs=$top/tests/tap-logs
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

count=0
failed=0
report=$tmp/report
: >"$report"

# expect DESCRIPTION RC LAST [PATTERN ...] -- ARG ...
# Runs tap-summary.py ARG ... and checks that it exits with status RC, that
# its last line is LAST (not checked when LAST is empty) and that each
# PATTERN, an extended regular expression, matches a line of the output
# (with a leading "!": matches none).
expect() {
	local desc=$1 want_rc=$2 want_last=$3 rc last pattern
	local patterns=() problems=()
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		patterns+=("$1")
		shift
	done
	shift
	python3 "$summary" "$@" >"$tmp/out" 2>&1
	rc=$?
	last=$(tail -n 1 "$tmp/out")
	[ "$rc" = "$want_rc" ] ||
		problems+=("exit status $rc, expected $want_rc")
	[ -z "$want_last" ] || [ "$last" = "$want_last" ] ||
		problems+=("last line '$last', expected '$want_last'")
	for pattern in ${patterns[@]+"${patterns[@]}"}; do
		if [ "${pattern#!}" != "$pattern" ]; then
			if grep -qE -- "${pattern#!}" "$tmp/out"; then
				problems+=("a line matches '${pattern#!}'")
			fi
		elif ! grep -qE -- "$pattern" "$tmp/out"; then
			problems+=("no line matches '$pattern'")
		fi
	done
	count=$((count + 1))
	if [ ${#problems[@]} -eq 0 ]; then
		echo "ok $count $desc" >>"$report"
	else
		failed=$((failed + 1))
		{
			echo "not ok $count $desc"
			printf '# %s\n' "${problems[@]}"
			echo "# output of tap-summary.py $*:"
			sed 's/^/#   | /' "$tmp/out"
		} >>"$report"
	fi
}

# Passing runs.
expect "good.log passes" 0 "7 passed, 0 failed" \
	'^kernel 6\.12: 7 passed, 0 failed, 1 skipped$' '!^FAIL' \
	-- 6.12="$logs/good.log"
sed 's/$/\r/' "$logs/good.log" >"$tmp/crlf.log"
expect "good.log with CRLF line ends passes" 0 "7 passed, 0 failed" \
	'^kernel 6\.12: 7 passed, 0 failed, 1 skipped$' '!^FAIL' \
	-- 6.12="$tmp/crlf.log"
sed '/^#  RUN .*alloc_and_mmap/a #  BUG: WARNING: Oops printed by a test, not by the kernel' \
	"$logs/good.log" >"$tmp/tap-words.log"
expect "splat words in TAP comments are no splat" 0 "7 passed, 0 failed" \
	'!^FAIL' -- 6.12="$tmp/tap-words.log"
expect "host TAP file is counted" 0 "9 passed, 0 failed" \
	'^host dt-check: 2 passed, 0 failed, 1 skipped$' '!^FAIL' \
	-- --host dt-check="$logs/host-ok.tap" 6.12="$logs/good.log"

# Each recorded failure.
expect "fail.log reports the failed test" 1 "6 passed, 1 failed" \
	'^FAIL \[6\.1\] dma_heap_test: not ok 2 rk_heap\.import_vgem$' \
	'^kernel 6\.1: 6 passed, 1 failed, 2 skipped$' \
	-- 6.1="$logs/fail.log"
expect "truncated.log reports the truncated TAP" 1 "4 passed, 3 failed" \
	'^FAIL \[6\.12\] dma_heap_test: truncated TAP \(planned 5, got 3\)$' \
	'^FAIL \[6\.12\] dma_heap_test: no exit status' \
	'^FAIL \[6\.12\] TAP incomplete \(guest crashed or timed out\?\)' \
	-- 6.12="$logs/truncated.log"
{ cat "$logs/truncated.log"; echo "RK-GUEST-TIMEOUT after 900s"; } \
	>"$tmp/timeout.log"
expect "a guest timeout is named" 1 "4 passed, 3 failed" \
	'^FAIL \[6\.12\] TAP incomplete .*; RK-GUEST-TIMEOUT after 900s$' \
	-- 6.12="$tmp/timeout.log"
{ cat "$logs/good.log"; echo "RK-GUEST-TIMEOUT after 900s"; } \
	>"$tmp/late-timeout.log"
expect "a timeout after complete TAP fails" 1 "7 passed, 1 failed" \
	'^FAIL \[6\.12\] guest did not power off: RK-GUEST-TIMEOUT after 900s$' \
	-- 6.12="$tmp/late-timeout.log"
expect "splat-warning.log reports the WARNING" 1 "4 passed, 1 failed" \
	'^FAIL \[6\.12\] kernel splat: WARNING: CPU: 1 PID: 73 at kernel/dma/debug\.c:1200 ' \
	'^ +> +[0-9]+ +\[ *[0-9.]+\] ------------\[ cut here \]' \
	'^ +[0-9]+ +\[ *[0-9.]+\] DMA-API: vgem vgem: mapping sg segment longer' \
	-- 6.12="$logs/splat-warning.log"
expect "splat-lockdep.log reports the lockdep splat" 1 "3 passed, 1 failed" \
	'^FAIL \[6\.1\] kernel splat: WARNING: possible circular locking dependency detected' \
	'is trying to acquire lock:$' \
	-- 6.1="$logs/splat-lockdep.log"
expect "splat-kmemleak.log reports the leak" 1 "3 passed, 1 failed" \
	'^FAIL \[6\.12\] kernel splat: ' \
	'^ +> +[0-9]+ +unreferenced object 0xc3a1b200 \(size 64\):$' \
	-- 6.12="$logs/splat-kmemleak.log"
expect "exit-status.log reports the exit status" 1 "4 passed, 1 failed" \
	'^FAIL \[6\.1\] foo exited with status 1$' \
	-- 6.1="$logs/exit-status.log"

# Reports the kernel printed at boot, before the module was loaded: noted,
# not counted (console before RK-TAP-BEGIN, dmesg before run-all.sh's
# marker); the same report after the marker fails.
cat >"$tmp/rcu.txt" <<'RCU'
[    0.412003] =============================
[    0.412011] WARNING: suspicious RCU usage
[    0.412019] 5.10.160 #1 Not tainted
[    0.412027] -----------------------------
[    0.412035] drivers/base/power/domain.c:123 suspicious rcu_dereference_check() usage!
RCU
printf '[    2.200000] rk_dma_heap tests: begin, module not loaded yet\n' >"$tmp/marker.txt"
sed -e '/kmemleak: Automatic memory scanning thread started/r '"$tmp/rcu.txt" \
	-e '/^==== dmesg ====$/r '"$tmp/rcu.txt" \
	-e '/^\[    2\.118206\] Run \/init as init process$/r '"$tmp/marker.txt" \
	"$logs/good.log" >"$tmp/boot-splat.log"
expect "a report at boot is a note, not a failure" 0 "7 passed, 0 failed" \
	'^NOTE \[6\.12\] kernel report at boot, before the module was loaded \(not counted\): WARNING: suspicious RCU usage ' \
	'^kernel 6\.12: 7 passed, 0 failed, 1 skipped$' '!^FAIL' \
	-- 6.12="$tmp/boot-splat.log"
sed -e '/^\[    2\.118206\] Run \/init as init process$/r '"$tmp/marker.txt" \
	-e '/rk_dma_heap: unregistered heaps/r '"$tmp/rcu.txt" \
	"$logs/good.log" >"$tmp/late-splat.log"
expect "the same report after the boot marker fails" 1 "6 passed, 1 failed" \
	'^FAIL \[6\.12\] kernel splat: WARNING: suspicious RCU usage ' '!^NOTE' \
	-- 6.12="$tmp/late-splat.log"
# Built in, the heap's boot-argument line comes first, at early setup:
# a report after it is still a boot report; one after its later
# messages is not.
printf '[    0.000000] rk_dma_heap: rk_dma_heap_cma=66M: reserved 67584 KiB at 0x5be00000 for rk-dma-heap-cma\n' \
	>"$tmp/setup.txt"
sed -e '/^==== dmesg ====$/r '"$tmp/setup.txt" "$tmp/boot-splat.log" >"$tmp/builtin-splat.log"
expect "built in: a report after the boot argument's line is a note" 0 "7 passed, 0 failed" \
	'^NOTE \[6\.12\] kernel report at boot, before the module was loaded \(not counted\): WARNING: suspicious RCU usage ' \
	'!^FAIL' \
	-- 6.12="$tmp/builtin-splat.log"
# ... and one before a later message of the built-in heap too.
printf '[    1.163497] rk_dma_heap: no heap registered: the device tree has no enabled "rockchip,rk-dma-heap-cma" node\n' \
	>"$tmp/noheap.txt"
sed -e '/^\[    2\.118206\] Run \/init as init process$/r '"$tmp/noheap.txt" \
	"$tmp/builtin-splat.log" >"$tmp/builtin-noheap.log"
expect "built in: a report before the heap's driver messages is a note" 0 "7 passed, 0 failed" \
	'^NOTE \[6\.12\] kernel report at boot' '!^FAIL' \
	-- 6.12="$tmp/builtin-noheap.log"
sed -e '/^==== dmesg ====$/r '"$tmp/rcu.txt" "$logs/good.log" >"$tmp/no-marker.log"
expect "without the boot marker all of dmesg counts" 1 "6 passed, 1 failed" \
	'^FAIL \[6\.12\] kernel splat: WARNING: suspicious RCU usage ' \
	-- 6.12="$tmp/no-marker.log"

# A known bug of a test driver (vivid's capture thread on 7.2, ARM32's
# dump format) is a note; with a frame of the module, or in another
# function, it fails.
cat >"$tmp/vivid.txt" <<'VIVID'
[  301.123456] schedule_timeout: wrong timeout value fffffff9
[  301.123480] CPU: 1 UID: 0 PID: 312 Comm: vivid-000-vid-c Not tainted 7.2.13-armmp #1  Debian 7.2.13-1
[  301.123490] Hardware name: Generic DT based system
[  301.123495] Call trace: 
[  301.123500]  unwind_backtrace from show_stack+0x18/0x1c
[  301.123510]  show_stack from dump_stack_lvl+0x58/0x70
[  301.123520]  dump_stack_lvl from schedule_timeout+0x120/0x124
[  301.123530]  schedule_timeout from vivid_thread_vid_cap+0x3a8/0x6a0 [vivid]
[  301.123540]  vivid_thread_vid_cap [vivid] from kthread+0xf8/0x114
[  301.123550]  kthread from ret_from_fork+0x14/0x28
[  301.123555] Exception stack(0xf0a5dfb0 to 0xf0a5dff8)
[  301.123560] dfa0:                                     00000000 00000000 00000000 00000000
VIVID
sed -e '/^\[    2\.118206\] Run \/init as init process$/r '"$tmp/marker.txt" \
	-e '/rk_dma_heap: unregistered heaps/r '"$tmp/vivid.txt" \
	"$logs/good.log" >"$tmp/vivid.log"
expect "vivid's known timer bug is a note, not a failure" 0 "7 passed, 0 failed" \
	'^NOTE \[6\.12\] known bug of vivid, not of the module \(not counted\): schedule_timeout: wrong timeout value fffffff9 in vivid_thread_vid_cap: ' \
	'!^FAIL' \
	-- 6.12="$tmp/vivid.log"
sed 's/kthread from ret_from_fork/rk_dma_heap_free [rk_dma_heap] from ret_from_fork/' \
	"$tmp/vivid.log" >"$tmp/vivid-ours.log"
expect "the same report with a frame of rk_dma_heap fails" 1 "6 passed, 1 failed" \
	'^FAIL \[6\.12\] kernel splat: ' '!^NOTE.*known bug' \
	-- 6.12="$tmp/vivid-ours.log"
sed 's/vivid_thread_vid_cap/vivid_thread_vid_out/g' "$tmp/vivid.log" >"$tmp/vivid-other.log"
expect "the message from another function of vivid fails" 1 "6 passed, 1 failed" \
	'^FAIL \[6\.12\] kernel splat: ' '!^NOTE.*known bug' \
	-- 6.12="$tmp/vivid-other.log"

# A kernel that could not be tested (no BSP tree) is one skip.
expect "a skipped kernel is one SKIP line, no failure" 0 "7 passed, 0 failed" \
	'^SKIP \[bsp-5\.10\] no Rockchip BSP tree: give one with BSP_SRC=/path$' \
	'!^kernel bsp-5\.10' '!^FAIL' \
	-- 6.12="$logs/good.log" \
	--skip "bsp-5.10=no Rockchip BSP tree: give one with BSP_SRC=/path"
expect "a skip alone is no failure" 0 "0 passed, 0 failed" \
	'^SKIP \[bsp-5\.10\] no tree$' \
	-- --skip "bsp-5.10=no tree"

# Inputs that are wrong as a whole.
expect "a missing console log fails" 1 "0 passed, 1 failed" \
	'^FAIL \[6\.1\] no console log at ' \
	-- 6.1="$tmp/no-such.log"
expect "a missing host file fails" 1 "7 passed, 1 failed" \
	'^FAIL \[dt-check\] no TAP file at ' \
	-- --host dt-check="$tmp/no-such.tap" 6.12="$logs/good.log"
expect "a log of another kernel fails" 1 "7 passed, 1 failed" \
	'^FAIL \[6\.1\] guest runs kernel 6\.12\.117, not 6\.1$' \
	-- 6.1="$logs/good.log"
printf 'RK-TAP-BEGIN 6.12.117\nRK-TAP-END\n==== dmesg ====\n==== kmemleak ====\n==== end ====\n' \
	>"$tmp/empty.log"
expect "a run without programs fails" 1 "2 passed, 1 failed" \
	'^FAIL \[6\.12\] no test programs ran$' \
	-- 6.12="$tmp/empty.log"
printf 'TAP version 13\n1..2\nok 1 - first\nnot ok 2 - second\n' >"$tmp/not-ok.tap"
expect "a failed host test fails" 1 "8 passed, 1 failed" \
	'^FAIL \[h\] not ok 2 - second$' \
	-- --host h="$tmp/not-ok.tap" 6.12="$logs/good.log"
printf 'TAP version 13\n1..3\nok 1 - first\n' >"$tmp/short.tap"
expect "a truncated host file fails" 1 "8 passed, 1 failed" \
	'^FAIL \[h\] truncated TAP \(planned 3, got 1\)$' \
	-- --host h="$tmp/short.tap" 6.12="$logs/good.log"
expect "everything together" 1 "15 passed, 1 failed" \
	'^kernel 6\.12: 7 passed' '^kernel 6\.1: 6 passed' '^host self: 2 passed' \
	-- --host self="$logs/host-ok.tap" 6.12="$logs/good.log" 6.1="$logs/fail.log"
expect "no arguments is a usage error" 2 "" --

echo "TAP version 13"
echo "1..$count"
cat "$report"
[ "$failed" -eq 0 ]
