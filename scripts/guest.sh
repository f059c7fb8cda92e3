#!/usr/bin/env bash
# Boot the QEMU test guest.
# Usage: scripts/guest.sh check|demo|shell KERNEL
#        (RK_GUEST_OVERLAYS="NAME..." adds dts/qemu-virt-overlay-NAME.dts)
#        scripts/guest.sh variant:NAME KERNEL      (a device-tree variant;
#        variant:highmem also 6 GiB of RAM, arm64 only; variant:bounce the
#        usual tree with swiotlb=force)
#        scripts/guest.sh run KERNEL SCRIPT [DIR]
# check and variant:* write the console to out/KERNEL/console-MODE.log and
# print its path; the others print the guest's output.
set -euo pipefail
. "$(dirname "$0")/common.sh"

mode=${1:?usage: guest.sh MODE KERNEL}
v=${2:?usage: guest.sh MODE KERNEL}
rk_kernel "$v"
# make check builds once per kernel and sets RK_GUEST_PREBUILT for its boots.
if [ -n "${RK_GUEST_PREBUILT:-}" ]; then
	out="$RK_TOP/out/$v"
else
	"$RK_TOP/scripts/deps.sh"
	out=$("$RK_TOP/scripts/build.sh" "$v")
fi
kdir=$(cat "$out/kernel-dir")
dtbdir="$RK_TOP/out/dtb/$K_ARCH"
dtb="$dtbdir/rk-virt.dtb"
initrd="$out/initrd.gz"
# a cap for a hung guest; a KASAN guest under load needs many minutes, the
# PREEMPT_RT KASAN one most (its 10,000-buffer test alone: 10 minutes at
# load 8)
timeout=${RK_GUEST_TIMEOUT:-2700}
# what this boot alone uses (device-tree variants, the run initrd): two
# boots at once, e.g. make bench beside a guest of the same kernel, must
# not write each other's files
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The guest's RAM in MiB where a boot needs other than the usual; QEMU's
# tree (its memory node) is then dumped anew for it.
mem=
base="$dtbdir/virt.dtb"
case "$mode" in
variant:highmem)
	# RAM above 4 GiB for the region at 5 GiB
	# (dts/qemu-virt-overlay-highmem.dts); QEMU's ARM32 virt would need
	# LPAE kernels, and the boards with that much RAM are arm64
	[ "$K_ARCH" = arm64 ] || rk_die "variant:highmem is for arm64 kernels"
	mem=6144
	rk_qemu_dumpdtb "$K_ARCH" "$tmp/virt.dtb" "$mem"
	base="$tmp/virt.dtb" ;;
esac

case "$mode" in
variant:bounce)
	# the usual tree; swiotlb=force below makes every streaming DMA
	# mapping bounce
	;;
variant:nonode)
	# QEMU's dump is padded to 1 MiB, too big for the zImage boot:
	# dtc writes it back compact.
	dtc -q -I dtb -O dtb -o "$tmp/nonode.dtb" "$dtbdir/virt.dtb"
	dtb="$tmp/nonode.dtb" ;;
variant:*)
	# QEMU's tree with dts/qemu-virt-overlay-NAME.dts instead of ours
	name=${mode#variant:}
	dtc -q -@ -I dts -O dtb -o "$tmp/$name.dtbo" \
		"$RK_TOP/dts/qemu-virt-overlay-$name.dts"
	fdtoverlay -i "$base" -o "$tmp/$name.dtb" "$tmp/$name.dtbo"
	dtb="$tmp/$name.dtb" ;;
run)
	script=${3:?usage: guest.sh run KERNEL SCRIPT [DIR]}
	files=${4:-}
	[ -f "$script" ] || rk_die "no such script: $script"
	[ -z "$files" ] || [ -d "$files" ] || rk_die "no such directory: $files"
	extra="$tmp/extra"
	mkdir -m 755 "$extra"
	mkdir -p "$extra/mnt/extra"
	cp "$script" "$extra/run.sh"
	[ -z "$files" ] || cp -r "$files/." "$extra/mnt/extra/"
	# A second cpio archive appended to the first adds its files.
	(cd "$extra" && find . | cpio -o -H newc --quiet -R 0:0) | gzip -1 \
		> "$tmp/extra.gz"
	cat "$out/initrd.gz" "$tmp/extra.gz" > "$tmp/initrd-run.gz"
	initrd="$tmp/initrd-run.gz" ;;
check|demo|shell) ;;
*) rk_die "unknown mode '$mode'" ;;
esac

# RK_GUEST_OVERLAYS="NAME...": dts/qemu-virt-overlay-NAME.dts applied on
# top of the tree chosen above (make bench adds a second heap this way)
for name in ${RK_GUEST_OVERLAYS:-}; do
	dtc -q -@ -I dts -O dtb -o "$tmp/$name.dtbo" \
		"$RK_TOP/dts/qemu-virt-overlay-$name.dts"
	fdtoverlay -i "$dtb" -o "$tmp/with-$name.dtb" "$tmp/$name.dtbo"
	dtb="$tmp/with-$name.dtb"
done

rk_qemu "$K_ARCH" $mem
qemu=("$RK_QEMU_BIN" -M virt "${RK_QEMU_OPTS[@]}" -kernel "$kdir/boot-image"
	-dtb "$dtb" -initrd "$initrd")
# rk.kernel= tells the tests which of the rig's kernels they run on
cmdline="console=ttyAMA0 panic=-1 rk.mode=$mode rk.kernel=$v"
# The KUnit tests of the API run when their module loads: kunit.enable=1
# (6.2 on) and kunit.autorun=1 (6.8 on; allnoconfig turns both off).
[ "$K_KIND" = debian ] || cmdline+=" kunit.enable=1 kunit.autorun=1"
# Every streaming DMA mapping through swiotlb's slots, as for an importer
# that cannot reach the buffer (a 32-bit device above 4 GiB, a restricted
# DMA pool). With all of its RAM below 4 GiB arm64 shrinks swiotlb to
# 1 MiB, too little for one 1 MiB buffer, unless the command line gives
# a size other than the default 64 MiB (32768 slots counts as none given):
# 16384 slots, 32 MiB.
[ "$mode" != variant:bounce ] || cmdline+=" swiotlb=16384,force"

case "$mode" in
shell)
	"${qemu[@]}" -append "$cmdline" ;;
check|variant:*)
	log="$out/console-${mode/:/-}.log"
	rk_log "booting Linux $v ($mode), console in $log"
	status=0
	# the boot's wall-clock and CPU seconds (QEMU's user and system
	# time), for make check's timing table
	TIMEFORMAT="%R %U %S"
	{ time timeout "$timeout" "${qemu[@]}" -append "$cmdline loglevel=4" \
		< /dev/null > "$log" 2>&1 || status=$?; } 2> "$tmp/time"
	[ "$status" = 124 ] && echo "RK-GUEST-TIMEOUT after ${timeout}s" >> "$log"
	read -r wall user sys < "$tmp/time" || true
	echo "RK-GUEST-TIME wall ${wall%.*} cpu $(( ${user%.*} + ${sys%.*} ))" >> "$log"
	echo "$log" ;;
demo)
	timeout "$timeout" "${qemu[@]}" -append "$cmdline loglevel=4" \
		< /dev/null | tr -d '\r' ;;
run)
	# the console of the last run is kept in out/KERNEL
	log="$out/console-run.log"
	timeout "$timeout" "${qemu[@]}" -append "$cmdline loglevel=4" \
		< /dev/null > "$tmp/console.log" 2>&1 || true
	cp "$tmp/console.log" "$log"
	tr -d '\r' < "$tmp/console.log" | sed -n '/^==== RK-RUN-BEGIN ====$/,/^==== RK-RUN-EXIT/p' |
		sed '1d;$d'
	st=$(tr -d '\r' < "$tmp/console.log" | sed -n 's/^==== RK-RUN-EXIT \([0-9]*\) ====$/\1/p')
	if [ -z "$st" ]; then
		tail -n 30 "$tmp/console.log" >&2
		rk_die "the guest did not finish the script (crash or timeout); console: $log"
	fi
	exit "$st" ;;
esac
