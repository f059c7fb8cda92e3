#!/usr/bin/env bash
# The test command (make check): installs what is missing, builds the test
# kernels (cached), runs the host checks, boots each kernel in QEMU with the
# module and the tests, and summarises everything. The last line is
# "N passed, N failed"; the exit status is non-zero on any failure.
set -uo pipefail
. "$(dirname "$0")/common.sh"

start=$(date +%s)
"$RK_TOP/scripts/deps.sh" || rk_die "installing packages failed"
# Kernels (cached), module, tests and initramfs: once per kernel, before
# any boot.
for v in $RK_KERNELS; do
	# a failed build shows up below as that kernel's failed boots
	"$RK_TOP/scripts/build.sh" "$v" > /dev/null || rk_log "building for Linux $v failed"
	rk_log "Linux $v ready after $(( $(date +%s) - start )) s"
done
export RK_GUEST_PREBUILT=1

host="$RK_TOP/out/host"
mkdir -p "$host"
args=()

rk_log "host checks: device tree binding, TAP parser"
"$RK_TOP/scripts/dt-check.sh" > "$host/dt-check.tap" 2>&1
args+=(--host "dt-check=$host/dt-check.tap")
"$RK_TOP/scripts/test-tap-summary.sh" > "$host/tap-parser.tap" 2>&1
args+=(--host "tap-parser=$host/tap-parser.tap")

for v in $RK_KERNELS; do
	if ! log=$("$RK_TOP/scripts/guest.sh" check "$v"); then
		log="$RK_TOP/out/$v/console-check.log"
		echo "guest.sh check $v failed" >> "$log"
	fi
	args+=("$v=$log")
	for variant in nonode badregion unaligned; do
		log=$("$RK_TOP/scripts/guest.sh" "variant:$variant" "$v") ||
			log="$RK_TOP/out/$v/console-variant-$variant.log"
		args+=("$v-$variant=$log")
	done
done

"$RK_TOP/scripts/style-check.sh" > "$host/style.tap" 2>&1
args+=(--host "style=$host/style.tap")

rk_log "finished in $(( $(date +%s) - start )) s"
exec python3 "$RK_TOP/scripts/tap-summary.py" "${args[@]}"
