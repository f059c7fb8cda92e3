#!/usr/bin/env bash
# make bench: boot each KERNEL's guest and run rk_heap_bench there, which
# measures rk-dma-heap-cma beside mainline's CMA heap and system heap, and
# beside rk-dma-heap-carveout, the same heap on a carve-out region
# (dts/qemu-virt-overlay-bench.dts), in the same boot (mainline's CMA heap
# has the kernel's default area, 16 MiB
# on the test kernels: cma= on the command line hangs ARM32 6.12 at boot).
# Prints the tables; the raw figures go to out/bench/KERNEL.txt with the
# date, kernel and host.
# Usage: scripts/bench.sh [-q] [KERNEL...]   (-q: a quick, rough run;
# the default kernel is bench-6.12, common.sh's RK_BENCH_KERNELS are
# the ones without debugging)
set -euo pipefail
. "$(dirname "$0")/common.sh"

quick=
if [ "${1:-}" = -q ]; then
	quick=-q
	shift
fi
[ $# -gt 0 ] || set -- bench-6.12
mkdir -p "$RK_TOP/out/bench"
script=$(mktemp)
trap 'rm -f "$script"' EXIT
printf '#!/bin/sh\nrk_heap_bench %s\n' "$quick" > "$script"
for v in "$@"; do
	rk_kernel "$v"
	raw="$RK_TOP/out/bench/$v.txt"
	rk_log "benchmarking Linux $v (about 5 minutes on ARM32, more with KASAN)"
	{
		echo "# rk_heap_bench${quick:+ $quick}, $(date -u +%Y-%m-%dT%H:%MZ), kernel $v"
		echo "# host: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1), load $(cut -d' ' -f1-3 /proc/loadavg)"
		RK_GUEST_OVERLAYS=bench "$RK_TOP/scripts/guest.sh" run "$v" "$script"
	} > "$raw.tmp"
	mv "$raw.tmp" "$raw"
	echo "== Linux $v"
	# the tables, without the raw figures and kernel messages
	grep -v -e '^RK-BENCH ' -e '^\[ *[0-9]*\.[0-9]*\]' "$raw"
	echo "(raw figures: $raw)"
done
