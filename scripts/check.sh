#!/usr/bin/env bash
# The test command (make check): installs what is missing, builds the test
# kernels (cached), runs the host checks, boots each kernel in QEMU with the
# module and the tests, and summarises everything. The last line is
# "N passed, N failed"; the exit status is non-zero on any failure.
set -uo pipefail
. "$(dirname "$0")/common.sh"

start=$(date +%s)
"$RK_TOP/scripts/deps.sh" || rk_die "installing packages failed"
export RK_GUEST_PREBUILT=1
out="$RK_TOP/out"
host="$out/host"
mkdir -p "$host"

# What every kernel of an architecture shares: the test programs and the
# device tree, made once here (build.sh makes them for demo and run).
for arch in arm arm64; do
	"$RK_TOP/scripts/build-tests.sh" "$arch" ||
		rk_log "building the test programs for $arch failed"
	"$RK_TOP/scripts/dtb.sh" "$arch" "$out/dtb/$arch" > /dev/null ||
		rk_log "building the device tree for $arch failed"
done
export RK_SHARED_READY=1

# The Rockchip BSP kernels need the BSP tree, which not every machine has
# (BSP_SRC, or the one prepared in the cache): without one they are skipped,
# one SKIP line in the summary. Any other trouble with the tree (a wrong
# BSP_SRC) is left to their build, which fails and says why.
kernels=$RK_KERNELS
skips=()
bsp_status=0
"$RK_TOP/scripts/bsp-source.sh" > /dev/null 2> "$host/bsp-source.log" || bsp_status=$?
if [ "$bsp_status" = 2 ]; then
	for v in $RK_BSP_KERNELS $RK_BSP_INTREE_KERNELS; do
		skips+=(--skip "$v=no Rockchip BSP tree: give one with BSP_SRC=/path")
	done
	rk_log "no Rockchip BSP tree: $RK_BSP_KERNELS skipped"
else
	kernels="$kernels $RK_BSP_KERNELS"
fi
# style-check.sh also checks the module's warnings on these
export RK_CHECK_KERNELS=$kernels
# the BSP kernel with rk_dma_heap built in has its own boots
[ "$bsp_status" = 2 ] || kernels="$kernels $RK_BSP_INTREE_KERNELS"

# build_kernel KERNEL: what one kernel's boots need (the module is built
# into a bsp-intree kernel, whose test script makes its own initramfs)
build_kernel() {
	rk_kernel "$1"
	if [ "$K_KIND" = bsp-intree ]; then
		rk_kernel_build "$1"
	else
		"$RK_TOP/scripts/build.sh" "$1"
	fi
}

# test_kernel KERNEL: the boots of one kernel; writes the summary's
# arguments for them to out/KERNEL/summary.args
test_kernel() {
	local v=$1 log mode modes
	: > "$out/$v/summary.args"
	rk_kernel "$v"
	if [ "$K_KIND" = bsp-intree ]; then
		# its boots write their summary.args themselves
		"$RK_TOP/scripts/bsp-intree-test.sh" > "$out/$v/test.log" 2>&1 ||
			rk_log "Linux $v: failures, see the summary"
		rk_log "Linux $v tested after $(( $(date +%s) - start )) s"
		return
	fi
	modes="check variant:nonode variant:badregion variant:unaligned
		variant:carveout variant:carvepool"
	# RAM above 4 GiB and bouncing importers: the shapes of RK35xx
	# boards, and the only guests with QEMU's RAM there (ARM32 would need
	# LPAE kernels). The arm64 debug kernels cover both backends (6.12:
	# dma_alloc_pages(), 7.2: cma_alloc()) with KASAN, lockdep and DMA-API
	# debugging watching; Debian's add minutes to the run and nothing
	# those do not see.
	[ "$K_ARCH" != arm64 ] || [ "$K_KIND" != debug ] ||
		modes="$modes variant:highmem variant:bounce"
	for mode in $modes; do
		if ! log=$("$RK_TOP/scripts/guest.sh" "$mode" "$v"); then
			log="$out/$v/console-${mode/:/-}.log"
			echo "guest.sh $mode $v failed" >> "$log"
		fi
		case "$mode" in
		check) echo "$v=$log" ;;
		*) echo "$v-${mode#variant:}=$log" ;;
		esac >> "$out/$v/summary.args"
	done
	rk_log "Linux $v tested after $(( $(date +%s) - start )) s"
}

# Kernels are built one after the other, and each is tested while the
# next one builds: a first run on two cores spends most of its time
# compiling, and a guest often waits. Debian's kernels are downloaded and
# prepared in the background meanwhile (mostly network and unpacking);
# they alternate with the debug kernels, the slow KASAN guests come early
# and a quick one last. The BSP kernel builds quickly (about 5 minutes)
# while the first Debian kernel boots.
(
	for v in $RK_KERNELS; do
		rk_kernel "$v"
		[ "$K_KIND" = debian ] || continue
		"$RK_TOP/scripts/debian-kernel.sh" "$v" > /dev/null 2>&1 || true
	done
) &
order="debian-6.1 bsp-5.10 7.2 bsp-intree-5.10 debian-7.2 arm64-7.2
	debian-arm64-7.2 6.12 debian-6.12 arm64-6.12 debian-arm64-6.12 6.1
	debian-5.10 5.10"
[ "$(echo $order | tr ' ' '\n' | sort)" = "$(echo $RK_KERNELS $RK_BSP_KERNELS $RK_BSP_INTREE_KERNELS | tr ' ' '\n' | sort)" ] ||
	rk_die "scripts/check.sh: the build order does not list every kernel"
# without the BSP tree: the order less the BSP kernels
order=$(for v in $order; do
	case " $kernels " in *" $v "*) echo "$v" ;; esac
done)
tester=
for v in $order; do
	mkdir -p "$out/$v"
	if ! build_kernel "$v" > /dev/null 2> "$out/$v/build.log"; then
		# in the summary as the kernel's failed boot, with the reason
		rk_log "building for Linux $v failed"
		{ tail -n 30 "$out/$v/build.log"; echo "building for Linux $v failed"; } \
			> "$out/$v/console-check.log"
		echo "$v=$out/$v/console-check.log" > "$out/$v/summary.args"
		continue
	fi
	rk_log "Linux $v built after $(( $(date +%s) - start )) s"
	[ -z "$tester" ] || wait "$tester"
	test_kernel "$v" &
	tester=$!
done
wait

args=()
rk_log "host checks: device tree binding, TAP parser, install, dkms, style"
"$RK_TOP/scripts/dt-check.sh" > "$host/dt-check.tap" 2>&1
args+=(--host "dt-check=$host/dt-check.tap")
"$RK_TOP/scripts/test-tap-summary.sh" > "$host/tap-parser.tap" 2>&1
args+=(--host "tap-parser=$host/tap-parser.tap")
"$RK_TOP/scripts/install-check.sh" > "$host/install.tap" 2>&1
args+=(--host "install=$host/install.tap")
# boots debian-6.12's guest: after the guests, never beside one of its own
"$RK_TOP/scripts/dkms-check.sh" debian-6.12 > "$host/dkms.tap" 2>&1
args+=(--host "dkms=$host/dkms.tap")
"$RK_TOP/scripts/style-check.sh" > "$host/style.tap" 2>&1
args+=(--host "style=$host/style.tap")
args+=(${skips[@]+"${skips[@]}"})
for v in $kernels; do
	while IFS= read -r a; do
		args+=("$a")
	done < "$out/$v/summary.args"
done

rk_log "finished in $(( $(date +%s) - start )) s"
exec python3 "$RK_TOP/scripts/tap-summary.py" "${args[@]}"
