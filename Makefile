# SPDX-License-Identifier: GPL-2.0
#
# rk_dma_heap: the out-of-tree module build, and the QEMU test rig.
#
#   make [KDIR=...] [ARCH=... CROSS_COMPILE=...]   build rk-dma-heap.ko
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

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	if [ -d $(KDIR) ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	rm -rf out

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

.PHONY: all modules clean check demo shell run bench
