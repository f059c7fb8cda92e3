#!/usr/bin/env bash
# Check the device tree side of rk_dma_heap and report in TAP 13, like
# kselftest: the dt-schema binding, its examples, the RV1106 example board,
# the merged QEMU tree of scripts/dtb.sh and make bench's carve-out heap.
# Works offline.
# Usage: scripts/dt-check.sh   (exit status 0 when every check passes)
#
# dt-validate (dt-schema 2022.08) exits 0 even when a node violates a schema,
# and the dt-schema tools print warnings without failing, so every tool here
# must also stay silent to pass. A failing check shows what was run and what
# it printed as "# " lines above its "not ok".
set -euo pipefail
. "$(dirname "$0")/common.sh"

bindings="$RK_TOP/dts/bindings"
binding_file=rockchip,rk-dma-heap-cma.yaml
binding="$bindings/$binding_file"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log="$tmp/log"
: >"$log"
schema="$tmp/processed-schema.json"
n=0
failed=0

# note TEXT...: add a line to the current check's diagnostics.
note() {
	printf '%s\n' "$*" >>"$log"
}

# quiet CMD...: run CMD; true only if it succeeds and prints nothing.
quiet() {
	local out rc=0
	out=$("$@" 2>&1 </dev/null) || rc=$?
	[ "$rc" -eq 0 ] && [ -z "$out" ] && return 0
	note "\$ $*"
	[ -z "$out" ] || note "$out"
	note "(exit status $rc)"
	return 1
}

# report STATUS DESCRIPTION: print the TAP line of the next check.
report() {
	local status=$1
	shift
	n=$((n + 1))
	if [ "$status" -eq 0 ]; then
		echo "ok $n $*"
	else
		sed 's/^/# /' "$log"
		echo "not ok $n $*"
		failed=1
	fi
	: >"$log"
}

# validate DTB NODE [LIMIT]: DTB passes every schema (core schemas and ours;
# only the schemas whose file name contains LIMIT if given) and NODE was
# checked against our binding, not skipped for want of a match.
validate() {
	local dtb=$1 node=$2 out limit=()
	[ -z "${3:-}" ] || limit=(-l "$3")
	quiet dt-validate "${limit[@]}" -s "$schema" "$dtb" || return 1
	out=$(dt-validate -M -l "$binding_file" -s "$schema" "$dtb" 2>&1) || true
	if ! grep -qF ": $node: matched on schema(s)" <<<"$out"; then
		note "$dtb: $node was not checked: no schema in $binding_file selected it"
		[ -z "$out" ] || note "$out"
		return 1
	fi
}

# check_region DTB HEAP REGION SIZE: what dt-schema cannot check on a DTB.
# Its 2022.08 release has no type for memory-region, so "maxItems: 1" is not
# enforced; check here that HEAP's memory-region is exactly one phandle, the
# one of REGION, a reusable "shared-dma-pool" node of SIZE (fdtget -t x).
check_region() {
	local dtb=$1 heap=$2 region=$3 size=$4 ph mr
	ph=$(fdtget -t x "$dtb" "$region" phandle 2>&1) ||
		{ note "$dtb: $region: no phandle: $ph"; return 1; }
	mr=$(fdtget -t x "$dtb" "$heap" memory-region 2>&1) ||
		{ note "$dtb: $heap: no memory-region: $mr"; return 1; }
	[ "$mr" = "$ph" ] ||
		{ note "$dtb: $heap memory-region = <$mr>, expected <$ph> ($region)"; return 1; }
	[ "$(fdtget "$dtb" "$region" compatible 2>&1)" = shared-dma-pool ] ||
		{ note "$dtb: $region is not \"shared-dma-pool\""; return 1; }
	fdtget "$dtb" "$region" reusable >/dev/null 2>&1 ||
		{ note "$dtb: $region is not reusable"; return 1; }
	[ "$(fdtget -t x "$dtb" "$region" size 2>&1)" = "$size" ] ||
		{ note "$dtb: $region size is not <$size>"; return 1; }
}

check_doc() {
	quiet dt-doc-validate -u "$bindings" "$binding"
}

# need_schema: true if dt-mk-schema worked, else add its complaints.
need_schema() {
	[ -e "$tmp/mk-log" ] || return 0
	cat "$tmp/mk-log" >>"$log"
	return 1
}

check_example() {
	need_schema || return 1
	dt-extract-example "$binding" >"$tmp/example.dts" 2>"$tmp/err" ||
		{ note "dt-extract-example failed:"; note "$(cat "$tmp/err")"; return 1; }
	# The extractor wraps the example in a node with #address-cells and
	# #size-cells but no reg; the kernel's dt_binding_check silences that
	# warning too.
	quiet dtc -Wno-avoid_unnecessary_addr_size -I dts -O dtb \
		-o "$tmp/example.dtb" "$tmp/example.dts" &&
		validate "$tmp/example.dtb" /example-0/rk-dma-heap &&
		check_region "$tmp/example.dtb" /example-0/rk-dma-heap \
			/example-0/reserved-memory/rk-dma-heap-region 4200000
}

check_rv1106() {
	need_schema || return 1
	# dtc resolves /include/ relative to the including file.
	quiet dtc -I dts -O dtb -o "$tmp/rv1106-example.dtb" \
		"$RK_TOP/dts/rv1106-example.dts" &&
		validate "$tmp/rv1106-example.dtb" /rk-dma-heap &&
		check_region "$tmp/rv1106-example.dtb" /rk-dma-heap \
			/reserved-memory/rk-dma-heap-region 4200000
}

check_qemu() {
	local merged arch
	need_schema || return 1
	for arch in arm arm64; do
		merged=$("$RK_TOP/scripts/dtb.sh" "$arch" "$tmp/qemu-$arch" 2>"$tmp/err") ||
			{ note "scripts/dtb.sh $arch failed:"; note "$(cat "$tmp/err")"; return 1; }
		[ -s "$merged" ] || { note "scripts/dtb.sh $arch printed no DTB"; return 1; }
		# 64 MiB = 0x4000000, in two cells (QEMU's root has #size-cells = <2>).
		check_region "$merged" /rk-dma-heap /reserved-memory/rk-dma-heap-region \
			"0 4000000" || return 1
		# QEMU's own nodes do not all follow the core schemas; check only ours.
		validate "$merged" /rk-dma-heap "$binding_file" || return 1
	done
}

# The binding's second example and the QEMU trees of the carve-out: a
# second heap named by rockchip,heap-name, and a region that has no
# compatible, is not reusable and not no-map.
check_carveout() {
	local arch dir dtb
	need_schema || return 1
	validate "$tmp/example.dtb" /example-1/rk-dma-heap-carveout || return 1
	for arch in arm arm64; do
		dir=$tmp/qemu-$arch
		dtb=$dir/bench.dtb
		# the root's cells are there for the region's reg, which is
		# deeper than dtc looks
		quiet dtc -@ -Wno-avoid_unnecessary_addr_size -I dts -O dtb \
			-o "$dir/bench.dtbo" \
			"$RK_TOP/dts/qemu-virt-overlay-bench.dts" &&
			quiet fdtoverlay -i "$dir/rk-virt.dtb" -o "$dtb" \
				"$dir/bench.dtbo" &&
			validate "$dtb" /rk-dma-heap-carveout "$binding_file" &&
			validate "$dtb" /rk-dma-heap "$binding_file" || return 1
		[ "$(fdtget "$dtb" /rk-dma-heap-carveout rockchip,heap-name 2>&1)" = \
			rk-dma-heap-carveout ] ||
			{ note "$dtb: no rockchip,heap-name in /rk-dma-heap-carveout"; return 1; }
		for p in compatible reusable no-map; do
			! fdtget "$dtb" /reserved-memory/rk-carveout-region@58000000 "$p" \
				>/dev/null 2>&1 ||
				{ note "$dtb: the carve-out region has $p"; return 1; }
		done
	done
}

echo "TAP version 13"
echo "1..5"

# One processed schema (the core schemas plus ours) for checks 2 to 4; its
# failure is reported by each check that needs it.
if ! quiet dt-mk-schema -j -o "$schema" "$bindings"; then
	cp "$log" "$tmp/mk-log"
fi
: >"$log"

rc=0; check_doc || rc=$?
report "$rc" "binding: dt-doc-validate"
rc=0; check_example || rc=$?
report "$rc" "binding example validates"
rc=0; check_rv1106 || rc=$?
report "$rc" "rv1106-example.dts compiles and validates against the binding"
rc=0; check_qemu || rc=$?
report "$rc" "merged QEMU DTBs (ARM32, arm64) have the heap node and a 64 MiB reusable region"
rc=0; check_carveout || rc=$?
report "$rc" "a second heap on a carve-out validates (binding example, make bench's tree)"

exit "$failed"
