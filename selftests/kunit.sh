#!/bin/sh
# Runs the KUnit tests of the exported API (rk_dma_heap_kunit.ko, which runs
# them when loaded) and turns their KTAP report from the kernel log into
# this program's TAP, one line per test case.
SUITE=rk_dma_heap_api
insmod /lib/modules/rk/rk_dma_heap_kunit.ko
st=$?
log=$(dmesg | sed 's/^\[[^]]*\] //')
rmmod rk_dma_heap_kunit 2>/dev/null
echo "TAP version 13"
# The suite's cases are the indented ok/not ok lines between its
# "# Subtest:" line and its own result line.
cases=$(echo "$log" | sed -n "/# Subtest: $SUITE\$/,/^ok [0-9]* $SUITE\$\|^not ok [0-9]* $SUITE\$/p" |
	grep -E '^[[:space:]]+(not )?ok [0-9]+ ' | sed 's/^[[:space:]]*//')
echo "$log" | sed -n "/# Subtest: $SUITE\$/,\$p" | grep -vE '^[[:space:]]*(not )?ok [0-9]+ ' |
	sed 's/^/# /'
n=$(echo "$cases" | grep -c .)
if [ "$n" = 0 ]; then
	echo "1..1"
	echo "not ok 1 KUnit suite $SUITE reported its cases (insmod status $st)"
	exit 1
fi
echo "1..$n"
echo "$cases" | awk '{ st = ($1 == "not") ? "not ok" : "ok";
	sub(/^(not )?ok [0-9]+ (- )?/, ""); print st, NR, $0 }'
! echo "$cases" | grep -q '^not ok'
