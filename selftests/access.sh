#!/bin/sh
# Access for normal users: the mdev line of the README gives the node to
# group video, mode 0660 (what the shipped udev rule does where udev runs);
# then a member of video allocates and maps, and a non-member gets EACCES.
. /tests/tap.sh
NODE=/dev/rk_dma_heap/rk-dma-heap-cma
CLASS=/sys/class/rk_dma_heap/rk-dma-heap-cma
# the line in README.md, "Using it with mpp, librga and rknpu"
MDEV_LINE='SUBSYSTEM=rk_dma_heap;.* root:video 0660'
VIDEO=44

setup() {
	mkdir -p /etc
	grep -q '^video:' /etc/group 2>/dev/null ||
		echo "video:x:$VIDEO:" >> /etc/group
	grep -q '^root:' /etc/group 2>/dev/null || echo "root:x:0:" >> /etc/group
	# as on a board: mdev looks the names up
	grep -q '^root:' /etc/passwd 2>/dev/null ||
		echo "root:x:0:0:root:/root:/bin/sh" >> /etc/passwd
	echo "$MDEV_LINE" > /etc/mdev.conf
}

# the event the kernel sends when the node appears, handed to mdev as the
# kernel's hotplug helper would
mdev_add() {
	dev=$(readlink -f "$CLASS")
	# shellcheck disable=SC2046
	env -i ACTION=add DEVPATH="${dev#/sys}" SUBSYSTEM=rk_dma_heap \
		$(cat "$CLASS/uevent") busybox mdev
}

mdev_rule() {
	expect_eq "node before mdev (mode uid gid)" "crw------- 0 0" \
		"$(stat -c '%A %u %g' "$NODE")" || return 1
	mdev_add || return 1
	expect_eq "node after mdev (mode uid gid)" "crw-rw---- 0 $VIDEO" \
		"$(stat -c '%A %u %g' "$NODE")"
}

member() {
	expect_eq "uid 1000, in group video" "mapped 65536" \
		"$(rk_heap_as 1000 1000 "$VIDEO")"
}

non_member() {
	expect_eq "uid 1001, not in group video" "open EACCES" \
		"$(rk_heap_as 1001 1001 -)"
}

proc_modes() {
	expect_eq "info node" "-r--------" \
		"$(stat -c %A /proc/rk_dma_heap/rk-dma-heap-info)" || return 1
	expect_eq "usage node" "-r--r--r--" \
		"$(stat -c %A /proc/rk_dma_heap/rk-dma-heap-usage)"
}

setup
tap_plan 4
tap_check "the README's mdev line gives the node to root:video, mode 0660" mdev_rule
tap_check "a member of group video allocates 64 KiB, maps it, reads back what it wrote" member
tap_check "a user outside group video gets EACCES from open" non_member
tap_check "the proc nodes keep their modes" proc_modes
# the node as the module made it, for the tests after this one
chown 0:0 "$NODE"
chmod 0600 "$NODE"
rm -f /etc/mdev.conf
tap_done
