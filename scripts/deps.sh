#!/usr/bin/env bash
# Install the Debian packages the build and the QEMU test rig need.
# Idempotent: does nothing when everything is present. Tolerates one
# transient failure of the package index download.
set -euo pipefail

pkgs=(
	make gcc bc flex bison cpio xz-utils kmod python3 perl gzip
	libssl-dev libelf-dev
	gcc-arm-linux-gnueabihf libc6-dev-armhf-cross
	qemu-system-arm device-tree-compiler dt-schema sparse
	linux-source-6.1 linux-source-6.12
	busybox-static:armhf libdrm-dev:armhf
)

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

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
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" ||
	{ sleep 5; $sudo apt-get update -q || true;
	  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; }
