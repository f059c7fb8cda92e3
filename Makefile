# SPDX-License-Identifier: GPL-2.0
#
# rk_dma_heap: the out-of-tree module build, and the QEMU test rig.
#
#   make [KDIR=...] [ARCH=... CROSS_COMPILE=...]   build rk-dma-heap.ko
#   make install [KDIR=...] [DESTDIR=...]   install it (lib/modules/VERSION/
#                                       updates), the udev rule, the
#                                       modprobe.d softdeps and the
#                                       modules-load.d entry
#   make uninstall [KDIR=...] [DESTDIR=...] remove what install installed
#   make top [CROSS_COMPILE=...]        build tools/rk-dma-heap-top (libc only)
#   make check                          build the kernels, boot each, test
#   make demo  [KERNEL=6.12]            boot, allocate a few buffers, show them
#   make shell [KERNEL=...]             the same guest with a shell
#   make run SCRIPT=file [FILES=dir] [KERNEL=...]   run a script in the guest
#   make bench [KERNEL="bench-7.2 bench-arm64-7.2 ..."]   rk-dma-heap-cma
#                                       beside mainline's CMA and system
#                                       heaps (default bench-6.12)
#   KERNEL is one of scripts/common.sh's RK_KERNELS or RK_BSP_KERNELS:
#   5.10, 6.1, 6.12, 7.2 (ARM32 debug), arm64-6.12, arm64-7.2 (KASAN),
#   debian-5.10 ... (Debian's), bsp-5.10 (Rockchip's RV1106 kernel, from
#   BSP_SRC=/path or the cache), or RK_BENCH_KERNELS (bench-6.12, ...:
#   the debug kernels less debugging, for make bench)
#
# The module itself is described by Kbuild (and Kconfig in a kernel tree).

KDIR ?= /lib/modules/$(shell uname -r)/build
KERNEL ?= 6.12

# make install: where things go, under DESTDIR (an image's root, or / )
KVER ?= $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)
MODDIR ?= updates
UDEVRULESDIR ?= /etc/udev/rules.d
MODPROBEDIR ?= /etc/modprobe.d
MODULESLOADDIR ?= /etc/modules-load.d
BINDIR ?= /usr/bin

# rk-dma-heap-top, the user-space tool: libc only, for the board's compiler
# (Debian's cross compilers have no CROSS_COMPILE-cc, hence gcc)
TOOL_CC ?= $(CROSS_COMPILE)gcc
TOOL_CFLAGS ?= -O2 -Wall

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

top: rk-dma-heap-top

rk-dma-heap-top: tools/rk-dma-heap-top.c
	$(TOOL_CC) $(TOOL_CFLAGS) -D_FILE_OFFSET_BITS=64 $(LDFLAGS) -o $@ $<

# depmod only for the running system's tree; an image builder runs its own
install: modules top
	@test -n "$(KVER)" || { echo "no kernel release in $(KDIR)/include/config/kernel.release: give KDIR or KVER" >&2; exit 2; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=$(MODDIR) DEPMOD=true modules_install
	install -D -m 0644 dist/60-rk-dma-heap.rules \
		$(DESTDIR)$(UDEVRULESDIR)/60-rk-dma-heap.rules
	install -D -m 0644 dist/rk_dma_heap-modprobe.conf \
		$(DESTDIR)$(MODPROBEDIR)/rk_dma_heap.conf
	install -D -m 0644 dist/rk_dma_heap-modules-load.conf \
		$(DESTDIR)$(MODULESLOADDIR)/rk_dma_heap.conf
	install -D -m 0755 rk-dma-heap-top $(DESTDIR)$(BINDIR)/rk-dma-heap-top
	$(if $(DESTDIR),,depmod -a $(KVER))

uninstall:
	@test -n "$(KVER)" || { echo "no kernel release in $(KDIR)/include/config/kernel.release: give KDIR or KVER" >&2; exit 2; }
	rm -f $(DESTDIR)/lib/modules/$(KVER)/$(MODDIR)/rk-dma-heap.ko \
		$(DESTDIR)/lib/modules/$(KVER)/$(MODDIR)/rk-dma-heap.ko.* \
		$(DESTDIR)$(UDEVRULESDIR)/60-rk-dma-heap.rules \
		$(DESTDIR)$(MODPROBEDIR)/rk_dma_heap.conf \
		$(DESTDIR)$(MODULESLOADDIR)/rk_dma_heap.conf \
		$(DESTDIR)$(BINDIR)/rk-dma-heap-top
	$(if $(DESTDIR),,depmod -a $(KVER))

clean:
	if [ -d $(KDIR) ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	rm -rf out rk-dma-heap-top

check:
	scripts/check.sh

demo shell:
	scripts/guest.sh $@ $(KERNEL)

run:
	@test -n "$(SCRIPT)" || { echo "usage: make run SCRIPT=file [FILES=dir] [KERNEL=6.12]" >&2; exit 2; }
	scripts/guest.sh run $(KERNEL) "$(SCRIPT)" "$(FILES)"

# the bench- kernels (no debugging) unless KERNEL is given
bench:
	scripts/bench.sh $(if $(filter file,$(origin KERNEL)),bench-6.12,$(KERNEL))

.PHONY: all modules top install uninstall clean check demo shell run bench
