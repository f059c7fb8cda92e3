/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place that knows kernel versions: rk_dma_heap is built out of
 * tree for the Rockchip BSP (5.10) and for mainline kernels from 5.10 on.
 * Every API that changed between them has one name here, and the rest of
 * the module (and its test modules) uses only that name.
 */
#ifndef _RK_DMA_HEAP_COMPAT_H
#define _RK_DMA_HEAP_COMPAT_H

#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/version.h>

#define RK_KERNEL_AT_LEAST(major, minor, sub) \
	(LINUX_VERSION_CODE >= KERNEL_VERSION(major, minor, sub))

#if RK_KERNEL_AT_LEAST(5, 18, 0)
#include <linux/iosys-map.h>
#elif RK_KERNEL_AT_LEAST(5, 11, 0)
#include <linux/dma-buf-map.h>
#endif

/* dma-buf symbols live in the DMA_BUF namespace from 5.16 (a string from 6.13) */
#if RK_KERNEL_AT_LEAST(6, 13, 0)
#define RK_MODULE_IMPORT_DMA_BUF() MODULE_IMPORT_NS("DMA_BUF")
#elif RK_KERNEL_AT_LEAST(5, 16, 0)
#define RK_MODULE_IMPORT_DMA_BUF() MODULE_IMPORT_NS(DMA_BUF)
#else
#define RK_MODULE_IMPORT_DMA_BUF()
#endif

/*
 * The kernel's dma-heap core exports dma_heap_add() from 6.18, in the
 * namespace DMA_BUF_HEAP (rk_dma_heap_mainline.c adds heaps there).
 */
#if RK_KERNEL_AT_LEAST(6, 18, 0) && IS_ENABLED(CONFIG_DMABUF_HEAPS)
#define RK_HAVE_DMA_HEAP_ADD 1
#define RK_MODULE_IMPORT_DMA_BUF_HEAP() MODULE_IMPORT_NS("DMA_BUF_HEAP")
#else
#define RK_HAVE_DMA_HEAP_ADD 0
#define RK_MODULE_IMPORT_DMA_BUF_HEAP()
#endif

/*
 * cma_alloc() and cma_release() are exported from 7.2 on, and by
 * Android-derived kernels such as Rockchip's BSP, whose cma_alloc() takes a
 * gfp_t last (Kbuild defines RK_CMA_ALLOC_GFP when the kernel's
 * linux/cma.h declares it so). Other mainline kernels keep them to
 * themselves; the heap then allocates through the DMA API from its
 * device's CMA area. rk_cma_alloc(cma, count, order) (aligned to 2^order
 * pages) never warns on failure.
 */
#if defined(RK_CMA_ALLOC_GFP)
#define RK_HAVE_CMA_ALLOC 1
#define rk_cma_alloc(cma, count, order) \
	cma_alloc(cma, count, order, GFP_KERNEL | __GFP_NOWARN)
#elif RK_KERNEL_AT_LEAST(7, 2, 0)
#define RK_HAVE_CMA_ALLOC 1
#define rk_cma_alloc(cma, count, order) cma_alloc(cma, count, order, true)
#else
#define RK_HAVE_CMA_ALLOC 0
#endif

/*
 * Android-derived kernels (Rockchip's BSP, CONFIG_DMABUF_PARTIAL) add
 * begin_cpu_access_partial and end_cpu_access_partial to dma_buf_ops,
 * reached through DMA_BUF_IOCTL_SYNC_PARTIAL and called directly by
 * vendor drivers (rknpu).
 */
#ifdef CONFIG_DMABUF_PARTIAL
#define RK_HAVE_DMABUF_PARTIAL 1
#else
#define RK_HAVE_DMABUF_PARTIAL 0
#endif

/*
 * The alignment the kernel demands of a CMA region's base and size (the
 * pageblock size, or the largest buddy block before 6.0); named from 5.18.
 */
#include <linux/cma.h>
#include <linux/mmzone.h>
#ifdef CMA_MIN_ALIGNMENT_BYTES
#define RK_CMA_MIN_ALIGNMENT ((phys_addr_t)CMA_MIN_ALIGNMENT_BYTES)
#else
#define RK_CMA_MIN_ALIGNMENT \
	((phys_addr_t)PAGE_SIZE << max_t(unsigned int, MAX_ORDER - 1, pageblock_order))
#endif

/*
 * Shrinkers are allocated by the kernel from 6.7 (shrinker_alloc()), and
 * named from 6.0. rk_shrinker_create() returns a registered shrinker or
 * NULL; rk_shrinker_destroy() unregisters and frees it.
 */
static inline struct shrinker *
rk_shrinker_create(unsigned long (*count)(struct shrinker *,
					  struct shrink_control *),
		   unsigned long (*scan)(struct shrinker *,
					 struct shrink_control *),
		   const char *name)
{
	struct shrinker *s;

#if RK_KERNEL_AT_LEAST(6, 7, 0)
	s = shrinker_alloc(0, "%s", name);
#else
	s = kzalloc(sizeof(*s), GFP_KERNEL);
#endif
	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->seeks = DEFAULT_SEEKS;
#if RK_KERNEL_AT_LEAST(6, 7, 0)
	shrinker_register(s);
#elif RK_KERNEL_AT_LEAST(6, 0, 0)
	if (register_shrinker(s, "%s", name))
		goto err_free;
#else
	if (register_shrinker(s))
		goto err_free;
#endif
	return s;

#if !RK_KERNEL_AT_LEAST(6, 7, 0)
err_free:
	kfree(s);
	return NULL;
#endif
}

static inline void rk_shrinker_destroy(struct shrinker *s)
{
#if RK_KERNEL_AT_LEAST(6, 7, 0)
	shrinker_free(s);
#else
	unregister_shrinker(s);
	kfree(s);
#endif
}

/* class_create() lost its owner argument in 6.4 */
#if RK_KERNEL_AT_LEAST(6, 4, 0)
#define rk_class_create(name) class_create(name)
#else
#define rk_class_create(name) class_create(THIS_MODULE, name)
#endif

/* a class's devnode() takes a const device from 6.2 */
#if RK_KERNEL_AT_LEAST(6, 2, 0)
#define RK_DEVNODE_CONST const
#else
#define RK_DEVNODE_CONST
#endif

/*
 * RK_PLATFORM_REMOVE(name, fn) defines the platform driver's remove
 * callback @name around void @fn(struct platform_device *): it returns void
 * from 6.11, int before.
 */
#if RK_KERNEL_AT_LEAST(6, 11, 0)
#define RK_PLATFORM_REMOVE(name, fn)					\
static void name(struct platform_device *pdev)				\
{									\
	fn(pdev);							\
}
#else
#define RK_PLATFORM_REMOVE(name, fn)					\
static int name(struct platform_device *pdev)				\
{									\
	fn(pdev);							\
	return 0;							\
}
#endif

/*
 * Exporter side of kernel mappings: RK_DMA_BUF_VMAP_OPS(vmap, vunmap, get,
 * put) defines the dma_buf_ops callbacks @vmap and @vunmap around
 * void *@get(void *priv) and void @put(void *priv). The callbacks return a
 * pointer (5.10), fill a struct dma_buf_map (5.11) or a struct iosys_map
 * (5.18); @get returns NULL when it cannot map (-ENOMEM).
 */
#if RK_KERNEL_AT_LEAST(5, 18, 0)
#define RK_DMA_BUF_VMAP_OPS(vmap, vunmap, get, put)			\
static int vmap(struct dma_buf *dmabuf, struct iosys_map *map)		\
{									\
	void *vaddr = get(dmabuf->priv);				\
									\
	if (!vaddr)							\
		return -ENOMEM;						\
	iosys_map_set_vaddr(map, vaddr);				\
	return 0;							\
}									\
static void vunmap(struct dma_buf *dmabuf, struct iosys_map *map)	\
{									\
	put(dmabuf->priv);						\
	iosys_map_clear(map);						\
}
#elif RK_KERNEL_AT_LEAST(5, 11, 0)
#define RK_DMA_BUF_VMAP_OPS(vmap, vunmap, get, put)			\
static int vmap(struct dma_buf *dmabuf, struct dma_buf_map *map)	\
{									\
	void *vaddr = get(dmabuf->priv);				\
									\
	if (!vaddr)							\
		return -ENOMEM;						\
	dma_buf_map_set_vaddr(map, vaddr);				\
	return 0;							\
}									\
static void vunmap(struct dma_buf *dmabuf, struct dma_buf_map *map)	\
{									\
	put(dmabuf->priv);						\
	dma_buf_map_clear(map);						\
}
#else
#define RK_DMA_BUF_VMAP_OPS(vmap, vunmap, get, put)			\
static void *vmap(struct dma_buf *dmabuf)				\
{									\
	return get(dmabuf->priv);					\
}									\
static void vunmap(struct dma_buf *dmabuf, void *vaddr)			\
{									\
	put(dmabuf->priv);						\
}
#endif

/*
 * Importer side, for the test modules: map a dma-buf into the kernel and
 * attach it to a device as a driver does. From 6.2 the plain calls expect
 * the reservation lock held; the _unlocked ones take it.
 */
/**
 * rk_dma_buf_vmap() - kernel mapping of a whole dma-buf
 * @dmabuf:	the buffer
 *
 * Return: the address, or an ERR_PTR(); undo with rk_dma_buf_vunmap().
 */
static inline void *rk_dma_buf_vmap(struct dma_buf *dmabuf)
{
#if RK_KERNEL_AT_LEAST(5, 11, 0)
#if RK_KERNEL_AT_LEAST(5, 18, 0)
	struct iosys_map map;
#else
	struct dma_buf_map map;
#endif
	int ret;

#if RK_KERNEL_AT_LEAST(6, 2, 0)
	ret = dma_buf_vmap_unlocked(dmabuf, &map);
#else
	ret = dma_buf_vmap(dmabuf, &map);
#endif
	return ret ? ERR_PTR(ret) : map.vaddr;
#else
	void *vaddr = dma_buf_vmap(dmabuf);

	return vaddr ? vaddr : ERR_PTR(-ENOMEM);
#endif
}

/**
 * rk_dma_buf_vunmap() - undo rk_dma_buf_vmap()
 * @dmabuf:	the buffer
 * @vaddr:	the address rk_dma_buf_vmap() returned
 */
static inline void rk_dma_buf_vunmap(struct dma_buf *dmabuf, void *vaddr)
{
#if RK_KERNEL_AT_LEAST(5, 18, 0)
	struct iosys_map map = IOSYS_MAP_INIT_VADDR(vaddr);
#elif RK_KERNEL_AT_LEAST(5, 11, 0)
	struct dma_buf_map map = DMA_BUF_MAP_INIT_VADDR(vaddr);
#endif

#if RK_KERNEL_AT_LEAST(6, 2, 0)
	dma_buf_vunmap_unlocked(dmabuf, &map);
#elif RK_KERNEL_AT_LEAST(5, 11, 0)
	dma_buf_vunmap(dmabuf, &map);
#else
	dma_buf_vunmap(dmabuf, vaddr);
#endif
}

#if RK_KERNEL_AT_LEAST(6, 2, 0)
#define rk_dma_buf_map_attachment dma_buf_map_attachment_unlocked
#define rk_dma_buf_unmap_attachment dma_buf_unmap_attachment_unlocked
#else
#define rk_dma_buf_map_attachment dma_buf_map_attachment
#define rk_dma_buf_unmap_attachment dma_buf_unmap_attachment
#endif

/*
 * rk_dma_reaches(dev, dma, phys): whether @dma, a streaming mapping of the
 * bytes at @phys for @dev, is those bytes themselves as @dev sees them: no
 * bounce buffer of swiotlb in between (nor an IOMMU). The translation is
 * the DMA layer's own (<linux/dma-direct.h>, inline on every kernel; on
 * ARM32 before 6.0 an architecture header of the same name).
 */
#include <linux/dma-direct.h>

static inline bool rk_dma_reaches(struct device *dev, dma_addr_t dma,
				  phys_addr_t phys)
{
	return dma == phys_to_dma(dev, phys);
}

/* KUnit maps files into a test's own mm from 6.12 (kunit_vm_mmap()) */
#define RK_HAVE_KUNIT_VM_MMAP	RK_KERNEL_AT_LEAST(6, 12, 0)

/* KUnit of 5.10 has no NULL assertions yet (for the KUnit tests) */
#if defined(KUNIT_EXPECT_TRUE) && !defined(KUNIT_EXPECT_NULL)
#define KUNIT_EXPECT_NULL(test, ptr) \
	KUNIT_EXPECT_PTR_EQ(test, (void *)(ptr), NULL)
#define KUNIT_EXPECT_NOT_NULL(test, ptr) \
	KUNIT_EXPECT_PTR_NE(test, (void *)(ptr), NULL)
#define KUNIT_ASSERT_NOT_NULL(test, ptr) \
	KUNIT_ASSERT_PTR_NE(test, (void *)(ptr), NULL)
#endif

#endif /* _RK_DMA_HEAP_COMPAT_H */
