/* SPDX-License-Identifier: GPL-2.0 */
/*
 * In-kernel API of the Rockchip dma-buf heaps, with the signatures of the
 * Rockchip BSP (Linux 5.10) so that vendor drivers (rknpu, rkisp, mpp, rga)
 * build and run unchanged against rk_dma_heap.ko.
 *
 * Functions that allocate return ERR_PTR(-errno) (or a negative errno for
 * rk_dma_heap_bufferfd_alloc()) on failure, never NULL.
 */
#ifndef _LINUX_RK_DMA_HEAP_H
#define _LINUX_RK_DMA_HEAP_H

/*
 * The BSP's header includes <linux/dma-buf.h>, and its callers (rknpu)
 * rely on that for the dma-buf API.
 */
#include <linux/dma-buf.h>
#include <linux/err.h>
#include <linux/kconfig.h>
#include <linux/module.h>
#include <linux/types.h>
#include <asm/pgtable.h>
#include <uapi/linux/rk-dma-heap.h>

struct cma;
struct device;
struct dma_buf;
struct page;
struct rk_dma_heap;
struct seq_file;

/* Name of the CMA heap that vendor drivers look up. */
#define RK_DMA_HEAP_CMA_NAME "rk-dma-heap-cma"

/**
 * struct rk_dma_heap_region_info - occupancy of the memory behind a heap
 * @base:	physical address of the region's start
 * @size:	bytes in the heap's region
 * @used:	bytes in the heap's own live allocations
 * @outside:	bytes of the region taken by others (e.g. another heap that
 *		allocates from the same CMA area), neither used nor free
 * @pooled:	bytes the heap keeps for reuse: free for its allocations,
 *		lent to the system only once the heap gives them back
 * @largest_free: the largest free block in bytes
 * @may_reuse:	in: @outside and @largest_free may be those the heap found
 *		last if it changed nothing since (for readers anyone may be:
 *		a look at the whole region costs a walk of its pages)
 */
struct rk_dma_heap_region_info {
	phys_addr_t base;
	size_t size;
	size_t used;
	size_t outside;
	size_t pooled;
	size_t largest_free;
	bool may_reuse;
};

/**
 * struct rk_dma_heap_ops - what a heap implementation provides
 * @allocate:		allocate a dma-buf of @len bytes; ERR_PTR on failure
 * @contig_alloc:		allocate @len bytes of contiguous pages, not wrapped
 *			in a dma-buf; ERR_PTR on failure
 * @contig_free:		free pages from @contig_alloc
 * @get_pool_size:	bytes the heap keeps in pools (0 if it keeps none)
 * @region_info:	fill in the occupancy of the heap's region (optional:
 *			a heap without one has no region to show)
 * @show_bitmap:	print one bit per page of the region, set while the
 *			page is not free (with @pooled: while the heap's pool
 *			keeps it), as 32-bit hex words, eight a line
 *			(optional)
 * @release:		the heap was removed and its last allocation is gone:
 *			free what served allocations (optional)
 *
 * @name is the owner shown in /proc/rk_dma_heap/rk-dma-heap-info; NULL
 * means the allocating thread.
 */
struct rk_dma_heap_ops {
	struct dma_buf *(*allocate)(struct rk_dma_heap *heap,
				    unsigned long len,
				    unsigned long fd_flags,
				    unsigned long heap_flags,
				    const char *name);
	struct page *(*contig_alloc)(struct rk_dma_heap *heap,
				     size_t len, const char *name);
	void (*contig_free)(struct rk_dma_heap *heap,
			    struct page *pages, size_t len,
			    const char *name);
	long (*get_pool_size)(struct rk_dma_heap *heap);
	void (*region_info)(struct rk_dma_heap *heap,
			    struct rk_dma_heap_region_info *info);
	void (*show_bitmap)(struct rk_dma_heap *heap, struct seq_file *m,
			    bool pooled);
	void (*release)(struct rk_dma_heap *heap);
};

/**
 * struct rk_dma_heap_export_info - description of a heap to register
 * @name:	heap name; also the name of /dev/rk_dma_heap/<name>
 * @ops:	the heap's operations
 * @priv:	the heap's private data (rk_dma_heap_get_drvdata())
 * @support_cma: the heap allocates from CMA
 */
struct rk_dma_heap_export_info {
	const char *name;
	const struct rk_dma_heap_ops *ops;
	void *priv;
	bool support_cma;
};

/*
 * In a Rockchip BSP tree whose heap scripts/bsp-intree.sh replaced, code
 * that cannot reach rk_dma_heap (it is off, or a module while the caller
 * is built in) finds no heap, as with the BSP's header when its heap is
 * off: videobuf2-cma-sg then falls back to its device's CMA area.
 */
#if IS_ENABLED(CONFIG_RK_DMA_HEAP_BSP_TREE) && \
	!IS_REACHABLE(CONFIG_DMABUF_HEAPS_ROCKCHIP_CMA_HEAP)
static inline struct rk_dma_heap *rk_dma_heap_find(const char *name)
{
	return NULL;
}

static inline void rk_dma_heap_put(struct rk_dma_heap *heap)
{
}

static inline struct rk_dma_heap *
rk_dma_heap_add(const struct rk_dma_heap_export_info *exp_info)
{
	return ERR_PTR(-ENODEV);
}

static inline struct rk_dma_heap *
__rk_dma_heap_add(const struct rk_dma_heap_export_info *exp_info,
		  struct module *owner)
{
	return ERR_PTR(-ENODEV);
}

static inline struct dma_buf *
rk_dma_heap_buffer_alloc(struct rk_dma_heap *heap, size_t len,
			 unsigned int fd_flags, unsigned int heap_flags,
			 const char *name)
{
	return ERR_PTR(-ENODEV);
}

static inline void rk_dma_heap_buffer_free(struct dma_buf *dmabuf)
{
}

static inline int rk_dma_heap_bufferfd_alloc(struct rk_dma_heap *heap,
					     size_t len, unsigned int fd_flags,
					     unsigned int heap_flags,
					     const char *name)
{
	return -ENODEV;
}

static inline struct page *
rk_dma_heap_alloc_contig_pages(struct rk_dma_heap *heap, size_t len,
			       const char *name)
{
	return ERR_PTR(-ENODEV);
}

static inline void rk_dma_heap_free_contig_pages(struct rk_dma_heap *heap,
						 struct page *pages,
						 size_t len, const char *name)
{
}

static inline int rk_dma_heap_set_dev(struct device *heap_dev)
{
	return -ENODEV;
}

static inline struct device *rk_dma_heap_get_dev(struct rk_dma_heap *heap)
{
	return NULL;
}

static inline const char *rk_dma_heap_get_name(struct rk_dma_heap *heap)
{
	return NULL;
}

static inline void *rk_dma_heap_get_drvdata(struct rk_dma_heap *heap)
{
	return NULL;
}

static inline void *rk_vmap_contig_pfn(unsigned long pfn, unsigned int count,
				       pgprot_t prot)
{
	return NULL;
}

static inline struct cma *rk_dma_heap_get_cma(void)
{
	return NULL;
}
#else
struct rk_dma_heap *rk_dma_heap_find(const char *name);
void rk_dma_heap_put(struct rk_dma_heap *heap);
struct rk_dma_heap *__rk_dma_heap_add(const struct rk_dma_heap_export_info *exp_info,
				      struct module *owner);
/*
 * A heap's operations are the caller's module's code: that module is held
 * around every call into them, and its heaps go when it is unloaded.
 */
#define rk_dma_heap_add(exp_info) __rk_dma_heap_add(exp_info, THIS_MODULE)

struct dma_buf *rk_dma_heap_buffer_alloc(struct rk_dma_heap *heap, size_t len,
					 unsigned int fd_flags,
					 unsigned int heap_flags,
					 const char *name);
void rk_dma_heap_buffer_free(struct dma_buf *dmabuf);
int rk_dma_heap_bufferfd_alloc(struct rk_dma_heap *heap, size_t len,
			       unsigned int fd_flags,
			       unsigned int heap_flags,
			       const char *name);

struct page *rk_dma_heap_alloc_contig_pages(struct rk_dma_heap *heap,
					    size_t len, const char *name);
void rk_dma_heap_free_contig_pages(struct rk_dma_heap *heap,
				   struct page *pages, size_t len,
				   const char *name);

int rk_dma_heap_set_dev(struct device *heap_dev);
struct device *rk_dma_heap_get_dev(struct rk_dma_heap *heap);
const char *rk_dma_heap_get_name(struct rk_dma_heap *heap);
void *rk_dma_heap_get_drvdata(struct rk_dma_heap *heap);

void *rk_vmap_contig_pfn(unsigned long pfn, unsigned int count, pgprot_t prot);
struct cma *rk_dma_heap_get_cma(void);
#endif

/*
 * Built into a Rockchip BSP kernel (scripts/bsp-intree.sh), the heap
 * reserves the memory of the boot argument rk_dma_heap_cma=SIZE[@BASE]
 * when the BSP's arch code calls this at boot; otherwise there is nothing
 * to reserve.
 */
#if IS_BUILTIN(CONFIG_DMABUF_HEAPS_ROCKCHIP_CMA_HEAP) || \
	IS_BUILTIN(CONFIG_RK_DMA_HEAP)
int rk_dma_heap_cma_setup(void);
#else
static inline int rk_dma_heap_cma_setup(void)
{
	return 0;
}
#endif

#endif /* _LINUX_RK_DMA_HEAP_H */
