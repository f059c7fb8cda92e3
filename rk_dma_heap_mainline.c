// SPDX-License-Identifier: GPL-2.0
/*
 * rk-dma-heap-cma under /dev/dma_heap/ as well, where programs such as mpp
 * look for heaps: where the kernel's dma-heap core exports dma_heap_add()
 * (mainline 6.18 on), every name of the module parameter dma_heap_names
 * becomes a heap of that core whose allocations go through the same path
 * as /dev/rk_dma_heap/rk-dma-heap-cma (one allocator, one record per
 * buffer in the info node). A name with "-uncached" in it gives uncached
 * buffers (RK_DMA_HEAP_UNCACHED), as mpp expects of "cma-uncached"; a name
 * ending in "-dma32" is added only when the whole region lies below 4 GiB.
 *
 * The dma-heap core cannot remove a heap: once one is added, the module
 * holds a reference to itself and stays loaded until the next boot.
 */
#define pr_fmt(fmt) "rk_dma_heap: " fmt

#include <linux/err.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "rk_dma_heap_priv.h"

/* the longest name accepted for /dev/dma_heap */
#define RK_MAINLINE_NAME_MAX	32

static char *rk_dma_heap_names;
module_param_named(dma_heap_names, rk_dma_heap_names, charp, 0444);
MODULE_PARM_DESC(dma_heap_names,
		 "Comma-separated names under which rk-dma-heap-cma also appears in /dev/dma_heap (kernels with dma_heap_add(), 6.18 on), e.g. cma,cma-uncached; the module then stays loaded");

#if RK_HAVE_DMA_HEAP_ADD
#include <linux/dma-heap.h>

/**
 * struct rk_mainline_heap - one name in /dev/dma_heap; never freed, as the
 *			     dma-heap core keeps it for good
 * @uncached:	its buffers are uncached
 * @name:	the name, which the core keeps too
 */
struct rk_mainline_heap {
	bool uncached;
	char name[];
};

static struct dma_buf *rk_mainline_allocate(struct dma_heap *dh,
					    unsigned long len, u32 fd_flags,
					    u64 heap_flags)
{
	struct rk_mainline_heap *mh = dma_heap_get_drvdata(dh);
	struct rk_dma_heap *heap = rk_dma_heap_find(RK_DMA_HEAP_CMA_NAME);
	struct dma_buf *dmabuf;

	/* the heap's device is not bound (now) */
	if (!heap)
		return ERR_PTR(-ENODEV);
	dmabuf = rk_dma_heap_buffer_alloc(heap, len, fd_flags,
					  mh->uncached ? RK_DMA_HEAP_UNCACHED : 0,
					  NULL);
	rk_dma_heap_put(heap);
	return dmabuf;
}

static const struct dma_heap_ops rk_mainline_ops = {
	.allocate = rk_mainline_allocate,
};

/* Whether the heap's region ends at or below 4 GiB. */
static bool rk_mainline_region_dma32(void)
{
	struct rk_dma_heap *heap = rk_dma_heap_find(RK_DMA_HEAP_CMA_NAME);
	struct rk_dma_heap_region_info info = { };
	const struct rk_dma_heap_ops *ops;
	bool below = false;

	if (!heap)
		return false;
	ops = rk_dma_heap_hold(heap);
	if (ops && ops->region_info) {
		ops->region_info(heap, &info);
		below = info.size && (u64)info.base + info.size <= SZ_4G;
	}
	if (ops)
		rk_dma_heap_unhold(heap);
	rk_dma_heap_put(heap);
	return below;
}

/* Whether the dma-heap core has a heap called @name already. */
static bool rk_mainline_taken(const char *name)
{
	struct path path;
	char *p;
	int ret;

	p = kasprintf(GFP_KERNEL, "/sys/class/dma_heap/%s", name);
	if (!p)
		return true;
	ret = kern_path(p, 0, &path);
	kfree(p);
	if (!ret)
		path_put(&path);
	return !ret;
}

/* Add the heap @name (@len bytes of the parameter). Returns 0 or -errno. */
static int rk_mainline_add(const char *name, size_t len)
{
	struct dma_heap_export_info exp = { .ops = &rk_mainline_ops };
	struct rk_mainline_heap *mh;
	struct dma_heap *dh;
	int ret = -EINVAL;

	mh = kzalloc(struct_size(mh, name, len + 1), GFP_KERNEL);
	if (!mh)
		return -ENOMEM;
	memcpy(mh->name, name, len);
	mh->uncached = !!strstr(mh->name, "-uncached");

	if (!len || strchr(mh->name, '/') || len > RK_MAINLINE_NAME_MAX) {
		pr_err("dma_heap_names: '%s' is not a heap name (1 to %d characters, no '/')\n",
		       mh->name, RK_MAINLINE_NAME_MAX);
		goto err_free;
	}
	if (len > 6 && !strcmp(mh->name + len - 6, "-dma32") &&
	    !rk_mainline_region_dma32()) {
		pr_err("dma_heap_names: %s not added: the region does not lie below 4 GiB\n",
		       mh->name);
		goto err_free;
	}
	if (rk_mainline_taken(mh->name)) {
		pr_err("dma_heap_names: %s not added: /dev/dma_heap/%s exists already\n",
		       mh->name, mh->name);
		ret = -EEXIST;
		goto err_free;
	}
	exp.name = mh->name;
	exp.priv = mh;
	dh = dma_heap_add(&exp);
	if (IS_ERR(dh)) {
		ret = PTR_ERR(dh);
		pr_err("dma_heap_names: %s not added: %d\n", mh->name, ret);
		goto err_free;
	}
	pr_info("/dev/dma_heap/%s: rk-dma-heap-cma, %s\n", mh->name,
		mh->uncached ? "uncached" : "cached");
	return 0;

err_free:
	kfree(mh);
	return ret;
}

/**
 * rk_dma_heap_mainline_init() - add the heaps of dma_heap_names
 *
 * A name that cannot be added is left out with a dmesg line saying why;
 * the others are added all the same.
 */
void rk_dma_heap_mainline_init(void)
{
	const char *s = rk_dma_heap_names, *end;
	int added = 0;

	if (!s || !*s)
		return;
	for (;;) {
		end = strchrnul(s, ',');
		if (!rk_mainline_add(s, end - s))
			added++;
		if (!*end)
			break;
		s = end + 1;
	}
	if (!added)
		return;
	/* the core would call into the module after its unload */
	__module_get(THIS_MODULE);
	pr_info("%d heap(s) in /dev/dma_heap: the kernel cannot remove them, so rk_dma_heap stays loaded until reboot\n",
		added);
}
#else
void rk_dma_heap_mainline_init(void)
{
	if (rk_dma_heap_names && *rk_dma_heap_names)
		pr_info("dma_heap_names ignored: this kernel does not export dma_heap_add() (mainline 6.18 on, with CONFIG_DMABUF_HEAPS)\n");
}
#endif
