#!/bin/sh
# Runs the KUnit tests of the exported API (rk_dma_heap_kunit.ko, which runs
# them when loaded) and turns their KTAP report from the kernel log into
# this program's TAP, one line per test case.
SUITE=rk_dma_heap_api
KO=/lib/modules/rk/rk_dma_heap_kunit.ko

# Whether the kernel has KUnit, built in or as a module. Debian's kernels
# do not (CONFIG_KUNIT off), and then rk_dma_heap_kunit.ko is not built.
kernel_has_kunit() {
	[ -d /sys/module/kunit ] || [ -d /sys/kernel/debug/kunit ] ||
		grep -q ' kunit_run_tests$' /proc/kallsyms 2>/dev/null ||
		[ -n "$(find "/lib/modules/$(uname -r)" -name 'kunit.ko*' 2>/dev/null)" ]
}

if [ ! -e "$KO" ]; then
	echo "TAP version 13"
	echo "1..1"
	# a missing module is a skip only where the kernel cannot run it
	if kernel_has_kunit; then
		echo "not ok 1 $KO is missing, though this kernel has KUnit"
		exit 1
	fi
	echo "ok 1 # SKIP no KUnit in this kernel"
	exit 0
fi

# The test client holds a reference from rk_dma_heap_find(): without it,
# the case extra_put_keeps_the_heap really puts one time too many on the
# registry's own reference.
client=
if grep -q '^rk_dma_heap_test_client ' /proc/modules; then
	client=1
	rmmod rk_dma_heap_test_client
fi
insmod "$KO"
st=$?
log=$(dmesg | sed 's/^\[[^]]*\] //')
rmmod rk_dma_heap_kunit 2>/dev/null
[ -z "$client" ] || insmod /lib/modules/rk/rk_dma_heap_test_client.ko
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
