#!/usr/bin/env bash
# Build the device tree the QEMU test rig boots for one architecture: QEMU's
# own "virt" tree with dts/qemu-virt-overlay.dts applied (reserved-memory
# with the 64 MiB rk_dma_heap CMA area and a 16 MiB default CMA area, the
# rk-dma-heap node, three test-client devices), then check the result.
# Usage: scripts/dtb.sh arm|arm64 OUTDIR   (prints the path of the merged DTB)
# Writes OUTDIR/virt.dtb, OUTDIR/qemu-virt-overlay.dtbo, OUTDIR/rk-virt.dtb;
# everything is regenerated on each run, which takes well under a second.
set -euo pipefail
. "$(dirname "$0")/common.sh"

arch=${1:?usage: dtb.sh ARCH OUTDIR}
out=${2:?usage: dtb.sh ARCH OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
overlay_src="$RK_TOP/dts/qemu-virt-overlay.dts"
base="$out/virt.dtb"
overlay="$out/qemu-virt-overlay.dtbo"
merged="$out/rk-virt.dtb"
rm -f "$base" "$overlay" "$merged"

# run_quiet CMD...: run CMD; fail, showing its output, if it fails or says
# anything at all (a warning from dtc or fdtoverlay is a bug in the sources).
run_quiet() {
	local msg
	if ! msg=$("$@" 2>&1 </dev/null) || [ -n "$msg" ]; then
		printf '%s\n' "$msg" >&2
		rk_die "$1 failed or warned"
	fi
}

run_quiet dtc -@ -I dts -O dtb -o "$overlay" "$overlay_src"

# The machine options must be those the tests boot with: QEMU builds the
# tree from them (CPUs, RAM size).
rk_qemu_dumpdtb "$arch" "$base"

run_quiet fdtoverlay -i "$base" -o "$merged" "$overlay"
# The merged tree must also decompile cleanly (dtc's checks run on it).
run_quiet dtc -I dtb -O dts -o /dev/null "$merged"

# get [fdtget options] NODE PROP: a property of the merged tree, or "" when
# the node or property is missing.
get() {
	fdtget "$@" 2>/dev/null || true
}

# expect WHAT GOT WANT
expect() {
	[ "$2" = "$3" ] || rk_die "$merged: $1 is '$2', expected '$3'"
}

heap=/rk-dma-heap
region=/reserved-memory/rk-dma-heap-region
cma=/reserved-memory/linux,cma

# The overlay restates the root cell sizes; they must still be QEMU's.
expect "/#address-cells" "$(get -t x "$merged" / '#address-cells')" \
	"$(get -t x "$base" / '#address-cells')"
expect "/#size-cells" "$(get -t x "$merged" / '#size-cells')" \
	"$(get -t x "$base" / '#size-cells')"
expect "/#address-cells" "$(get -t x "$merged" / '#address-cells')" 2
expect "/#size-cells" "$(get -t x "$merged" / '#size-cells')" 2

expect "$heap compatible" "$(get "$merged" "$heap" compatible)" \
	rockchip,rk-dma-heap-cma
expect "$region compatible" "$(get "$merged" "$region" compatible)" \
	shared-dma-pool
fdtget "$merged" "$region" reusable >/dev/null 2>&1 ||
	rk_die "$merged: $region is not reusable"
expect "$region size" "$(get -t x "$merged" "$region" size)" "0 4000000"

# memory-region must be exactly one phandle, the region's (the overlay's
# local fixups renumber it when the phandles are merged).
phandle=$(get -t x "$merged" "$region" phandle)
[ -n "$phandle" ] || rk_die "$merged: $region has no phandle"
expect "$heap memory-region" "$(get -t x "$merged" "$heap" memory-region)" \
	"$phandle"

expect "$cma compatible" "$(get "$merged" "$cma" compatible)" shared-dma-pool
for p in reusable linux,cma-default; do
	fdtget "$merged" "$cma" "$p" >/dev/null 2>&1 ||
		rk_die "$merged: $cma lacks $p"
done

for n in rkvenc@ffa50000 rkisp@ffa00000 npu@ff660000; do
	expect "/$n compatible" "$(get "$merged" "/$n" compatible)" \
		rockchip,rk-dma-heap-test-client
	expect "/$n reg" "$(get -t x "$merged" "/$n" reg)" "0 ${n#*@} 0 1000"
done

echo "$merged"
