#!/usr/bin/env bash
# Debian's dkms on dkms.conf, as TAP: dkms add, build, install and remove
# of rk_dma_heap for one of Debian's prebuilt kernels (cross: its headers
# from scripts/debian-kernel.sh), and the module dkms installed booted in
# that kernel's QEMU guest in place of the rig's own. Also checks
# BUILD_EXCLUSIVE_CONFIG: it requires what Kconfig's RK_DMA_HEAP depends
# on, and dkms build refuses a kernel configuration that fails it.
# Usage: scripts/dkms-check.sh [KERNEL]   (default debian-6.12)
#
# Every tree dkms uses is private, in a temporary directory (--dkmstree,
# --sourcetree, --installtree, --kernelsourcedir, --no-depmod): the host's
# /var/lib/dkms, /usr/src and /lib/modules and its running kernel are never
# touched. dkms add and install want root: as another user dkms runs in a
# user namespace (unshare -r), or the checks are skipped ("1..0 # SKIP").
# Exits 0 whatever the checks find: the TAP says what failed.
set -uo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

k=${1:-debian-6.12}
rk_kernel "$k"
[ "$K_KIND" = debian ] || rk_die "$k is not one of Debian's kernels (debian-*)"
case "$K_ARCH" in
arm) march=armv7l ;;	# uname -m on the board, dkms's "arch"
arm64) march=aarch64 ;;
esac
PATH=$PATH:/usr/sbin:/sbin	# dkms, depmod, modprobe for any user

skip_all() {
	echo "TAP version 13"
	echo "1..0 # SKIP $*"
	exit 0
}

command -v dkms > /dev/null ||
	skip_all "no dkms (Debian's dkms package; scripts/deps.sh installs it)"
dkms_version=$(dkms --version 2>/dev/null | sed -n 's/^dkms-//p')
case "$dkms_version" in
[3-9].*) ;;
*) skip_all "dkms '$dkms_version' is older than 3.0 (no BUILD_EXCLUSIVE_CONFIG)" ;;
esac
# dkms add and install check for uid 0; they write only to the trees below
as_root=()
if [ "$(id -u)" != 0 ]; then
	unshare -r true 2> /dev/null ||
		skip_all "dkms add and install need root: run as root or allow user namespaces (unshare -r)"
	as_root=(unshare -r)
fi
# The host's dkms configuration is read in any case. The trees it may name
# are overridden below; loading modules on the host after an install is not.
for f in /etc/dkms/framework.conf /etc/dkms/framework.conf.d/*.conf; do
	if [ -r "$f" ] && grep -qE '^[[:space:]]*modprobe_on_install=[^[:space:]]' "$f"; then
		skip_all "$f sets modprobe_on_install: dkms install would load modules on this host"
	fi
done

# What dkms.conf says (it is written for dkms's variables; these two suffice)
# shellcheck disable=SC2034 # dkms.conf uses them
conf=$(kernel_source_dir=/kdir dkms_tree=/dkms
	# shellcheck source=/dev/null
	. "$RK_TOP/dkms.conf" 2>&1 &&
	printf '%s\n' "$PACKAGE_NAME" "$PACKAGE_VERSION" "${BUILT_MODULE_NAME[0]}" \
		"${DEST_MODULE_LOCATION[0]}" "${BUILD_EXCLUSIVE_CONFIG:-}") ||
	skip_all "dkms.conf does not read: $conf"
{ read -r pkg; read -r pkgver; read -r built; read -r dest; read -r exclusive; } <<< "$conf"
mv="$pkg/$pkgver"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM HUP
mkdir -p "$T"/{clone,src,dkms,tmp,bin,root/lib/modules,guest}
log=$T/log
: > "$log"
why=	# set: why the checks that need what failed are skipped

echo "TAP version 13"
echo "1..12"
n=0
# result STATUS DESCRIPTION: the next check's TAP line, with what it
# logged as diagnostics when it failed
result() {
	local st=$1
	shift
	n=$((n + 1))
	if [ "$st" = 0 ]; then
		echo "ok $n - $*"
	else
		tail -n 40 "$log" | sed 's/^/# /'
		echo "not ok $n - $*"
	fi
	: > "$log"
}
# skip DESCRIPTION REASON
skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}
# note TEXT...: a line of the current check's diagnostics
note() {
	printf '%s\n' "$*" >> "$log"
}

# dk ACTION ARGS...: dkms on the private trees. dkms hands its environment
# to make: ARCH and CROSS_COMPILE cross-build (Debian's headers of 6.12 on
# set both themselves). The host's strip knows no ARM ELF: the cross
# binutils' strip stands in. sign_file: no module signing, and so no
# signing key in /var/lib/dkms (the guest's kernel does not insist on
# signatures); a key dkms would make anyway goes to $T.
dk() {
	env TMPDIR="$T/tmp" PATH="$T/bin:$PATH" ARCH="$K_ARCH" CROSS_COMPILE="$K_CROSS" \
		sign_file="$T/no-sign-file" mok_signing_key="$T/mok.key" \
		mok_certificate="$T/mok.pub" \
		${as_root[@]+"${as_root[@]}"} dkms "$@" \
		--dkmstree "$T/dkms" --sourcetree "$T/src" \
		--installtree "$T/root/lib/modules"
}
printf '#!/bin/sh\nexec %q "$@"\n' "$(command -v "${K_CROSS}strip" || echo "${K_CROSS}strip")" \
	> "$T/bin/strip"
chmod +x "$T/bin/strip"

# The kernel: its headers (kdir), version, modules
kd=$("$RK_TOP/scripts/debian-kernel.sh" "$k" 2> "$T/kernel.log") || kd=
ver=$(cat "$kd/version" 2> /dev/null) || ver=
kdir=${kd:+$kd/kdir}
if [ -z "$ver" ]; then
	tail -n 20 "$T/kernel.log" > "$log"
	note "scripts/debian-kernel.sh $k failed"
	why="no Debian kernel $k"
fi
dep="$T/root/lib/modules/$ver"
ko_dest="$dep$dest/$built.ko"

#
# 1. dkms add, of a copy of the checkout as a clone has it (tracked and new
# files; not out/ nor anything .gitignore names), like "dkms add ." on a
# board
#
added=1
if [ -n "$ver" ]; then
	if git -C "$RK_TOP" rev-parse --git-dir > /dev/null 2>&1; then
		(cd "$RK_TOP" && git ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do
				[ ! -e "$f" ] || printf '%s\0' "$f"
			done | tar --null -T - -cf -) | tar -C "$T/clone" -xf -
	else
		tar -C "$RK_TOP" --exclude=./out --exclude=.git -cf - . |
			tar -C "$T/clone" -xf -
	fi
	dk add "$T/clone" -k "$ver/$march" --kernelsourcedir "$kdir" >> "$log" 2>&1
	st=$?
	status=$(dk status "$mv" 2>> "$log")
	note "dkms status: $status"
	case "$status" in "$pkg/$pkgver"*": added") [ "$st" = 0 ] && added=0 ;; esac
	result "$added" "dkms $dkms_version add registers $mv from a copy of the checkout"
else
	result 1 "dkms $dkms_version add registers $mv from a copy of the checkout"
fi
[ "$added" = 0 ] || why=${why:-dkms add failed}

#
# 2. BUILD_EXCLUSIVE_CONFIG requires what the module's Kconfig entry
# depends on
#
deps=$(awk '/^config RK_DMA_HEAP$/ { f = 1; next } f && /^(config|menuconfig|endmenu|menu) / { f = 0 }
	f && /^[[:space:]]+depends on / { sub(/^[[:space:]]+depends on /, ""); print }' \
	"$RK_TOP/Kconfig" | grep -oE '[A-Z0-9_]+' | sort -u | tr '\n' ' ')
deps=${deps% }
st=0
[ -n "$deps" ] || { note "Kconfig: no 'depends on' for RK_DMA_HEAP"; st=1; }
for d in $deps; do
	case " $exclusive " in
	*" CONFIG_$d "*) ;;
	*) note "BUILD_EXCLUSIVE_CONFIG=\"$exclusive\" lacks CONFIG_$d (Kconfig: depends on $deps)"; st=1 ;;
	esac
done
result "$st" "BUILD_EXCLUSIVE_CONFIG requires what Kconfig's RK_DMA_HEAP depends on ($deps)"

#
# 3. dkms build refuses the kernel's headers with each option of
# BUILD_EXCLUSIVE_CONFIG turned the wrong way in their .config (a copy of
# the headers tree that differs in .config only)
#
desc="dkms build refuses (status 77) Linux $ver with any one option of BUILD_EXCLUSIVE_CONFIG turned the wrong way"
if [ -n "${why:-}" ]; then
	skip "$desc" "$why"
elif [ -z "$exclusive" ]; then
	note "dkms.conf has no BUILD_EXCLUSIVE_CONFIG"
	result 1 "$desc"
else
	fake="$T/kdir-flipped"
	st=0
	for opt in $exclusive; do
		rm -rf "$fake"
		mkdir -p "$fake"
		for f in "$kdir"/* "$kdir"/.[!.]*; do
			[ "${f##*/}" = .config ] || ln -s "$f" "$fake/"
		done
		case "$opt" in
		!*) opt=${opt#!}
			grep -v "^$opt=" "$kdir/.config" > "$fake/.config"
			echo "$opt=y" >> "$fake/.config"
			what="$opt=y" ;;
		*) grep -v "^$opt=" "$kdir/.config" > "$fake/.config"
			echo "# $opt is not set" >> "$fake/.config"
			what="no $opt" ;;
		esac
		dk build "$mv" -k "$ver/$march" --kernelsourcedir "$fake" > "$T/flip.log" 2>&1
		rc=$?
		if [ "$rc" != 77 ] || [ -e "$T/dkms/$mv/$ver" ]; then
			tail -n 3 "$T/flip.log" >> "$log"
			note "with $what: dkms build exited with status $rc$([ ! -e "$T/dkms/$mv/$ver" ] || echo ", and built the module")"
			st=1
			dk unbuild "$mv" -k "$ver/$march" --no-depmod > /dev/null 2>&1
		fi
	done
	result "$st" "$desc"
fi

#
# 4. dkms build
#
desc="dkms build $mv against Debian's linux-headers-$ver (-k $ver/$march)"
if [ -n "${why:-}" ]; then
	skip "$desc" "$why"
else
	dk build "$mv" -k "$ver/$march" --kernelsourcedir "$kdir" -j "$RK_JOBS" >> "$log" 2>&1
	st=$?
	built_ko=$T/dkms/$mv/$ver/$march/module/$built.ko
	if [ "$st" = 0 ] && [ ! -e "$built_ko" ]; then
		note "no $built.ko in $T/dkms/$mv/$ver/$march/module"
		st=1
	fi
	if [ "$st" != 0 ]; then
		cat "$T/dkms/$mv/build/make.log" "$T/dkms/$mv/$ver/$march/log/make.log" >> "$log" 2> /dev/null
		why="dkms build failed"
	fi
	result "$st" "$desc"
fi

#
# 5. dkms install, into a copy of the kernel's module tree
#
desc="dkms install puts $built.ko in INSTALLTREE/$ver$dest (DEST_MODULE_LOCATION), nowhere else"
if [ -n "${why:-}" ]; then
	skip "$desc" "$why"
else
	cp -a "$kd/modroot/lib/modules/$ver" "$T/root/lib/modules/"
	dk install "$mv" -k "$ver/$march" --kernelsourcedir "$kdir" --no-depmod >> "$log" 2>&1
	st=$?
	found=$(cd "$T/root/lib/modules" && find . -name "$built.ko*" | sort)
	note "found in the install tree: ${found:-nothing}"
	[ "$st" = 0 ] && [ "$found" = "./$ver$dest/$built.ko" ] || st=1
	status=$(dk status "$mv" 2>> "$log")
	note "dkms status: $status"
	case "$status" in "$pkg/$pkgver"*", $ver, $march: installed"*) ;; *) st=1 ;; esac
	[ "$st" = 0 ] || why="dkms install failed"
	result "$st" "$desc"
fi

#
# 6. vermagic: the same as the kernel's own modules'
#
desc="the installed module's vermagic is Linux $ver's (as its own modules')"
if [ -n "${why:-}" ]; then
	skip "$desc" "$why"
else
	want=$(modinfo -F vermagic "$kd/modroot/lib/modules/$ver/$(head -n 1 "$kd/modules.list")" 2>> "$log")
	got=$(modinfo -F vermagic "$ko_dest" 2>> "$log")
	note "vermagic of $built.ko: '$got'"
	note "vermagic of Linux $ver's modules: '$want'"
	st=1
	case "$got" in "$ver "*) [ "$got" = "$want" ] && st=0 ;; esac
	result "$st" "$desc"
fi

#
# 7. depmod and modprobe on the install tree, as on the board after the
# install
#
desc="depmod -e finds every symbol the module needs in Linux $ver; modprobe resolves rk_dma_heap to ${dest#/}/$built.ko"
if [ -n "${why:-}" ]; then
	skip "$desc" "$why"
else
	st=0
	out=$(depmod -b "$T/root" -e -E "$kdir/Module.symvers" "$ver" 2>&1) || st=1
	[ -z "$out" ] || { note "$out"; st=1; }
	out=$(modprobe -d "$T/root" -S "$ver" --show-depends rk_dma_heap 2>&1) || st=1
	note "modprobe --show-depends rk_dma_heap: $out"
	[ "${out% }" = "insmod $ko_dest" ] || st=1
	[ "$st" = 0 ] || why="depmod or modprobe failed on the install tree"
	result "$st" "$desc"
fi

#
# 8-11. The guest: the rig's module out, the dkms one in through modprobe
# (the install tree's module and depmod's indexes copied over the guest's
# /lib/modules/VERSION), and a real allocation
#
guest_desc=(
	"guest: the rig's own rk_dma_heap unloads (refcount 0, no holders)"
	"guest: modprobe rk_dma_heap loads the dkms module (the same file; its build ID in /sys/module/rk_dma_heap/notes)"
	"guest: rk_heap_alloc -t sizes_zeroed_and_inside_region passes on the dkms module"
	"guest: the dkms module unloads; no kernel warning since the rig's module went"
)
if [ -n "${why:-}" ]; then
	for d in "${guest_desc[@]}"; do skip "$d" "$why"; done
else
	build_id=$("${K_CROSS}readelf" -n "$ko_dest" 2> /dev/null | sed -n 's/.*Build ID: *//p')
	sha=$(sha256sum < "$ko_dest" | cut -d' ' -f1)
	mkdir -p "$T/guest/lib/modules/$ver${dest}"
	cp "$ko_dest" "$T/guest/lib/modules/$ver${dest}/"
	cp "$dep"/modules.* "$T/guest/lib/modules/$ver/"
	cat > "$T/guest.sh" <<EOF
#!/bin/sh
# run in the guest by scripts/dkms-check.sh: "ok N", "not ok N" or "skip N"
# (after a failure) for each check, its output as diagnostics
build_id=$build_id
sha=$sha
ko=/lib/modules/$ver$dest/$built.ko
EOF
	cat >> "$T/guest.sh" <<'EOF'
m=/sys/module/rk_dma_heap
n=0
failed=0
check() {
	n=$((n + 1))
	if [ "$failed" = 1 ]; then
		echo "skip $n"
	elif out=$("$@" 2>&1); then
		[ -z "$out" ] || echo "$out" | sed 's/^/# /'
		echo "ok $n"
	else
		echo "$out" | sed 's/^/# /'
		echo "not ok $n"
		failed=1
	fi
}
# the build ID of the loaded rk_dma_heap: the last 20 bytes of its note
loaded_id() {
	od -A n -v -t x1 "$m/notes/.note.gnu.build-id" | tr -d ' \n' |
		sed 's/.*\(.\{40\}\)$/\1/'
}
unload_rig() {
	echo "<5>rk dkms-check: unloading the rig's rk_dma_heap" > /dev/kmsg
	[ -d "$m" ] || { echo "rk_dma_heap is not loaded (qemu/init loads it)"; return 1; }
	id=$(loaded_id)
	echo "the rig's module: build ID $id"
	[ "$id" != "$build_id" ] || { echo "the rig's module has the dkms module's build ID"; return 1; }
	ref=$(cat "$m/refcnt")
	[ "$ref" = 0 ] || { echo "refcount $ref"; return 1; }
	holders=$(ls "$m/holders" 2>/dev/null)
	[ -z "$holders" ] || { echo "held by: $holders"; return 1; }
	rmmod rk_dma_heap || return 1
	[ ! -d "$m" ] || { echo "still loaded after rmmod"; return 1; }
}
load_dkms() {
	cp -r /mnt/extra/lib/modules/. /lib/modules/ || return 1
	got=$(sha256sum "$ko" | cut -d' ' -f1)
	[ "$got" = "$sha" ] || { echo "$ko: sha256 $got, not the installed one's $sha"; return 1; }
	modprobe rk_dma_heap || return 1
	[ -d "$m" ] || { echo "modprobe succeeded but $m is missing"; return 1; }
	id=$(loaded_id)
	echo "loaded: build ID $id"
	[ "$id" = "$build_id" ] || { echo "not the dkms module's build ID $build_id"; return 1; }
}
alloc() {
	[ -c /dev/rk_dma_heap/rk-dma-heap-cma ] || { echo "no /dev/rk_dma_heap/rk-dma-heap-cma"; return 1; }
	out=$(rk_heap_alloc -t sizes_zeroed_and_inside_region 2>&1)
	st=$?
	echo "$out"
	# a filter that matches no test passes too
	echo "$out" | grep -q '^ok [0-9]* heap\.sizes_zeroed_and_inside_region$' ||
		{ echo "rk_heap_alloc ran no test sizes_zeroed_and_inside_region"; return 1; }
	return $st
}
unload_dkms() {
	rmmod rk_dma_heap || return 1
	[ ! -d "$m" ] || { echo "still loaded after rmmod"; return 1; }
	bad=$(dmesg | sed -n '/rk dkms-check: unloading/,$p' |
		grep -E 'WARNING:|BUG[: ]|Oops|Unable to handle|Kernel panic|UBSAN|KASAN|refcount_t:|list_(add|del) corruption|circular locking|recursive locking|suspicious RCU') || true
	[ -z "$bad" ] || { echo "$bad"; return 1; }
}
check unload_rig
check load_dkms
check alloc
check unload_dkms
exit 0
EOF
	RK_GUEST_TIMEOUT=${RK_GUEST_TIMEOUT:-600} \
		"$RK_TOP/scripts/guest.sh" run "$k" "$T/guest.sh" "$T/guest" > "$T/guest.log" 2>&1
	gst=$?
	buf=$T/guest-diag
	: > "$buf"
	declare -A res=()
	while IFS= read -r line; do
		case "$line" in
		"ok "[0-9]* | "not ok "[0-9]* | "skip "[0-9]*)
			i=${line##* }
			res[$i]=${line% *}
			[ "${res[$i]}" != "not ok" ] || cp "$buf" "$T/guest-diag-$i"
			: > "$buf" ;;
		*) printf '%s\n' "$line" >> "$buf" ;;
		esac
	done < "$T/guest.log"
	missing=0
	for i in 1 2 3 4; do
		d=${guest_desc[$((i - 1))]}
		case "${res[$i]:-}" in
		ok) result 0 "$d" ;;
		skip) skip "$d" "an earlier guest check failed" ;;
		"not ok")
			sed 's/^# //' "$T/guest-diag-$i" > "$log"
			result 1 "$d" ;;
		*)
			if [ "$missing" = 0 ]; then
				tail -n 30 "$T/guest.log" > "$log"
				note "scripts/guest.sh run $k exited with status $gst, no result for this check"
				result 1 "$d"
				missing=1
			else
				skip "$d" "the guest gave no result"
			fi ;;
		esac
	done
fi

#
# 12. dkms remove --all, whatever happened since the add
#
desc="dkms remove --all: no $built.ko left in the install tree, $pkg gone from the dkms tree"
if [ "$added" != 0 ]; then
	skip "$desc" "${why:-dkms add failed}"
else
	dk remove "$mv" --all --no-depmod >> "$log" 2>&1
	st=$?
	left=$(cd "$T/root/lib/modules" && find . -name "$built.ko*")
	[ -z "$left" ] || { note "left in the install tree: $left"; st=1; }
	[ ! -e "$T/dkms/$pkg" ] || { note "left in the dkms tree: $(cd "$T/dkms" && find "$pkg" | head)"; st=1; }
	status=$(dk status 2>> "$log")
	[ -z "$status" ] || { note "dkms status: $status"; st=1; }
	result "$st" "$desc"
fi
[ "$n" = 12 ] || echo "# scripts/dkms-check.sh: $n results for a plan of 12"
exit 0
