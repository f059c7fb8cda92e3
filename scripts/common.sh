# shellcheck shell=bash
# Settings shared by the scripts of the QEMU test rig. Source, do not run.

RK_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Kernel trees and builds live outside the clone so that they survive it.
RK_CACHE=${RK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rk_dma_heap}
RK_JOBS=${RK_JOBS:-$(($(nproc) + 1))}

# The kernels make check runs on. A bare version is a debug kernel built
# here for ARM32 (Cortex-A7, like RV1106); "arm64-" ones are debug kernels
# for arm64 (Cortex-A53, RK35xx) with KASAN; "debian-" ones are Debian's
# prebuilt kernels with the module built against their headers packages.
RK_KERNELS="5.10 6.1 6.12 7.2 arm64-6.12 arm64-7.2
	debian-5.10 debian-6.1 debian-6.12 debian-7.2
	debian-arm64-6.12 debian-arm64-7.2"
RK_KERNELS=$(echo $RK_KERNELS)
# Rockchip BSP kernels (ARM32, the RV1106's Linux 5.10.160), built from a
# tree that is not always at hand (scripts/bsp-source.sh finds it): make
# check runs them when there is one. "bsp-intree-" is the BSP tree with
# rk_dma_heap built in (its tree comes from scripts/bsp-intree.sh); it is
# known here but make check does not run it yet.
RK_BSP_KERNELS="bsp-5.10"
RK_BSP_INTREE_KERNELS="bsp-intree-5.10"
# Kernels for make bench only: the debug kernels' configuration without
# the debugging options that slow every allocation down (lockdep,
# kmemleak, DMA-API debugging, KASAN), with mainline's dma-buf heaps,
# which Debian's kernels do not have.
RK_BENCH_KERNELS="bench-6.12 bench-7.2 bench-arm64-7.2"

rk_die() {
	echo "error: $*" >&2
	exit 1
}

rk_log() {
	echo ">>> $*" >&2
}

# rk_arch ARCH: for a kernel ARCH (arm or arm64), set
#   A_CROSS   the cross compiler prefix (also the multiarch triplet + "-")
#   A_DEB     Debian's name of the architecture (armhf, arm64)
rk_arch() {
	case "$1" in
	arm) A_CROSS=arm-linux-gnueabihf- A_DEB=armhf ;;
	arm64) A_CROSS=aarch64-linux-gnu- A_DEB=arm64 ;;
	*) rk_die "unknown architecture '$1'" ;;
	esac
}

# rk_kernel KERNEL: describe one of $RK_KERNELS in the variables
#   K_ARCH    arm or arm64 (the kernel's ARCH)
#   K_CROSS   the cross compiler prefix
#   K_DEB     Debian's name of the architecture
#   K_SERIES  the Linux series, e.g. 6.12
#   K_KIND    debug (built here from linux-source), debian (prebuilt),
#             bsp or bsp-intree (built here from the Rockchip BSP tree)
#   K_BENCH   1 for a bench- kernel (a debug kernel without debugging)
#   K_SUITE   the Debian suite its source or image package comes from (for
#             a BSP kernel: the suite of the host's cross compiler)
rk_kernel() {
	local k=$1
	case " $RK_KERNELS $RK_BSP_KERNELS $RK_BSP_INTREE_KERNELS $RK_BENCH_KERNELS " in
	*" $k "*) ;;
	*) rk_die "unknown kernel '$k' (choose one of: $RK_KERNELS $RK_BSP_KERNELS $RK_BSP_INTREE_KERNELS $RK_BENCH_KERNELS)" ;;
	esac
	K_BENCH=0
	case "$k" in
	bsp-*)
		# Only ARM32 5.10 (RV1106) so far; the BSP builds with the
		# host's bookworm gcc 12 (arm-linux-gnueabihf).
		K_KIND=bsp
		case "$k" in bsp-intree-*) K_KIND=bsp-intree ;; esac
		K_ARCH=arm
		rk_arch "$K_ARCH"
		K_CROSS=$A_CROSS
		K_DEB=$A_DEB
		K_SERIES=${k##*-}
		K_SUITE=bookworm
		return 0 ;;
	esac
	K_KIND=debug
	case "$k" in bench-*) K_BENCH=1; k=${k#bench-} ;; esac
	case "$k" in debian-*) K_KIND=debian; k=${k#debian-} ;; esac
	K_ARCH=arm
	case "$k" in arm64-*) K_ARCH=arm64; k=${k#arm64-} ;; esac
	rk_arch "$K_ARCH"
	K_CROSS=$A_CROSS
	K_DEB=$A_DEB
	K_SERIES=$k
	case "$K_SERIES" in
	5.10) K_SUITE=bullseye ;;
	6.1) K_SUITE=bookworm ;;
	# Debian builds 6.12 images for bookworm in backports only.
	6.12) K_SUITE=bookworm; [ "$K_KIND" = debug ] || K_SUITE=bookworm-backports ;;
	*) K_SUITE=sid ;;
	esac
}

# Bump when scripts/kernel.sh changes what it builds.
RK_KERNEL_RECIPE=2

# Bump when scripts/bsp-kernel.sh changes what it builds.
RK_BSP_KERNEL_RECIPE=1

# rk_kernel_fragment KERNEL: the config fragment of a debug kernel: the
# common one, the architecture's, then the series' if there is one
# (qemu/kernel-ARCH-SERIES.config). A BSP kernel adds qemu/kernel-bsp.config
# (and qemu/kernel-bsp-intree.config for bsp-intree ones, if there is one),
# a bench kernel qemu/kernel-bench.config; a later line for the same option
# wins.
rk_kernel_fragment() {
	rk_kernel "$1"
	cat "$RK_TOP/qemu/kernel.config" "$RK_TOP/qemu/kernel-$K_ARCH.config"
	if [ -e "$RK_TOP/qemu/kernel-$K_ARCH-$K_SERIES.config" ]; then
		cat "$RK_TOP/qemu/kernel-$K_ARCH-$K_SERIES.config"
	fi
	[ "$K_BENCH" = 0 ] || cat "$RK_TOP/qemu/kernel-bench.config"
	case "$K_KIND" in
	bsp*)
		cat "$RK_TOP/qemu/kernel-bsp.config"
		if [ "$K_KIND" != bsp ] && [ -e "$RK_TOP/qemu/kernel-$K_KIND.config" ]; then
			cat "$RK_TOP/qemu/kernel-$K_KIND.config"
		fi ;;
	esac
}

# rk_bsp_source KERNEL: print the BSP tree of a BSP kernel (scripts/
# bsp-source.sh, or scripts/bsp-intree.sh for bsp-intree ones); fails with
# their status (2: there is none) and message.
rk_bsp_source() {
	rk_kernel "$1"
	case "$K_KIND" in
	bsp) "$RK_TOP/scripts/bsp-source.sh" ;;
	bsp-intree)
		[ -x "$RK_TOP/scripts/bsp-intree.sh" ] || {
			echo "no scripts/bsp-intree.sh to prepare the tree of $1" >&2
			return 2
		}
		"$RK_TOP/scripts/bsp-intree.sh" ;;
	*) rk_die "$1 is not a BSP kernel" ;;
	esac
}

# rk_bsp_kernel_dir KERNEL TREE: the cached build directory of a BSP
# kernel built from TREE, keyed like rk_kernel_dir's: the tree's commit
# (its .commit file, written where the tree was checked out) or else a
# hash of its top Makefile and defconfig (cheap, catches another version),
# for bsp-intree also a hash of the module's sources, the fragment and the
# recipe.
rk_bsp_kernel_dir() {
	local key id tree=$2
	rk_kernel "$1"
	if [ -s "$tree/.commit" ]; then
		id="commit $(cat "$tree/.commit")"
	else
		id="tree $(cat "$tree/Makefile" "$tree/arch/arm/configs/rv1106_defconfig" |
			sha256sum | cut -c1-16)"
	fi
	# A tree with the heap built in holds a copy of our sources, which
	# neither identity above sees change.
	if [ "$K_KIND" = bsp-intree ]; then
		id="$id module $(cd "$RK_TOP" && cat Kbuild ./*.c ./*.h \
			$(find include -type f | LC_ALL=C sort) \
			$(ls Kconfig 2>/dev/null) | sha256sum | cut -c1-16)"
	fi
	key=$( { echo "$id"; echo "recipe $RK_BSP_KERNEL_RECIPE";
		rk_kernel_fragment "$1"; } | sha256sum | cut -c1-12)
	echo "$RK_CACHE/build/linux-$1-$key"
}

# rk_kernel_dir KERNEL: the cached build directory of a debug kernel; its
# name changes whenever the source package, the config fragment or the
# recipe changes, so a stale build is never reused.
rk_kernel_dir() {
	local key ver
	rk_kernel "$1"
	ver=$(rk_deb_version "$K_SUITE" "linux-source-$K_SERIES") || return 1
	key=$( { echo "$ver"; echo "recipe $RK_KERNEL_RECIPE";
		rk_kernel_fragment "$1"; } | sha256sum | cut -c1-12)
	echo "$RK_CACHE/build/linux-$1-$key"
}

# rk_kernel_source KERNEL: unpack the kernel's linux-source package into
# the cache (once) and print the tree's path.
rk_kernel_source() {
	local deb src
	rk_kernel "$1"
	deb=$(rk_deb_fetch "$K_SUITE" "linux-source-$K_SERIES") || return 1
	src="$RK_CACHE/src/$(basename "$deb" .deb)"
	if [ ! -e "$src/.extracted" ]; then
		rk_log "unpacking $(basename "$deb")"
		rm -rf "$src" "$src.tmp"
		mkdir -p "$src.tmp"
		dpkg-deb --fsys-tarfile "$deb" |
			tar -C "$src.tmp" -x --wildcards './usr/src/linux-source-*.tar.xz'
		tar -C "$src.tmp" -xf "$src.tmp"/usr/src/linux-source-*.tar.xz
		mv "$src.tmp"/linux-source-*/ "$src"
		rm -rf "$src.tmp"
		touch "$src/.extracted"
	fi
	echo "$src"
}

# rk_kernel_build KERNEL: build (debug) or download (Debian) the kernel and
# print its cached directory: boot-image (what QEMU's -kernel takes),
# modroot/lib/modules/VERSION (its modules), kdir (the tree to build
# modules against).
rk_kernel_build() {
	rk_kernel "$1"
	case "$K_KIND" in
	debug) "$RK_TOP/scripts/kernel.sh" "$1" ;;
	bsp*) "$RK_TOP/scripts/bsp-kernel.sh" "$1" ;;
	*) "$RK_TOP/scripts/debian-kernel.sh" "$1" ;;
	esac
}

# rk_kernel_cached KERNEL: whether the kernel is ready to use without a
# compile: a debug or BSP kernel built before with today's key; Debian's
# are downloaded, never compiled (a BSP kernel without its tree counts as
# ready: its build fails at once).
rk_kernel_cached() {
	local dir tree
	rk_kernel "$1"
	case "$K_KIND" in
	debug) dir=$(rk_kernel_dir "$1") || return 1 ;;
	bsp*)
		tree=$(rk_bsp_source "$1" 2>/dev/null) || return 0
		dir=$(rk_bsp_kernel_dir "$1" "$tree") ;;
	*) return 0 ;;
	esac
	[ -e "$dir/.done" ]
}

# rk_kernel_lock KERNEL OUT: one preparation of a kernel at a time (make
# check prepares Debian's kernels in the background while a guest may ask
# for the same one); then, if OUT is complete, print it and end the script.
rk_kernel_lock() {
	mkdir -p "$RK_CACHE/build"
	exec 9> "$RK_CACHE/build/.lock-$1"
	flock 9
	if [ -e "$2/.done" ]; then
		echo "$2"
		exit 0
	fi
}

# rk_fragment_last FRAG: the options of the fragment FRAG, each with the
# last line that sets it (as Kconfig takes it)
rk_fragment_last() {
	awk '{
		sym = $0
		if (sym ~ /^CONFIG_[A-Za-z0-9_]*=/) sub(/=.*/, "", sym)
		else if (sym ~ /^# CONFIG_[A-Za-z0-9_]* is not set$/) { sub(/^# /, "", sym); sub(/ .*/, "", sym) }
		else next
		if (!(sym in last)) order[++n] = sym
		last[sym] = $0
	} END { for (i = 1; i <= n; i++) print last[order[i]] }' "$1"
}

# rk_config_check KERNEL SRC OUT FRAG: Kconfig silently drops options whose
# dependencies are not met: fail for a kernel configuration (OUT/.config)
# that lost an option of the fragment FRAG, and so lacks what the tests
# rely on or keeps what breaks them. An option the tree SRC does not define
# at all is only reported: the kernel is tested without it.
rk_config_check() {
	local k=$1 src=$2 out=$3 frag=$4 line sym missing=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			sym=${line%%=*}
			grep -qxF "$line" "$out/.config" && continue ;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			! grep -q "^$sym=" "$out/.config" && continue ;;
		*) continue ;;
		esac
		if ! grep -rqsx --include='Kconfig*' -E "(menu)?config ${sym#CONFIG_}" "$src"; then
			rk_log "kernel $k: no $sym in this tree, tested without it"
			continue
		fi
		echo "kernel $k: '$line' did not survive the configuration" >&2
		missing=1
	done < <(rk_fragment_last "$frag")
	[ "$missing" = 0 ]
}

# rk_kernel_install KERNEL OUT IMAGE: after a build with the caller's kmake
# (make -C SRC O=OUT ...): OUT's boot-image (arch/ARCH/boot/IMAGE), kdir
# (the tree to build modules against, named as in a Debian kernel's dir),
# modroot and .done; builds of KERNEL under an older key are removed, as
# they are never used again.
rk_kernel_install() {
	local k=$1 out=$2 image=$3 old
	ln -sf "arch/$K_ARCH/boot/$image" "$out/boot-image"
	ln -sfn . "$out/kdir"
	rm -rf "$out/modroot"
	kmake -s INSTALL_MOD_PATH="$out/modroot" modules_install >&2
	touch "$out/.done"
	for old in "$RK_CACHE/build/linux-$k-"*; do
		[ "$old" = "$out" ] || rm -rf "$old"
	done
}

# rk_qemu ARCH [MIB]: the QEMU machine of ARCH's guests in RK_QEMU_BIN and
# RK_QEMU_OPTS (all but -M virt, which dtb.sh extends with dumpdtb=): the
# device tree QEMU generates depends on these options, so the tree is
# dumped and the guests boot with the very same ones. MIB is the RAM of a
# guest that needs other than the usual (the arm64 high-memory boot).
rk_qemu() {
	case "$1" in
	arm)
		RK_QEMU_BIN=qemu-system-arm
		RK_QEMU_OPTS=(-cpu cortex-a7 -smp 2 -m "${2:-512}") ;;
	arm64)
		# KASAN's shadow takes an eighth of RAM: more RAM than ARM32
		RK_QEMU_BIN=qemu-system-aarch64
		RK_QEMU_OPTS=(-cpu cortex-a53 -smp 2 -m "${2:-1024}") ;;
	*)
		rk_die "no QEMU machine for architecture '$1'" ;;
	esac
	# -nic none: the default NIC needs an iPXE ROM the tests have no use for
	RK_QEMU_OPTS+=(-nic none -nographic -no-reboot)
}

# rk_qemu_dumpdtb ARCH OUT [MIB]: the device tree QEMU generates for ARCH's
# guests (with MIB of RAM) written to OUT
rk_qemu_dumpdtb() {
	local msg
	rk_qemu "$1" ${3:+"$3"}
	# QEMU reports "dtb dumped to ... Exiting." and exits 0 once the tree
	# is written; only show its output when that did not happen.
	if ! msg=$("$RK_QEMU_BIN" -M "virt,dumpdtb=$2" "${RK_QEMU_OPTS[@]}" 2>&1 </dev/null) ||
		[ ! -s "$2" ]; then
		printf '%s\n' "$msg" >&2
		rk_die "$RK_QEMU_BIN could not dump the virt DTB"
	fi
}

# rk_copy_module_sources DEST: what builds rk_dma_heap.ko (Kbuild, sources,
# headers) copied to DEST, to build out of the source tree.
rk_copy_module_sources() {
	cp -r "$RK_TOP"/Kbuild "$RK_TOP"/*.c "$RK_TOP"/*.h "$RK_TOP/include" "$1/"
}

. "$RK_TOP/scripts/debian.sh"
