// SPDX-License-Identifier: GPL-2.0
/*
 * The Rockchip BSP's boot argument rk_dma_heap_cma=SIZE[@BASE], for
 * rk_dma_heap built into a BSP kernel (built only then: a module loads
 * long after memory is handed out).
 *
 * The BSP's arch code calls rk_dma_heap_cma_setup() once memblock knows
 * the device tree's reserved regions. Unless the device tree has an
 * enabled "rockchip,rk-dma-heap-cma" node, whose region then wins, it
 * reserves a CMA area of SIZE (at BASE if given; 32 MiB, as on the BSP,
 * without the argument). At device initcall time the area becomes the CMA
 * area of a platform device "rk-dma-heap-cma", which the heap's platform
 * driver binds like the device tree's node.
 */
#define pr_fmt(fmt) "rk_dma_heap: " fmt

#include <linux/cma.h>
#include <linux/dma-map-ops.h>
#include <linux/init.h>
#include <linux/libfdt.h>
#include <linux/memblock.h>
#include <linux/of_fdt.h>
#include <linux/of_reserved_mem.h>
#include <linux/platform_device.h>
#include <linux/sizes.h>
#include <linux/string.h>

#include "rk_dma_heap_priv.h"

#define RK_BOOT_DEFAULT_SIZE	SZ_32M

/* the argument as given, for messages; NULL when there is none */
static char *rk_boot_arg __initdata;

static struct cma *rk_boot_cma;
/* the boot area described as the device tree's regions are */
static struct reserved_mem rk_boot_rmem = {
	.name = RK_DMA_HEAP_CMA_NAME,
};

static int __init rk_boot_param(char *arg)
{
	rk_boot_arg = arg ? arg : "";
	return 0;
}
early_param("rk_dma_heap_cma", rk_boot_param);

/* SIZE[@BASE], each a number with an optional K, M or G */
static bool __init rk_boot_parse(const char *arg, phys_addr_t *size,
				 phys_addr_t *base, bool *fixed)
{
	char *end;

	*size = memparse(arg, &end);
	if (end == arg)
		return false;
	*fixed = *end == '@';
	if (*fixed) {
		arg = end + 1;
		*base = memparse(arg, &end);
		if (end == arg)
			return false;
	}
	return !*end;
}

/* an enabled "rockchip,rk-dma-heap-cma" node in the flattened tree */
static bool __init rk_boot_dt_has_node(void)
{
	const void *fdt = initial_boot_params;
	const char *status;
	int off;

	if (!fdt)
		return false;
	off = fdt_node_offset_by_compatible(fdt, -1, RK_CMA_COMPATIBLE);
	for (; off >= 0;
	     off = fdt_node_offset_by_compatible(fdt, off, RK_CMA_COMPATIBLE)) {
		status = fdt_getprop(fdt, off, "status", NULL);
		if (!status || !strcmp(status, "okay") || !strcmp(status, "ok"))
			return true;
	}
	return false;
}

/*
 * A fixed area must be RAM nobody reserved yet, below the lowmem limit
 * (the heap uses the kernel's linear mapping of its pages); say which
 * condition fails.
 */
static const char * __init rk_boot_check_fixed(phys_addr_t base,
					       phys_addr_t size,
					       phys_addr_t limit)
{
	if (base + size < base || base + size > limit)
		return "it does not lie in lowmem";
	if (!memblock_is_region_memory(base, size))
		return "it is not all RAM";
	if (memblock_is_region_reserved(base, size))
		return "it overlaps reserved memory";
	return NULL;
}

/**
 * rk_dma_heap_cma_setup() - reserve the area of rk_dma_heap_cma=
 *
 * Called by the Rockchip BSP's arch code (arm_memblock_init(),
 * arm64_memblock_init()) after the device tree's reserved memory and the
 * default CMA area. Reserves a CMA area of the size the boot argument
 * rk_dma_heap_cma=SIZE[@BASE] gives (32 MiB without it), at BASE if given,
 * in lowmem, unless the device tree has an enabled
 * "rockchip,rk-dma-heap-cma" node: the heap then uses its region and this
 * reserves nothing. SIZE 0 reserves nothing either. The area is lent to the
 * system while the heap does not use it, unless the kernel has
 * CONFIG_CMA_INACTIVE. Every outcome is one line in the kernel log; an
 * invalid argument leaves the kernel without the area.
 *
 * Return: 0, or a negative errno when nothing could be reserved.
 */
int __init rk_dma_heap_cma_setup(void)
{
	const char *arg = rk_boot_arg;
	phys_addr_t align = RK_CMA_MIN_ALIGNMENT;
	phys_addr_t limit = memblock_get_current_limit();
	phys_addr_t size = RK_BOOT_DEFAULT_SIZE, base = 0;
	const char *why;
	bool fixed = false;
	int ret;

	if (rk_boot_dt_has_node()) {
		pr_info("%s%s: nothing reserved, the device tree's \"%s\" region is used\n",
			arg ? "rk_dma_heap_cma=" : "no rk_dma_heap_cma=",
			arg ? arg : "", RK_CMA_COMPATIBLE);
		return 0;
	}
	if (arg && !rk_boot_parse(arg, &size, &base, &fixed)) {
		pr_err("rk_dma_heap_cma=%s: not SIZE[@BASE] (e.g. 66M or 66M@0x3c00000), nothing reserved\n",
		       arg);
		return -EINVAL;
	}
	if (!arg)
		arg = "(not given, the BSP's default 32M)";
	if (!size) {
		pr_info("rk_dma_heap_cma=%s: nothing reserved\n", arg);
		return 0;
	}
	if ((size | base) & (align - 1)) {
		pr_err("rk_dma_heap_cma=%s: the size%s must be a multiple of this kernel's pageblock size, %llu KiB; nothing reserved\n",
		       arg, fixed ? " and the base" : "", (u64)align >> 10);
		return -EINVAL;
	}
	if (size > limit - memblock_start_of_DRAM()) {
		pr_err("rk_dma_heap_cma=%s: %llu KiB is more than this system's lowmem; nothing reserved\n",
		       arg, (u64)size >> 10);
		return -EINVAL;
	}
	if (fixed) {
		why = rk_boot_check_fixed(base, size, limit);
		if (why) {
			pr_err("rk_dma_heap_cma=%s: cannot reserve %llu KiB at %pa: %s; nothing reserved\n",
			       arg, (u64)size >> 10, &base, why);
			return -EINVAL;
		}
	}

	ret = cma_declare_contiguous(base, size, limit, align, 0, fixed,
				     RK_DMA_HEAP_CMA_NAME, &rk_boot_cma);
	if (ret) {
		pr_err("rk_dma_heap_cma=%s: cannot reserve %llu KiB in lowmem (error %d); nothing reserved\n",
		       arg, (u64)size >> 10, ret);
		rk_boot_cma = NULL;
		return ret;
	}
	rk_boot_rmem.base = cma_get_base(rk_boot_cma);
	rk_boot_rmem.size = cma_get_size(rk_boot_cma);
	/*
	 * As for the kernel's own CMA areas: on ARM32 the linear mapping of
	 * an area the system borrows must be made of pages, not sections.
	 * The BSP's CMA_INACTIVE never lends the area and skips this.
	 */
	if (!IS_ENABLED(CONFIG_CMA_INACTIVE))
		dma_contiguous_early_fixup(rk_boot_rmem.base, rk_boot_rmem.size);
	pr_info("rk_dma_heap_cma=%s: reserved %llu KiB at %pa for %s%s\n",
		arg, (u64)rk_boot_rmem.size >> 10, &rk_boot_rmem.base,
		RK_DMA_HEAP_CMA_NAME,
		IS_ENABLED(CONFIG_CMA_INACTIVE) ?
		" (CMA_INACTIVE: never lent to the system)" : "");
	return 0;
}

/**
 * rk_dma_heap_boot_register() - the platform device of the boot area
 *
 * Registers the platform device "rk-dma-heap-cma" with the area that
 * rk_dma_heap_cma_setup() reserved as its CMA area, for the heap's
 * platform driver to bind.
 *
 * Return: true if there is a boot area (its device registered, or the
 * failure reported), false if there is none.
 */
bool rk_dma_heap_boot_register(void)
{
	struct platform_device *pdev;
	int ret;

	if (!rk_boot_cma)
		return false;
	pdev = platform_device_alloc(RK_DMA_HEAP_CMA_NAME, PLATFORM_DEVID_NONE);
	if (!pdev) {
		ret = -ENOMEM;
		goto err;
	}
	pdev->dev.cma_area = rk_boot_cma;
	ret = platform_device_add(pdev);
	if (ret)
		goto err_put;
	return true;

err_put:
	platform_device_put(pdev);
err:
	pr_err("no heap registered: cannot add the device of the rk_dma_heap_cma= area: %d\n",
	       ret);
	return true;
}

/**
 * rk_dma_heap_boot_region() - the region of the boot area's device
 * @dev:	the device being probed
 * @rmem:	set to the boot area, described as a reserved region
 *
 * Return: 0, or -ENODEV (reported) if @dev is not the boot area's device.
 */
int rk_dma_heap_boot_region(struct device *dev, struct reserved_mem **rmem)
{
	if (!rk_boot_cma || dev->cma_area != rk_boot_cma) {
		dev_err(dev, "no heap registered: the device has neither a device-tree node nor the rk_dma_heap_cma= area\n");
		return -ENODEV;
	}
	*rmem = &rk_boot_rmem;
	return 0;
}
