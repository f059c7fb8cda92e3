#!/usr/bin/env bash
# Install the Debian packages the build and the QEMU test rig need.
# Idempotent: does nothing when everything is present. Tolerates one
# transient failure of the package index download.
set -euo pipefail
. "$(dirname "$0")/common.sh"

# The guest's busybox (ARM, static) is unpacked into the cache rather than
# installed: busybox-static:armhf would replace the host's /bin/busybox.
fetch_busybox() {
	local dir="$RK_CACHE/busybox-armhf" tmp
	[ -x "$dir/busybox" ] && return 0
	tmp=$(mktemp -d)
	chmod 777 "$tmp"	# apt downloads as user _apt, which must write there
	(cd "$tmp" && apt-get download -q busybox-static:armhf) || return 1
	dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/x"
	mkdir -p "$dir"
	cp "$tmp/x/bin/busybox" "$dir/busybox"
	rm -rf "$tmp"
}

pkgs=(
	make gcc bc flex bison cpio xz-utils kmod python3 perl gzip
	libssl-dev libelf-dev
	gcc-arm-linux-gnueabihf libc6-dev-armhf-cross
	qemu-system-arm device-tree-compiler dt-schema sparse
	linux-source-6.1 linux-source-6.12
	libdrm-dev:armhf
)

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	fetch_busybox && exit 0
fi

sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
echo ">>> installing: ${missing[*]}" >&2
if ! dpkg --print-foreign-architectures | grep -qx armhf; then
	$sudo dpkg --add-architecture armhf
fi
# A mirror that is mid-sync sometimes fails one index; the second try
# normally succeeds, and apt can still work from the indexes it did get.
$sudo apt-get update -q || { sleep 5; $sudo apt-get update -q || true; }
export DEBIAN_FRONTEND=noninteractive
[ ${#missing[@]} -eq 0 ] || $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" ||
	{ sleep 5; $sudo apt-get update -q || true;
	  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; }
fetch_busybox || { $sudo apt-get update -q || true; fetch_busybox; } ||
	rk_die "cannot download busybox-static:armhf"
