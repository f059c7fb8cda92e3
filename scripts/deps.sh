#!/usr/bin/env bash
# Install the host packages the build and the QEMU test rig need, and fetch
# the guests' busybox. Idempotent: does nothing when everything is present.
# Tolerates one transient failure of the package index download. Kernel
# sources, prebuilt kernels, libdrm for the guests and busybox come from
# Debian's suites through scripts/debian.sh, downloaded into the cache and
# never installed: nothing foreign replaces what the host has.
set -euo pipefail
. "$(dirname "$0")/common.sh"

# fetch_busybox DEBARCH: the guest's static busybox, in the cache
fetch_busybox() {
	local dir="$RK_CACHE/busybox-$1" deb
	[ -x "$dir/busybox" ] && return 0
	deb=$(rk_deb_fetch bookworm "busybox-static:$1") || return 1
	rm -rf "$dir.tmp"
	dpkg-deb -x "$deb" "$dir.tmp"
	mkdir -p "$dir"
	cp "$dir.tmp/bin/busybox" "$dir/busybox"
	rm -rf "$dir.tmp"
}

pkgs=(
	make gcc bc flex bison cpio xz-utils zstd kmod python3 perl gzip
	libssl-dev libelf-dev
	gcc-arm-linux-gnueabihf libc6-dev-armhf-cross
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	qemu-system-arm qemu-user-static
	device-tree-compiler dt-schema sparse
	# scripts/dkms-check.sh runs it on trees of its own, never the host's
	dkms
)

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	echo ">>> installing: ${missing[*]}" >&2
	# A mirror that is mid-sync sometimes fails one index; the second try
	# normally succeeds, and apt can still work from the indexes it did get.
	$sudo apt-get update -q || { sleep 5; $sudo apt-get update -q || true; }
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" ||
		{ sleep 5; $sudo apt-get update -q || true;
		  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; }
fi
for a in armhf arm64; do
	fetch_busybox "$a" || rk_die "cannot download busybox-static:$a"
done
