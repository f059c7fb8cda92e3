#!/usr/bin/env bash
# Prepare (or reuse) one of Debian's prebuilt test kernels: its boot image,
# the modules the tests load and a headers tree to build rk_dma_heap.ko
# against, from Debian's linux-image and linux-headers packages.
# Usage: scripts/debian-kernel.sh KERNEL   (prints the build directory)
#
# The directory, complete once it has .done:
#   boot-image     the kernel for qemu-system-arm/-aarch64 -M virt -kernel
#   modroot/lib/modules/VERSION/
#                  the modules in $modules below and all they depend on,
#                  uncompressed, with modules.dep for busybox modprobe
#   modules.list   those modules, relative to modroot/lib/modules/VERSION
#   kdir           the headers tree: make -C kdir M=... ARCH=$K_ARCH
#                  CROSS_COMPILE=$K_CROSS modules
#   version        the kernel release (uname -r in the guest)
#   packages       the Debian packages all this comes from
#   headers/, sysroot/   what kdir is made of (see below)
set -euo pipefail
. "$(dirname "$0")/common.sh"

# Bump when this script changes what it prepares.
recipe=1
# The guest loads these (and rk_dma_heap.ko); the rest of Debian's modules
# would only make the initramfs larger.
modules="vgem vivid"

k=${1:?usage: debian-kernel.sh KERNEL}
rk_kernel "$k"
[ "$K_KIND" = debian ] || rk_die "$k is a debug kernel (scripts/kernel.sh)"
suite=$K_SUITE
arch=$K_DEB
case "$K_ARCH" in
arm) flavour=armmp qemu=qemu-arm-static ;;
arm64) flavour=arm64 qemu=qemu-aarch64-static ;;
esac

# candidates SUITE PKG[:ARCH]...: one line per package of SUITE that exists
# for $arch or all: "NAME ARCH VERSION DEPENDS". One apt-cache call for all
# of them: each call reads the whole index, seconds for sid. (apt takes
# PKG:all for the host's architecture when PKG is not Architecture: all.)
candidates() {
	local s=$1
	shift
	rk_apt_update "$s"
	rk_apt "$s" apt-cache show --no-all-versions "$@" 2>/dev/null |
		awk -v arch="$arch" '/^Package: /{p=$2} /^Architecture: /{a=$2}
			/^Version: /{v=$2} /^Depends: /{d=substr($0, 10)}
			/^$/{if (a == arch || a == "all") print p, a, v, d; p = a = v = d = ""}
			END{if (a == arch || a == "all") print p, a, v, d}'
}

# depends NAME ERE < candidates: what NAME depends on whose name matches
# ERE (first alternatives, without versions)
depends() {
	awk -v p="$1" '$1 == p {$1 = $2 = $3 = ""; print}' |
		tr ',' '\n' | sed 's/^ *//; s/[ |].*//; s/:any$//' | grep -E "$2" || true
}

# Name the packages: sid renames its kernel packages with every upload, so
# ask the metapackages which are today's.
meta=$(candidates "$suite" "linux-image-$flavour:$arch" "linux-headers-$flavour:$arch")
image=$(depends "linux-image-$flavour" '^linux-image-[0-9]' <<< "$meta")
headers=$(depends "linux-headers-$flavour" '^linux-headers-[0-9]' <<< "$meta")
[ -n "$image" ] || rk_die "Debian $suite: linux-image-$flavour:$arch names no linux-image package"
ver=${image#linux-image-}
[ "$headers" = "linux-headers-$ver" ] ||
	rk_die "Debian $suite: linux-image-$flavour is at $ver but linux-headers-$flavour at '$headers' (mirror mid-update?)"
ver_re=${ver//./\\.}
ver_re=${ver_re//+/\\+}
main=$(candidates "$suite" "$image:$arch" "$headers:$arch")
# sid splits the image into linux-{binary,modules,base}-VERSION (the kernel,
# its modules, its config and DTBs); the older suites ship one package.
image_parts=$(depends "$image" "^linux-(binary|modules|base)-$ver_re\$" <<< "$main")
# The headers of the flavour include the -common ones and use the tools
# (scripts/, tools/) of linux-kbuild, whose name differs between suites.
common=$(depends "$headers" '^linux-headers-.*-common$' <<< "$main")
kbuild=$(depends "$headers" '^linux-kbuild-' <<< "$main")
[ "$(wc -w <<< "$common $kbuild")" = 2 ] ||
	rk_die "Debian $suite: $headers depends on '$common' '$kbuild', expected one -common and one linux-kbuild package"
# The -common headers are Architecture: all, the rest $arch: ask for both.
query=()
for p in $image $image_parts $headers $common $kbuild; do
	query+=("$p:$arch" "$p:all")
done
# "NAME:ARCH VERSION", the form rk_deb_fetch takes, one package a line
pkgs=$(candidates "$suite" "${query[@]}" | awk '{print $1 ":" $2, $3}' | sort)
for p in $image $image_parts $headers $common $kbuild; do
	grep -q "^$p:" <<< "$pkgs" || rk_die "Debian $suite has no package $p for $arch"
done
key=$( { echo "$pkgs"; echo "recipe $recipe"; echo "modules $modules"; } |
	sha256sum | cut -c1-12)
out="$RK_CACHE/build/$k-$key"
rk_kernel_lock "$k" "$out"
command -v "$qemu" > /dev/null ||
	rk_die "$qemu not found: Debian's kbuild tools for $arch run under it (scripts/deps.sh)"
command -v depmod > /dev/null || rk_die "depmod not found (kmod, scripts/deps.sh)"

rk_log "preparing Debian's Linux $ver for $k in $out"
rm -rf "$out"
mkdir -p "$out"
echo "$pkgs" > "$out/packages"
echo "$ver" > "$out/version"
# The image packages are unpacked here, whole, and removed at the end.
tmp="$out/tmp"
fetch() {
	rk_deb_fetch "$suite" "$(awk -v p="$1" 'index($1, p ":") == 1 {print $1}' <<< "$pkgs")" ||
		rk_die "cannot download $1 from Debian $suite"
}

#
# The boot image and the modules
#
for p in $image $image_parts; do
	deb=$(fetch "$p")
	rk_log "unpacking $(basename "$deb")"
	rk_deb_unpack "$deb" "$tmp/image"
done
# sid moved the modules (and the kernel) to /usr/lib/modules; the host's
# depmod (kmod 30) only looks in /lib/modules.
if [ ! -e "$tmp/image/lib/modules/$ver" ] && [ -d "$tmp/image/usr/lib/modules/$ver" ]; then
	mkdir -p "$tmp/image/lib/modules"
	ln -s "../../usr/lib/modules/$ver" "$tmp/image/lib/modules/$ver"
fi
mods="$tmp/image/lib/modules/$ver"
[ -d "$mods/kernel" ] || rk_die "$image has no modules in /lib/modules/$ver or /usr/lib/modules/$ver"
vmlinuz=
for f in "$tmp/image/boot/vmlinuz-$ver" "$mods/vmlinuz"; do
	if [ -e "$f" ]; then vmlinuz=$f; fi
done
[ -n "$vmlinuz" ] || rk_die "$image has no /boot/vmlinuz-$ver nor /usr/lib/modules/$ver/vmlinuz"

# bytes FILE OFFSET COUNT: those bytes of FILE, in hex
bytes() {
	od -An -tx1 -j"$2" -N"$3" "$1" | tr -d ' \n'
}
case "$K_ARCH" in
arm)
	# A zImage, which QEMU boots as it is (magic 0x016f2818 at 0x24).
	[ "$(bytes "$vmlinuz" 36 4)" = 18286f01 ] ||
		rk_die "$vmlinuz is not an ARM zImage"
	cp "$vmlinuz" "$out/boot-image" ;;
arm64)
	# The signed images of bookworm-backports and sid are a plain Image
	# (an EFI binary); an unsigned one is gzipped, which QEMU 7.2 would
	# unpack itself only up to 64 MiB: unpack it here in any case.
	case "$(bytes "$vmlinuz" 0 2)" in
	1f8b) gzip -dc "$vmlinuz" > "$out/boot-image" ;;
	*) cp "$vmlinuz" "$out/boot-image" ;;
	esac
	# An EFI zboot image ("zimg" at 4) needs QEMU 8.1 or an EFI firmware.
	[ "$(bytes "$out/boot-image" 4 4)" != 7a696d67 ] ||
		rk_die "$vmlinuz is an EFI zboot image, which this script cannot unpack yet"
	[ "$(bytes "$out/boot-image" 56 4)" = 41524d64 ] ||
		rk_die "$vmlinuz is not an arm64 Image (no ARM\\x64 magic at 56)" ;;
esac

# Debian ships no modules.dep (the package's postinst makes it): make one
# for the whole tree, take the modules we need and what they depend on
# (modules.dep lists all of that, not only direct dependencies).
rk_log "picking $modules and their dependencies from Linux $ver"
depmod -b "$tmp/image" "$ver"
: > "$tmp/closure"
for m in $modules; do
	line=$(grep -E "(^|/)$m\.ko(\.[a-z]+)?:" "$mods/modules.dep" || true)
	if [ -n "$line" ]; then
		tr -d ':' <<< "$line" | tr ' ' '\n' | grep . >> "$tmp/closure"
	elif grep -qE "(^|/)$m\.ko\$" "$mods/modules.builtin"; then
		rk_log "Linux $ver has $m built in"
	else
		rk_die "Linux $ver has no module $m"
	fi
done
# Debian's 6.12 and 7.2 modules are .ko.xz. Uncompressed, they load with
# any busybox modprobe (its xz support is a build option, zstd it has
# none) and whatever the kernel's CONFIG_MODULE_DECOMPRESS.
modroot="$out/modroot/lib/modules/$ver"
mkdir -p "$modroot"
sort -u "$tmp/closure" | while read -r m; do
	ko=${m%.ko*}.ko
	mkdir -p "$(dirname "$modroot/$ko")"
	case "$m" in
	*.ko) cp "$mods/$m" "$modroot/$ko" ;;
	*.ko.xz) xz -dc "$mods/$m" > "$modroot/$ko" ;;
	*.ko.zst) zstd -dcq "$mods/$m" > "$modroot/$ko" ;;
	*.ko.gz) gzip -dc "$mods/$m" > "$modroot/$ko" ;;
	*) rk_die "cannot unpack module $m" ;;
	esac
	echo "$ko"
done > "$out/modules.list"
# modules.builtin lets modprobe of a built-in module succeed.
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[ ! -e "$mods/$f" ] || cp "$mods/$f" "$modroot/"
done
depmod -b "$out/modroot" "$ver"
for m in $modules; do
	modprobe -d "$out/modroot" -S "$ver" --show-depends "$m" > /dev/null ||
		rk_die "modroot: modprobe cannot resolve $m"
done
rk_log "$(wc -l < "$out/modules.list") modules, $(du -sh "$out/modroot" | cut -f1)"

#
# The headers tree
#
hdr="$out/headers"
for p in $headers $common $kbuild; do
	deb=$(fetch "$p")
	rk_log "unpacking $(basename "$deb")"
	rk_deb_unpack "$deb" "$hdr"
done
kdir="$hdr/usr/src/linux-headers-$ver"
tools="$hdr/usr/lib/$kbuild"
[ -e "$kdir/Makefile" ] || rk_die "$headers has no /usr/src/linux-headers-$ver/Makefile"
# scripts and tools are relative links into linux-kbuild: they resolve
# here as they do in /usr.
[ -d "$kdir/scripts/mod" ] || rk_die "$kdir/scripts does not lead to $kbuild"
ln -s "headers/usr/src/linux-headers-$ver" "$out/kdir"
# The tree names itself and the -common tree by their absolute paths in
# /usr/src.
sed -i "s|/usr/src/|$hdr/usr/src/|g" "$kdir/Makefile"
# The kernel was built with Debian's gcc of its time (gcc-10 for 5.10,
# gcc-16 for sid), which .kernelvariables names; build with the cross
# compiler we have instead. (Its CROSS_COMPILE, when set, is ours.)
# shellcheck disable=SC2016 # a make variable, not a shell one
sed -i 's/^CC = .*/CC = $(CROSS_COMPILE)gcc/' "$kdir/.kernelvariables"
# The configuration also records what that gcc could do, and the headers
# and Makefiles use it. Where ours cannot, drop the symbol: the kernel then
# takes the way it has for such compilers (-falign-functions, no
# annotation), as if built with ours. The probes are like Kconfig's.
conf="$kdir/include/config/auto.conf"
while read -r sym flag code; do
	grep -q "^CONFIG_$sym=y" "$conf" || continue
	if [ "$flag" = - ]; then flag=; fi
	if echo "$code" | "${K_CROSS}gcc" -Werror ${flag:+"$flag"} -c -x c -o /dev/null - 2>/dev/null; then
		continue
	fi
	rk_log "${K_CROSS}gcc lacks what CONFIG_$sym says; building as without it"
	sed -i "/^CONFIG_$sym=/d" "$conf"
	sed -i "/^#define CONFIG_$sym /d" "$kdir/include/generated/autoconf.h"
done <<'EOF'
CC_HAS_MIN_FUNCTION_ALIGNMENT -fmin-function-alignment=8
CC_HAS_COUNTED_BY - struct s { int n; int a[] __attribute__((__counted_by__(n))); };
CC_HAS_COUNTED_BY_PTR - struct s { int n; int *a __attribute__((__counted_by__(n))); };
CC_HAS_ASSUME - int f(int x) { __attribute__((__assume__(x > 0))); return x; }
CC_HAS_MULTIDIMENSIONAL_NONSTRING - char a[2][4] __attribute__((__nonstring__));
EOF

# Debian's linux-kbuild for $arch holds $arch binaries (fixdep, modpost...):
# the amd64 package is no way out, as its modpost knows the device ID
# layout of amd64 and rejects the device tables of ARM32 modules. Run the
# $arch ones under QEMU's user mode, with their libraries (libc6 of the
# same suite: sid's need a newer glibc than this host has) in a sysroot.
rk_log "making the kbuild tools of $kbuild run under $qemu"
sysroot="$out/sysroot"
# bookworm-backports has the kernel, bookworm its libraries.
libsuite=${suite%-backports}
# From 6.12 on, linux-kbuild also wants the pahole the kernel was built
# with: modules get BTF (arm64) with it, and the Makefile warns without it.
todo="libc6 $(candidates "$suite" "$kbuild:$arch" | depends "$kbuild" '^(lib|zlib|pahole$)')"
libs=" "
while [ -n "${todo// /}" ]; do
	new=()
	for p in $todo; do
		case "$libs" in *" $p "*) continue ;; esac
		libs="$libs$p "
		new+=("$p")
	done
	[ ${#new[@]} -gt 0 ] || break
	info=$(candidates "$libsuite" "${new[@]/%/:$arch}")
	todo=
	for p in "${new[@]}"; do
		grep -q "^$p " <<< "$info" || rk_die "Debian $libsuite has no $p for $arch"
		todo="$todo $(depends "$p" '^(lib|zlib)' <<< "$info")"
	done
done
for p in $libs; do
	deb=$(rk_deb_fetch "$libsuite" "$p:$arch") ||
		rk_die "cannot download $p:$arch from Debian $libsuite"
	rk_deb_unpack "$deb" "$sysroot"
done
echo "sysroot ($libsuite):$libs" >> "$out/packages"
# The dynamic loader is in /lib; sid's libc6 has it in /usr/lib only and
# relies on the merged /usr.
[ -e "$sysroot/lib" ] || ln -s usr/lib "$sysroot/lib"

# Each ELF binary of linux-kbuild becomes NAME.elf, and NAME a script that
# runs it through QEMU (this host has no binfmt_misc). Debian's modpost and
# objtool are dispatchers that exec argv[0].real-VARIANT: with argv[0] set
# to the script's path (-0), that is another such script.
qemu=$(command -v "$qemu")
mapfile -t elfs < <(find "$tools" -type f -perm -u+x)
for f in "${elfs[@]}"; do
	[ "$(bytes "$f" 0 4)" = 7f454c46 ] || continue
	mv "$f" "$f.elf"
	cat > "$f" <<-EOF
	#!/bin/sh
	# Debian's $arch build of this tool, run by QEMU on this amd64 host
	# (scripts/debian-kernel.sh)
	exec $(printf %q "$qemu") -L $(printf %q "$sysroot") -0 "\$0" "\$0.elf" "\$@"
	EOF
	chmod +x "$f"
done
if [ -x "$sysroot/usr/bin/pahole" ]; then
	mkdir -p "$out/bin"
	cat > "$out/bin/pahole" <<-EOF
	#!/bin/sh
	# Debian's $arch pahole, run by QEMU (scripts/debian-kernel.sh)
	exec $(printf %q "$qemu") -L $(printf %q "$sysroot") $(printf %q "$sysroot/usr/bin/pahole") "\$@"
	EOF
	chmod +x "$out/bin/pahole"
	echo "PAHOLE = $out/bin/pahole" >> "$kdir/.kernelvariables"
fi
# A library the sysroot lacks would show only when a tool first runs.
mapfile -t elfs < <(find "$tools" -name "*.elf")
[ ! -e "$out/bin/pahole" ] || elfs+=("$sysroot/usr/bin/pahole")
need=$("${K_CROSS}readelf" -d "${elfs[@]}" |
	sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort -u)
for so in $need; do
	[ -n "$(find "$sysroot" -name "$so" -print -quit)" ] ||
		rk_die "$kbuild needs $so, which none of$libs has"
done
msg=$("$kdir/scripts/basic/fixdep" 2>&1 || true)
case "$msg" in
*sage*) ;;
*) rk_die "$kbuild's fixdep does not run under $qemu: $msg" ;;
esac

# Prove the tree: a module with an OF device table (which modpost turns
# into aliases, where amd64's modpost fails) must build and carry this
# kernel's vermagic.
rk_log "building a test module against $kdir"
t="$tmp/testmod"
mkdir -p "$t"
cat > "$t/rk_kdir_test.c" <<'EOF'
#include <linux/module.h>
#include <linux/mod_devicetable.h>

static const struct of_device_id rk_kdir_test_of_match[] = {
	{ .compatible = "rockchip,rk-kdir-test" },
	{ }
};
MODULE_DEVICE_TABLE(of, rk_kdir_test_of_match);

static int __init rk_kdir_test_init(void)
{
	return 0;
}
module_init(rk_kdir_test_init);

static void __exit rk_kdir_test_exit(void)
{
}
module_exit(rk_kdir_test_exit);

MODULE_DESCRIPTION("kdir test of scripts/debian-kernel.sh");
MODULE_LICENSE("GPL");
EOF
echo 'obj-m := rk_kdir_test.o' > "$t/Kbuild"
if ! make -C "$out/kdir" M="$t" ARCH="$K_ARCH" CROSS_COMPILE="$K_CROSS" modules \
	> "$out/kdir-test.log" 2>&1; then
	tail -n 20 "$out/kdir-test.log" >&2
	rk_die "the test module does not build against $kdir (log: $out/kdir-test.log)"
fi
vermagic=$(modinfo -F vermagic "$t/rk_kdir_test.ko")
case "$vermagic" in
"$ver "*) ;;
*) rk_die "the test module has vermagic '$vermagic', not $ver's" ;;
esac
modinfo -F alias "$t/rk_kdir_test.ko" | grep -q 'rockchip,rk-kdir-test' ||
	rk_die "modpost left the test module without its of: alias"

rm -rf "$tmp"
touch "$out/.done"
# Older preparations of this kernel are never used again. (The key has 12
# characters: debian-6.1-* alone would match debian-6.12-... too.)
for old in "$RK_CACHE/build/$k-"????????????; do
	[ "$old" = "$out" ] || rm -rf "$old"
done
echo "$out"
