// SPDX-License-Identifier: GPL-2.0
/*
 * rk-dma-heap-cma: a dma-buf heap that hands out physically contiguous,
 * zeroed buffers from one device-tree reserved-memory region: cached, or
 * write-combined with RK_DMA_HEAP_UNCACHED.
 *
 * The region is a reusable "shared-dma-pool" given to our platform device
 * as its own CMA area (of_reserved_mem_device_init()). Buffers come from
 * that area through one of two memory backends: cma_alloc() where the
 * kernel exports it (page-granular), else dma_alloc_pages() on our device,
 * whose quiet fallback to ordinary pages when the area is full is caught by
 * checking every buffer against the region. A region that is not reusable
 * (a carve-out) is never the system's: the heap allocates from it alone,
 * with a third backend, its own page map.
 *
 * Our device has a 64-bit DMA mask: the region may lie anywhere in RAM,
 * and the heap's own cache maintenance goes through our device's mappings
 * of the buffers' very pages. Where the kernel bounces every mapping
 * (swiotlb=force), those of dma_alloc_pages() still are the pages, so the
 * heap takes its blocks that way; importers' mappings may bounce, and are
 * synced so that their bounce buffers are filled and emptied, for
 * uncached buffers too.
 *
 * What the heap takes from the area comes in blocks: a buffer larger than
 * a quarter of a chunk has a block of its own, smaller buffers share
 * chunk-sized blocks, placed on a chunk boundary so that taking one never
 * splits a free block of the page allocator. A region smaller than a chunk
 * has chunks of its largest power of two. A freed buffer's pages stay
 * in its block; a block without buffers stays with the heap while the
 * free pages the heap keeps (its pool) are within pool_max_kb, and goes
 * back to the area beyond that, when a larger buffer does not fit
 * elsewhere, and when the kernel's shrinkers ask for memory. Every buffer
 * is zeroed and written back to memory when it is handed out; an uncached
 * one leaves the cache altogether, and is never synced after.
 */
#define pr_fmt(fmt) "rk_dma_heap: " fmt

#include <linux/bitmap.h>
#include <linux/cma.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/highmem.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/of_address.h>
#include <linux/of_reserved_mem.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/xarray.h>

#include "rk_dma_heap_priv.h"

#if !IS_ENABLED(CONFIG_DMA_CMA) || !IS_ENABLED(CONFIG_OF_RESERVED_MEM)
#error "rk_dma_heap needs a kernel with CONFIG_DMA_CMA and CONFIG_OF_RESERVED_MEM"
#endif

/*
 * Buffers of up to a quarter of a chunk share chunks: one free block of
 * the page allocator's largest order with 4 KiB pages.
 */
#define RK_CMA_CHUNK		((size_t)SZ_4M)
#define RK_CMA_SHARERS		4

/*
 * Pages a look at the whole region takes per hold of the heap's lock: the
 * allocations and frees that wait for it wait for no more than that.
 */
#define RK_CMA_WALK_BATCH	1024

/* Upper bound of each heap's pool, in KiB (the module parameter). */
static unsigned int rk_cma_pool_max_kb = 8192;

struct rk_cma_heap;

/**
 * struct rk_cma_mem - a memory backend: where blocks come from
 * @name:	shown in the probe's dmesg line
 * @zeroed:	@alloc returns zeroed pages
 * @exclusive:	the region is the heap's alone: its pages outside blocks
 *		are free, and nothing the heap keeps is ever the system's
 * @mapped:	@alloc maps the pages for our device (at *@dma), and
 *		buffers use that mapping; otherwise each buffer is mapped on
 *		its own
 * @alloc:	@len bytes of contiguous pages inside the region, aligned to
 *		2^@order pages where the backend can, with no CPU cache
 *		maintenance; NULL when the region has no free block that
 *		large
 * @free:	give back what @alloc returned
 */
struct rk_cma_mem {
	const char *name;
	bool zeroed;
	bool exclusive;
	bool mapped;
	struct page *(*alloc)(struct rk_cma_heap *h, size_t len,
			      unsigned int order, dma_addr_t *dma);
	void (*free)(struct rk_cma_heap *h, struct page *pages, size_t len,
		     dma_addr_t dma);
};

/**
 * struct rk_cma_block - pages the heap took from the area in one piece
 * @node:	entry in &rk_cma_heap.blocks
 * @pages:	first page
 * @dma:	DMA address of @pages for our own device, if the backend
 *		maps blocks
 * @first:	index of @pages in the region
 * @npages:	pages in the block
 * @used:	pages of the block in buffers
 */
struct rk_cma_block {
	struct list_head node;
	struct page *pages;
	dma_addr_t dma;
	unsigned long first;
	unsigned long npages;
	unsigned long used;
};

/**
 * struct rk_cma_heap - the heap and its region
 * @heap:	the registered heap
 * @dev:	our platform device, owner of the CMA area
 * @mem:	the memory backend
 * @base:	physical start of the region
 * @size:	size of the region in bytes
 * @npages:	pages in the region
 * @chunk:	size of the blocks small buffers share: RK_CMA_CHUNK, or the
 *		region's largest power of two if it is smaller
 * @reaches:	our device's mappings of the buffers are their very pages,
 *		and the heap does its cache maintenance through them; false
 *		only for a carve-out whose mappings the kernel bounces
 * @lock:	protects @bitmap, @held, @blocks, @nr_held, @nr_used,
 *		@no_pool, @gen and @walk
 * @bitmap:	one bit per page of the region, set while in a buffer
 * @held:	one bit per page of the region, set while in a block
 * @blocks:	the blocks (struct rk_cma_block), oldest first
 * @nr_held:	pages in blocks
 * @nr_used:	pages in buffers
 * @no_pool:	the heap was removed: blocks go back as soon as they are empty
 * @gen:	counts the changes of @bitmap and @held
 * @walk:	what the last look at the whole region found, at @walk.gen
 * @trim_lock:	held while blocks go back to the area, so that who waits
 *		for it finds their pages there
 * @contig:	allocations of contiguous pages, by first pfn
 * @node:	entry in rk_cma_states
 */
struct rk_cma_heap {
	struct rk_dma_heap *heap;
	struct device *dev;
	const struct rk_cma_mem *mem;
	phys_addr_t base;
	size_t size;
	unsigned long npages;
	size_t chunk;
	bool reaches;
	spinlock_t lock;	/* protects the page maps and blocks below */
	unsigned long *bitmap;
	unsigned long *held;
	struct list_head blocks;
	unsigned long nr_held;
	unsigned long nr_used;
	bool no_pool;
	unsigned long gen;
	struct {
		unsigned long gen, taken, largest;
		bool valid;
	} walk;
	struct mutex trim_lock;	/* serializes rk_cma_pool_trim() */
	struct xarray contig;
	struct list_head node;
};

/*
 * Every heap state, also those that outlive their device's binding while
 * buffers remain: the device cannot be bound again until they are back.
 */
static DEFINE_MUTEX(rk_cma_states_lock);
static LIST_HEAD(rk_cma_states);

/**
 * struct rk_cma_buffer - one allocation
 * @h:		the heap's region
 * @heap:	the registered heap it came from
 * @block:	the block its pages are in
 * @pages:	first page
 * @dma:	DMA address for our own device (DMA_MAPPING_ERROR where the
 *		heap does not reach its buffers: see &rk_cma_heap.reaches)
 * @len:	size in bytes, a multiple of PAGE_SIZE
 * @uncached:	mapped write-combined, never synced (RK_DMA_HEAP_UNCACHED)
 * @lock:	protects @attachments, @vmap_cnt and @vaddr
 * @attachments: struct rk_cma_attachment of the importers
 * @vmap_cnt:	number of kernel mappings handed out
 * @vaddr:	the write-combined kernel mapping of an uncached buffer,
 *		while @vmap_cnt is not 0
 * @rec:	the tracking record
 */
struct rk_cma_buffer {
	struct rk_cma_heap *h;
	struct rk_dma_heap *heap;
	struct rk_cma_block *block;
	struct page *pages;
	dma_addr_t dma;
	size_t len;
	bool uncached;
	struct mutex lock;	/* protects attachments, vmap_cnt, vaddr */
	struct list_head attachments;
	unsigned int vmap_cnt;
	void *vaddr;
	struct rk_dma_heap_alloc rec;
};

/**
 * struct rk_cma_attachment - one importer
 * @dev:	the importing device
 * @sgt:	the buffer as the device may map it: segments no longer than
 *		its maximum segment size
 * @node:	entry in &rk_cma_buffer.attachments
 * @mapped:	@sgt is mapped for @dev
 * @sync:	@sgt is synced on map, unmap and CPU access: always for a
 *		cached buffer, for an uncached one where @dev does not reach
 *		the pages themselves (a bounce buffer to fill and empty)
 * @track:	the entry in the tracking record
 */
struct rk_cma_attachment {
	struct device *dev;
	struct sg_table sgt;
	struct list_head node;
	bool mapped;
	bool sync;
	struct rk_dma_heap_attach track;
};

/* ----------------------------------------------------------------- memory */

/* Whether the region has @len bytes in one run outside buffers. */
static bool rk_cma_has_free_run(struct rk_cma_heap *h, size_t len)
{
	unsigned long first;

	spin_lock(&h->lock);
	first = bitmap_find_next_zero_area(h->bitmap, h->npages, 0,
					   len >> PAGE_SHIFT, 0);
	spin_unlock(&h->lock);
	return first < h->npages;
}

/*
 * A buffer is zeroed through the CPU's cache. Write the zeroes back to
 * memory before any device can see the buffer: a device that reads it, or
 * writes only part of it, would otherwise find the page's old contents
 * (on ARM32, mapping the buffer for DMA_FROM_DEVICE even discards the
 * dirty zeroes from the cache).
 */
static void rk_cma_write_back(struct rk_cma_heap *h, dma_addr_t dma,
			      size_t len)
{
	dma_sync_single_for_device(h->dev, dma, len, DMA_TO_DEVICE);
}

/*
 * An uncached buffer is reached past the caches: what the kernel wrote
 * into it through its cached linear map goes to memory, and no line of it
 * may stay in the cache, where a write-combined access could still meet
 * it.
 */
static void rk_cma_uncache(struct rk_cma_heap *h, dma_addr_t dma, size_t len)
{
	rk_cma_write_back(h, dma, len);
	dma_sync_single_for_cpu(h->dev, dma, len, DMA_FROM_DEVICE);
}

/*
 * dma_alloc_pages() on our device takes the pages from its CMA area, but
 * when the area has no free block it quietly falls back to ordinary pages,
 * reclaiming (or calling the OOM killer) for them: the fallback may not
 * retry, and what it returns is refused here. The pages come zeroed,
 * aligned to their size up to the kernel's CMA alignment.
 */
static struct page *rk_cma_mem_dma_alloc(struct rk_cma_heap *h, size_t len,
					 unsigned int order, dma_addr_t *dma)
{
	struct page *pages;
	phys_addr_t phys;

	/* 5.10 passes a failed allocation's handle to DMA-API debugging */
	*dma = DMA_MAPPING_ERROR;
	pages = dma_alloc_pages(h->dev, len, dma, DMA_BIDIRECTIONAL,
				GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN);
	if (!pages)
		return NULL;
	/*
	 * Up to 6.1 DMA-API debugging records dma_alloc_pages() as a streaming
	 * mapping whose error must be checked; the check is free otherwise.
	 */
	if (dma_mapping_error(h->dev, *dma))
		goto err_free;
	phys = page_to_phys(pages);
	if (len > h->size || phys < h->base || phys - h->base > h->size - len)
		goto err_free;
	return pages;

err_free:
	dma_free_pages(h->dev, len, pages, *dma, DMA_BIDIRECTIONAL);
	return NULL;
}

static void rk_cma_mem_dma_free(struct rk_cma_heap *h, struct page *pages,
				size_t len, dma_addr_t dma)
{
	dma_free_pages(h->dev, len, pages, dma, DMA_BIDIRECTIONAL);
}

static const struct rk_cma_mem rk_cma_mem_dma = {
	.name	= "dma_alloc_pages()",
	.zeroed	= true,
	.mapped	= true,
	.alloc	= rk_cma_mem_dma_alloc,
	.free	= rk_cma_mem_dma_free,
};

#if RK_HAVE_CMA_ALLOC
/*
 * cma_alloc() takes the pages from the area itself, aligned as asked, and
 * never falls back. It leaves them as they were.
 */
static struct page *rk_cma_mem_cma_alloc(struct rk_cma_heap *h, size_t len,
					 unsigned int order, dma_addr_t *dma)
{
	*dma = DMA_MAPPING_ERROR;
	return rk_cma_alloc(h->dev->cma_area, len >> PAGE_SHIFT, order);
}

static void rk_cma_mem_cma_free(struct rk_cma_heap *h, struct page *pages,
				size_t len, dma_addr_t dma)
{
	cma_release(h->dev->cma_area, pages, len >> PAGE_SHIFT);
}

static const struct rk_cma_mem rk_cma_mem_cma = {
	.name	= "cma_alloc()",
	.alloc	= rk_cma_mem_cma_alloc,
	.free	= rk_cma_mem_cma_free,
};
#endif

/*
 * A carve-out region is never lent to the system: the pages the heap holds
 * in no block are simply free, and @held is the region's allocation map.
 * A block is taken by setting its pages there, under the heap's lock, and
 * is back once rk_cma_pool_trim() has cleared them: nothing is left to do
 * on free. Blocks are aligned to 2^@order pages of physical memory, as
 * cma_alloc() aligns them.
 */
static struct page *rk_cma_mem_carve_alloc(struct rk_cma_heap *h, size_t len,
					   unsigned int order, dma_addr_t *dma)
{
	unsigned long n = len >> PAGE_SHIFT, mask = BIT(order) - 1;
	unsigned long first;
	bool found;

	*dma = DMA_MAPPING_ERROR;
	spin_lock(&h->lock);
	first = bitmap_find_next_zero_area_off(h->held, h->npages, 0, n, mask,
					       PHYS_PFN(h->base) & mask);
	found = first + n <= h->npages;
	if (found) {
		bitmap_set(h->held, first, n);
		h->gen++;
	}
	spin_unlock(&h->lock);
	return found ? pfn_to_page(PHYS_PFN(h->base) + first) : NULL;
}

static void rk_cma_mem_carve_free(struct rk_cma_heap *h, struct page *pages,
				  size_t len, dma_addr_t dma)
{
}

static const struct rk_cma_mem rk_cma_mem_carve = {
	.name		= "its own page map (carve-out)",
	.exclusive	= true,
	.alloc		= rk_cma_mem_carve_alloc,
	.free		= rk_cma_mem_carve_free,
};

/*
 * A carve-out's own page map; else cma_alloc() where the kernel exports it
 * and our device's mappings reach the pages, else the DMA API.
 */
static const struct rk_cma_mem *rk_cma_mem_backend(struct rk_cma_heap *h,
						   bool carve_out)
{
	if (carve_out)
		return &rk_cma_mem_carve;
#if RK_HAVE_CMA_ALLOC
	if (h->reaches)
		return &rk_cma_mem_cma;
#endif
	return &rk_cma_mem_dma;
}

/* ------------------------------------------------------------------ pool */

static unsigned long rk_cma_pool_pages(struct rk_cma_heap *h)
{
	lockdep_assert_held(&h->lock);
	return h->nr_held - h->nr_used;
}

/*
 * Put @buf in a free run of block @b: mark its pages used and set its
 * place. Returns false if no run of @b is long enough.
 */
static bool rk_cma_block_carve(struct rk_cma_heap *h, struct rk_cma_block *b,
			       struct rk_cma_buffer *buf)
{
	unsigned long n = buf->len >> PAGE_SHIFT, end = b->first + b->npages;
	unsigned long first;

	lockdep_assert_held(&h->lock);
	if (b->npages - b->used < n)
		return false;
	first = bitmap_find_next_zero_area(h->bitmap, end, b->first, n, 0);
	if (first + n > end)
		return false;
	bitmap_set(h->bitmap, first, n);
	b->used += n;
	h->nr_used += n;
	h->gen++;
	buf->block = b;
	buf->pages = b->pages + (first - b->first);
	return true;
}

/* Give @buf's pages back to its block. */
static void rk_cma_block_uncarve(struct rk_cma_heap *h,
				 struct rk_cma_buffer *buf)
{
	struct rk_cma_block *b = buf->block;
	unsigned long n = buf->len >> PAGE_SHIFT;

	spin_lock(&h->lock);
	bitmap_clear(h->bitmap, b->first + (buf->pages - b->pages), n);
	b->used -= n;
	h->nr_used -= n;
	h->gen++;
	spin_unlock(&h->lock);
}

/* which blocks may take a buffer from the pool */
enum rk_cma_fit {
	RK_CMA_FIT_SHARED,	/* chunks, for a small buffer */
	RK_CMA_FIT_EXACT,	/* an empty block of the buffer's size */
	RK_CMA_FIT_ANY,		/* any free run */
};

static bool rk_cma_block_fits(struct rk_cma_heap *h, struct rk_cma_block *b,
			      size_t len, enum rk_cma_fit fit)
{
	switch (fit) {
	case RK_CMA_FIT_SHARED:
		return b->npages == h->chunk >> PAGE_SHIFT;
	case RK_CMA_FIT_EXACT:
		return !b->used && b->npages == len >> PAGE_SHIFT;
	default:
		return true;
	}
}

/* Give @buf pages of a block the heap holds. Returns false if none fit. */
static bool rk_cma_pool_take(struct rk_cma_heap *h, struct rk_cma_buffer *buf,
			     enum rk_cma_fit fit)
{
	struct rk_cma_block *b;
	bool found = false;

	spin_lock(&h->lock);
	list_for_each_entry(b, &h->blocks, node) {
		if (rk_cma_block_fits(h, b, buf->len, fit) &&
		    rk_cma_block_carve(h, b, buf)) {
			found = true;
			break;
		}
	}
	spin_unlock(&h->lock);
	return found;
}

/*
 * Take a block of @len bytes from the area, aligned to 2^@order pages, and
 * put @buf at its start. Returns false if the area has no such block.
 */
static bool rk_cma_block_new(struct rk_cma_heap *h, struct rk_cma_buffer *buf,
			     size_t len, unsigned int order)
{
	struct rk_cma_block *b;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return false;
	b->pages = h->mem->alloc(h, len, order, &b->dma);
	if (!b->pages) {
		kfree(b);
		return false;
	}
	b->first = (page_to_phys(b->pages) - h->base) >> PAGE_SHIFT;
	b->npages = len >> PAGE_SHIFT;

	spin_lock(&h->lock);
	list_add_tail(&b->node, &h->blocks);
	bitmap_set(h->held, b->first, b->npages);
	h->nr_held += b->npages;
	h->gen++;
	rk_cma_block_carve(h, b, buf);
	spin_unlock(&h->lock);
	return true;
}

/*
 * Give empty blocks back to the area until the heap keeps at most @keep
 * free pages, or no empty block is left. Returns the pages given back.
 */
static unsigned long rk_cma_pool_trim(struct rk_cma_heap *h,
				      unsigned long keep)
{
	struct rk_cma_block *b, *tmp;
	unsigned long freed = 0;
	LIST_HEAD(gone);

	mutex_lock(&h->trim_lock);
	spin_lock(&h->lock);
	list_for_each_entry_safe(b, tmp, &h->blocks, node) {
		if (rk_cma_pool_pages(h) <= keep)
			break;
		if (b->used)
			continue;
		list_move(&b->node, &gone);
		bitmap_clear(h->held, b->first, b->npages);
		h->nr_held -= b->npages;
		h->gen++;
		freed += b->npages;
	}
	spin_unlock(&h->lock);

	list_for_each_entry_safe(b, tmp, &gone, node) {
		h->mem->free(h, b->pages, b->npages << PAGE_SHIFT, b->dma);
		kfree(b);
	}
	mutex_unlock(&h->trim_lock);
	return freed;
}

/* The pages the pool may keep: none once the heap was removed. */
static unsigned long rk_cma_pool_max(struct rk_cma_heap *h)
{
	bool off;

	spin_lock(&h->lock);
	off = h->no_pool;
	spin_unlock(&h->lock);
	return off ? 0 : (unsigned long)READ_ONCE(rk_cma_pool_max_kb) >>
			 (PAGE_SHIFT - 10);
}

/*
 * Pages for @buf: small buffers share chunks, others take a block of their
 * size; both from the pool first. Returns whether the pages are known to
 * be zero.
 */
static int rk_cma_place(struct rk_cma_heap *h, struct rk_cma_buffer *buf)
{
	size_t len = buf->len;

	if (len <= h->chunk / RK_CMA_SHARERS) {
		if (rk_cma_pool_take(h, buf, RK_CMA_FIT_SHARED))
			return 0;
		if (rk_cma_block_new(h, buf, h->chunk, get_order(h->chunk)))
			return h->mem->zeroed;
	} else if (rk_cma_pool_take(h, buf, RK_CMA_FIT_EXACT)) {
		return 0;
	}
	/* the region is short of room: any run the pool has, or our own */
	if (rk_cma_pool_take(h, buf, RK_CMA_FIT_ANY))
		return 0;
	if (rk_cma_block_new(h, buf, len, 0))
		return h->mem->zeroed;
	/*
	 * What the pool keeps may be in the way, or blocks that are going
	 * back right now: the trim returns once they are back.
	 */
	rk_cma_pool_trim(h, 0);
	if (rk_cma_block_new(h, buf, len, 0))
		return h->mem->zeroed;
	return -ENOMEM;
}

/* Undo rk_cma_place(): what the pool cannot keep goes back to the area. */
static void rk_cma_unplace(struct rk_cma_heap *h, struct rk_cma_buffer *buf)
{
	rk_cma_block_uncarve(h, buf);
	rk_cma_pool_trim(h, rk_cma_pool_max(h));
}

/*
 * Where blocks are not mapped, a buffer has a mapping of its own. Where
 * they are (dma_alloc_pages()), a second mapping of the same pages would
 * make DMA-API debugging fail to tell which one a sync is for: the buffer
 * uses its part of the block's. DMA-API debugging then looks for that
 * mapping back from the buffer, in 5.10 no further than the device's
 * maximum segment size.
 */
static int rk_cma_buffer_map(struct rk_cma_heap *h, struct rk_cma_buffer *buf)
{
	struct rk_cma_block *b = buf->block;

	if (h->mem->mapped) {
		buf->dma = b->dma + ((buf->pages - b->pages) << PAGE_SHIFT);
		return 0;
	}
	/* a bounce buffer for life would be of no use, and scarce */
	if (!h->reaches) {
		buf->dma = DMA_MAPPING_ERROR;
		return 0;
	}
	buf->dma = dma_map_page_attrs(h->dev, buf->pages, 0, buf->len,
				      DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
	return dma_mapping_error(h->dev, buf->dma);
}

static struct rk_cma_buffer *rk_cma_buffer_alloc(struct rk_dma_heap *heap,
						 size_t len, bool uncached)
{
	struct rk_cma_heap *h = rk_dma_heap_get_drvdata(heap);
	struct rk_cma_buffer *buf;
	int zeroed, ret;

	if (len > h->size) {
		pr_warn_ratelimited("%s: allocation rejected: %zu bytes is more than the whole region (%zu bytes)\n",
				    heap->name, len, h->size);
		return ERR_PTR(-EINVAL);
	}
	if (uncached && !h->reaches) {
		pr_warn_ratelimited("%s: uncached allocation refused: the kernel bounces this carve-out's DMA mappings, so its cache cannot be cleaned\n",
				    heap->name);
		return ERR_PTR(-EINVAL);
	}

	/* a region known to be full is not even tried */
	if (!rk_cma_has_free_run(h, len))
		return ERR_PTR(-ENOMEM);

	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	buf->h = h;
	buf->heap = heap;
	buf->len = len;
	buf->uncached = uncached;
	mutex_init(&buf->lock);
	INIT_LIST_HEAD(&buf->attachments);

	zeroed = rk_cma_place(h, buf);
	if (zeroed < 0) {
		ret = zeroed;
		goto err_free;
	}
	if (rk_cma_buffer_map(h, buf)) {
		ret = -ENOMEM;
		goto err_unplace;
	}
	/* nothing of a previous owner may reach the next one */
	if (!zeroed)
		memset(page_address(buf->pages), 0, len);
	/* where mappings bounce, no device reaches the pages themselves */
	if (uncached)
		rk_cma_uncache(h, buf->dma, len);
	else if (h->reaches)
		rk_cma_write_back(h, buf->dma, len);
	return buf;

err_unplace:
	rk_cma_unplace(h, buf);
err_free:
	kfree(buf);
	return ERR_PTR(ret);
}

/*
 * Give the pages back to their block, then (@tracked) end the record: with
 * the last buffer of a removed heap, the heap's state goes there.
 */
static void rk_cma_buffer_free(struct rk_cma_buffer *buf, bool tracked)
{
	struct rk_cma_heap *h = buf->h;

	if (!h->mem->mapped && h->reaches)
		dma_unmap_page_attrs(h->dev, buf->dma, buf->len,
				     DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
	rk_cma_unplace(h, buf);

	if (tracked)
		rk_dma_heap_untrack(buf->heap, &buf->rec);
	kfree(buf);
}

/* ------------------------------------------------------------ dma-buf ops */

static int rk_cma_attach(struct dma_buf *dmabuf,
			 struct dma_buf_attachment *attach)
{
	struct rk_cma_buffer *buf = dmabuf->priv;
	struct rk_cma_attachment *a;
	struct scatterlist *sg;
	size_t seg, off = 0;
	unsigned int nents;
	int ret;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;

	/*
	 * The buffer is one contiguous range, but the importer may not take
	 * segments that long (DMA-API debugging reports it): split at its
	 * limit.
	 */
	seg = dma_get_max_seg_size(attach->dev) & PAGE_MASK;
	if (!seg)
		seg = PAGE_SIZE;
	nents = DIV_ROUND_UP(buf->len, seg);
	ret = sg_alloc_table(&a->sgt, nents, GFP_KERNEL);
	if (ret) {
		kfree(a);
		return ret;
	}
	for_each_sgtable_sg(&a->sgt, sg, nents) {
		size_t chunk = min(seg, buf->len - off);

		sg_set_page(sg, buf->pages + (off >> PAGE_SHIFT), chunk, 0);
		off += chunk;
	}

	a->dev = attach->dev;
	attach->priv = a;
	mutex_lock(&buf->lock);
	list_add(&a->node, &buf->attachments);
	mutex_unlock(&buf->lock);
	rk_dma_heap_track_attach(buf->heap, &buf->rec, &a->track,
				 attach->dev);
	return 0;
}

static void rk_cma_detach(struct dma_buf *dmabuf,
			  struct dma_buf_attachment *attach)
{
	struct rk_cma_buffer *buf = dmabuf->priv;
	struct rk_cma_attachment *a = attach->priv;

	rk_dma_heap_track_detach(buf->heap, &a->track);
	mutex_lock(&buf->lock);
	list_del(&a->node);
	mutex_unlock(&buf->lock);
	sg_free_table(&a->sgt);
	kfree(a);
}

/*
 * Sync bytes [@offset, @offset + @len) of @sgt, mapped for @dev: the parts
 * of the segments that overlap them.
 */
static void rk_cma_sync_sgt(struct device *dev, struct sg_table *sgt,
			    size_t offset, size_t len,
			    enum dma_data_direction dir, bool for_cpu)
{
	struct scatterlist *sg;
	size_t pos = 0, start, end;
	int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		start = max(offset, pos);
		end = min(offset + len, pos + sg_dma_len(sg));
		if (start < end && for_cpu)
			dma_sync_single_range_for_cpu(dev, sg_dma_address(sg),
						      start - pos, end - start,
						      dir);
		else if (start < end)
			dma_sync_single_range_for_device(dev, sg_dma_address(sg),
							 start - pos,
							 end - start, dir);
		pos += sg_dma_len(sg);
	}
}

/*
 * Sync bytes [@offset, @offset + @len) of @buf for importer @a. The bounce
 * buffer of an uncached buffer is filled and emptied through the kernel's
 * cached mapping of its pages: no stale line may feed the copy to the
 * device, and the copy back leaves the cache as an allocation does.
 */
static void rk_cma_sync_attachment(struct rk_cma_buffer *buf,
				   struct rk_cma_attachment *a, size_t offset,
				   size_t len, enum dma_data_direction dir,
				   bool for_cpu)
{
	struct rk_cma_heap *h = buf->h;

	if (buf->uncached && !for_cpu)
		dma_sync_single_range_for_cpu(h->dev, buf->dma, offset, len,
					      DMA_FROM_DEVICE);
	/*
	 * The whole buffer as the mapping it is: DMA-API debugging tells a
	 * device's several mappings of one buffer apart only so.
	 */
	if (!offset && len == buf->len && for_cpu)
		dma_sync_sgtable_for_cpu(a->dev, &a->sgt, dir);
	else if (!offset && len == buf->len)
		dma_sync_sgtable_for_device(a->dev, &a->sgt, dir);
	else
		rk_cma_sync_sgt(a->dev, &a->sgt, offset, len, dir, for_cpu);
	if (buf->uncached && for_cpu)
		rk_cma_uncache(h, buf->dma + offset, len);
}

/* Whether every segment of @sgt, mapped for @dev, is the pages themselves. */
static bool rk_cma_sgt_reaches(struct device *dev, struct sg_table *sgt)
{
	struct scatterlist *sg;
	int i;

	if (sgt->nents != sgt->orig_nents)
		return false;
	for_each_sgtable_dma_sg(sgt, sg, i)
		if (sg_dma_len(sg) != sg->length ||
		    !rk_dma_reaches(dev, sg_dma_address(sg), sg_phys(sg)))
			return false;
	return true;
}

/*
 * dma_alloc_pages() registered the whole buffer with DMA-API debugging as
 * our own device's mapping, and a dma-buf is shared by several devices at
 * once: mapped the usual way, every import would be reported as an
 * overlapping mapping. So the mapping skips the CPU sync and the same sync
 * is done right after (and before unmapping) through the sync calls, which
 * have exactly the effect the map would have had, bounce buffers included.
 * An uncached buffer needs no cache maintenance, only its bounce buffers.
 */
static struct sg_table *rk_cma_map(struct dma_buf_attachment *attach,
				   enum dma_data_direction dir)
{
	struct rk_cma_buffer *buf = attach->dmabuf->priv;
	struct rk_cma_attachment *a = attach->priv;
	bool sync;
	int ret;

	ret = dma_map_sgtable(attach->dev, &a->sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
	if (ret)
		return ERR_PTR(ret);
	sync = !buf->uncached || !rk_cma_sgt_reaches(attach->dev, &a->sgt);
	if (sync)
		rk_cma_sync_attachment(buf, a, 0, buf->len, dir, false);
	mutex_lock(&buf->lock);
	a->mapped = true;
	a->sync = sync;
	mutex_unlock(&buf->lock);
	return &a->sgt;
}

static void rk_cma_unmap(struct dma_buf_attachment *attach,
			 struct sg_table *sgt, enum dma_data_direction dir)
{
	struct rk_cma_buffer *buf = attach->dmabuf->priv;
	struct rk_cma_attachment *a = attach->priv;

	mutex_lock(&buf->lock);
	a->mapped = false;
	mutex_unlock(&buf->lock);
	if (a->sync)
		rk_cma_sync_attachment(buf, a, 0, buf->len, dir, true);
	dma_unmap_sgtable(attach->dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
}

/*
 * Hand bytes [@offset, @offset + @len) of the buffer to the CPU (@for_cpu)
 * or back to the devices: through each importer's mapping that needs it,
 * or, when nobody has a cached buffer mapped, as our own device's buffer.
 * The CPU reaches an uncached buffer past its caches: only importers'
 * bounce buffers need anything.
 */
static void rk_cma_sync(struct rk_cma_buffer *buf, size_t offset, size_t len,
			enum dma_data_direction dir, bool for_cpu)
{
	struct rk_cma_heap *h = buf->h;
	struct rk_cma_attachment *a;
	bool mapped = false;

	if (!len)
		return;
	mutex_lock(&buf->lock);
	list_for_each_entry(a, &buf->attachments, node) {
		if (!a->mapped)
			continue;
		mapped = true;
		if (a->sync)
			rk_cma_sync_attachment(buf, a, offset, len, dir,
					       for_cpu);
	}
	if (!mapped && !buf->uncached && h->reaches && for_cpu)
		dma_sync_single_range_for_cpu(h->dev, buf->dma, offset, len,
					      dir);
	else if (!mapped && !buf->uncached && h->reaches)
		dma_sync_single_range_for_device(h->dev, buf->dma, offset,
						 len, dir);
	mutex_unlock(&buf->lock);
}

static int rk_cma_begin_cpu_access(struct dma_buf *dmabuf,
				   enum dma_data_direction dir)
{
	struct rk_cma_buffer *buf = dmabuf->priv;

	rk_cma_sync(buf, 0, buf->len, dir, true);
	return 0;
}

static int rk_cma_end_cpu_access(struct dma_buf *dmabuf,
				 enum dma_data_direction dir)
{
	struct rk_cma_buffer *buf = dmabuf->priv;

	rk_cma_sync(buf, 0, buf->len, dir, false);
	return 0;
}

#if RK_HAVE_DMABUF_PARTIAL
/*
 * The dma-buf core checks the range of DMA_BUF_IOCTL_SYNC_PARTIAL, but
 * vendor drivers (rknpu) call these callbacks directly with the range
 * their user gave: it is checked here again.
 */
static int rk_cma_sync_partial(struct dma_buf *dmabuf, unsigned int offset,
			       unsigned int len, enum dma_data_direction dir,
			       bool for_cpu)
{
	struct rk_cma_buffer *buf = dmabuf->priv;

	if (offset > buf->len || len > buf->len - offset) {
		pr_warn_ratelimited("%s: partial sync of bytes %u+%u refused: the buffer has %zu bytes\n",
				    buf->heap->name, offset, len, buf->len);
		return -EINVAL;
	}
	rk_cma_sync(buf, offset, len, dir, for_cpu);
	return 0;
}

static int rk_cma_begin_cpu_access_partial(struct dma_buf *dmabuf,
					   enum dma_data_direction dir,
					   unsigned int offset,
					   unsigned int len)
{
	return rk_cma_sync_partial(dmabuf, offset, len, dir, true);
}

static int rk_cma_end_cpu_access_partial(struct dma_buf *dmabuf,
					 enum dma_data_direction dir,
					 unsigned int offset, unsigned int len)
{
	return rk_cma_sync_partial(dmabuf, offset, len, dir, false);
}
#endif

static int rk_cma_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct rk_cma_buffer *buf = dmabuf->priv;
	unsigned long npages = buf->len >> PAGE_SHIFT;

	/*
	 * A private mapping would take copies on write that no device sees,
	 * and remap_pfn_range() would show the buffer's physical address as
	 * its offset in /proc/PID/maps: shared mappings only. A shared mapping
	 * of a file opened read-only has VM_MAYSHARE without VM_SHARED.
	 */
	if (!(vma->vm_flags & (VM_SHARED | VM_MAYSHARE))) {
		pr_warn_ratelimited("%s: mmap refused: buffers can only be mapped MAP_SHARED\n",
				    buf->heap->name);
		return -EINVAL;
	}
	/* Checked here too: a mapping past the end would expose other pages. */
	if (vma->vm_pgoff >= npages || vma_pages(vma) > npages - vma->vm_pgoff)
		return -EINVAL;

	/*
	 * Cached, like the kernel's view, and DMA_BUF_IOCTL_SYNC keeps it
	 * coherent; or write-combined, past the caches.
	 */
	if (buf->uncached)
		vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);
	return remap_pfn_range(vma, vma->vm_start,
			       page_to_pfn(buf->pages) + vma->vm_pgoff,
			       vma->vm_end - vma->vm_start, vma->vm_page_prot);
}

/* A write-combined kernel mapping of @buf, or NULL. */
static void *rk_cma_vmap_wc(struct rk_cma_buffer *buf)
{
	unsigned long i, npages = buf->len >> PAGE_SHIFT;
	struct page **pages;
	void *vaddr;

	pages = kvmalloc_array(npages, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return NULL;
	for (i = 0; i < npages; i++)
		pages[i] = buf->pages + i;
	vaddr = vmap(pages, npages, VM_MAP, pgprot_writecombine(PAGE_KERNEL));
	kvfree(pages);
	return vaddr;
}

/*
 * The region is in lowmem (checked at probe): the linear map is the vmap
 * of a cached buffer. An uncached one has a write-combined mapping of its
 * own, made for the first user and kept until the last is done.
 */
static void *rk_cma_vmap_get(void *priv)
{
	struct rk_cma_buffer *buf = priv;
	void *vaddr = page_address(buf->pages);

	mutex_lock(&buf->lock);
	if (buf->uncached) {
		if (!buf->vmap_cnt)
			buf->vaddr = rk_cma_vmap_wc(buf);
		vaddr = buf->vaddr;
	}
	if (vaddr)
		buf->vmap_cnt++;
	mutex_unlock(&buf->lock);
	return vaddr;
}

static void rk_cma_vmap_put(void *priv)
{
	struct rk_cma_buffer *buf = priv;

	mutex_lock(&buf->lock);
	if (!buf->vmap_cnt) {
		pr_warn_ratelimited("%s: vunmap of a buffer that is not vmapped\n",
				    buf->heap->name);
	} else if (!--buf->vmap_cnt && buf->vaddr) {
		vunmap(buf->vaddr);
		buf->vaddr = NULL;
	}
	mutex_unlock(&buf->lock);
}

RK_DMA_BUF_VMAP_OPS(rk_cma_vmap, rk_cma_vunmap, rk_cma_vmap_get, rk_cma_vmap_put)

static void rk_cma_release(struct dma_buf *dmabuf)
{
	struct rk_cma_buffer *buf = dmabuf->priv;

	if (buf->vmap_cnt)
		pr_warn("%s: buffer released with %u kernel mapping(s) left\n",
			buf->heap->name, buf->vmap_cnt);
	if (buf->vaddr)
		vunmap(buf->vaddr);
	rk_cma_buffer_free(buf, true);
}

static const struct dma_buf_ops rk_cma_dmabuf_ops = {
	.attach			= rk_cma_attach,
	.detach			= rk_cma_detach,
	.map_dma_buf		= rk_cma_map,
	.unmap_dma_buf		= rk_cma_unmap,
	.begin_cpu_access	= rk_cma_begin_cpu_access,
	.end_cpu_access		= rk_cma_end_cpu_access,
#if RK_HAVE_DMABUF_PARTIAL
	.begin_cpu_access_partial = rk_cma_begin_cpu_access_partial,
	.end_cpu_access_partial	= rk_cma_end_cpu_access_partial,
#endif
	.mmap			= rk_cma_mmap,
	.vmap			= rk_cma_vmap,
	.vunmap			= rk_cma_vunmap,
	.release		= rk_cma_release,
};

/* -------------------------------------------------------------- heap ops */

static struct dma_buf *rk_cma_allocate(struct rk_dma_heap *heap,
				       unsigned long len,
				       unsigned long fd_flags,
				       unsigned long heap_flags,
				       const char *name)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct rk_cma_buffer *buf;
	struct dma_buf *dmabuf;

	buf = rk_cma_buffer_alloc(heap, len, heap_flags & RK_DMA_HEAP_UNCACHED);
	if (IS_ERR(buf))
		return ERR_CAST(buf);

	exp_info.exp_name = heap->name;
	exp_info.ops = &rk_cma_dmabuf_ops;
	exp_info.size = buf->len;
	exp_info.flags = fd_flags;
	exp_info.priv = buf;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		/* Not exported: the release callback will not run. */
		rk_cma_buffer_free(buf, false);
		return dmabuf;
	}
	rk_dma_heap_track(heap, &buf->rec, page_to_phys(buf->pages), buf->len,
			  name, dmabuf);
	return dmabuf;
}

static struct page *rk_cma_alloc_contig_pages(struct rk_dma_heap *heap,
					      size_t len, const char *name)
{
	struct rk_cma_heap *h = rk_dma_heap_get_drvdata(heap);
	struct rk_cma_buffer *buf;
	int ret;

	buf = rk_cma_buffer_alloc(heap, len, false);
	if (IS_ERR(buf))
		return ERR_CAST(buf);
	ret = xa_insert(&h->contig, page_to_pfn(buf->pages), buf, GFP_KERNEL);
	if (ret) {
		rk_cma_buffer_free(buf, false);
		return ERR_PTR(ret);
	}
	rk_dma_heap_track(heap, &buf->rec, page_to_phys(buf->pages), buf->len,
			  name, NULL);
	return buf->pages;
}

static void rk_cma_free_contig_pages(struct rk_dma_heap *heap,
				     struct page *pages, size_t len,
				     const char *name)
{
	struct rk_cma_heap *h = rk_dma_heap_get_drvdata(heap);
	unsigned long pfn = page_to_pfn(pages);
	struct rk_cma_buffer *buf;
	bool found, match = false;

	/* a buffer left in the array may be freed by its owner at any time */
	xa_lock(&h->contig);
	buf = xa_load(&h->contig, pfn);
	found = buf;
	if (buf && buf->len == len) {
		__xa_erase(&h->contig, pfn);
		match = true;
	}
	xa_unlock(&h->contig);

	if (!match) {
		pr_err("%s: refusing to free %zu bytes at pfn 0x%lx: not a contiguous allocation of this heap%s\n",
		       heap->name, len, pfn, found ? " with that length" : "");
		return;
	}
	rk_cma_buffer_free(buf, true);
}

/*
 * A page that our bitmap calls free may still be taken: from 6.19 mainline
 * runs a CMA heap of its own on every reusable region, and where
 * cma_alloc() is exported any module may allocate from the area. Such a
 * page holds a reference but is neither on an LRU list nor in a mapping,
 * as the pages the kernel only borrowed from the region are. Call it taken
 * (never free): at worst a borrowed page in transit is counted as held.
 * Nobody else takes pages of a carve-out, whose pages are all reserved.
 */
static bool rk_cma_page_taken(struct rk_cma_heap *h, unsigned long i)
{
	struct page *page;

	lockdep_assert_held(&h->lock);
	if (test_bit(i, h->bitmap))
		return true;
	/* the pool's pages are free for the heap's next buffers */
	if (test_bit(i, h->held) || h->mem->exclusive)
		return false;
	page = compound_head(pfn_to_page(PHYS_PFN(h->base) + i));
	return page_count(page) && !PageLRU(page) && !READ_ONCE(page->mapping);
}

/* Whether page @i is the pool's: in a block the heap holds, in no buffer. */
static bool rk_cma_page_pooled(struct rk_cma_heap *h, unsigned long i)
{
	lockdep_assert_held(&h->lock);
	return test_bit(i, h->held) && !test_bit(i, h->bitmap);
}

/*
 * Count the region's taken pages and find its longest free run, a batch
 * of pages per hold of the lock: the figures of a busy heap are those of
 * a moment during the walk. A function of its own, which tests watch.
 */
static noinline void rk_cma_region_walk(struct rk_cma_heap *h,
					unsigned long *taken,
					unsigned long *largest)
{
	unsigned long i = 0, end, run = 0;

	*taken = 0;
	*largest = 0;
	while (i < h->npages) {
		end = min(i + RK_CMA_WALK_BATCH, h->npages);
		spin_lock(&h->lock);
		for (; i < end; i++) {
			if (rk_cma_page_taken(h, i)) {
				(*taken)++;
				run = 0;
			} else {
				*largest = max(*largest, ++run);
			}
		}
		spin_unlock(&h->lock);
		cond_resched();
	}
}

static void rk_cma_region_info(struct rk_dma_heap *heap,
			       struct rk_dma_heap_region_info *info)
{
	struct rk_cma_heap *h = rk_dma_heap_get_drvdata(heap);
	unsigned long used, gen, taken, largest;
	bool reuse;

	spin_lock(&h->lock);
	used = h->nr_used;
	info->pooled = rk_cma_pool_pages(h) << PAGE_SHIFT;
	gen = h->gen;
	reuse = info->may_reuse && h->walk.valid && h->walk.gen == gen;
	taken = h->walk.taken;
	largest = h->walk.largest;
	spin_unlock(&h->lock);

	if (!reuse) {
		rk_cma_region_walk(h, &taken, &largest);
		spin_lock(&h->lock);
		h->walk.gen = gen;
		h->walk.taken = taken;
		h->walk.largest = largest;
		h->walk.valid = true;
		spin_unlock(&h->lock);
	}
	info->base = h->base;
	info->size = h->size;
	info->used = used << PAGE_SHIFT;
	/* the walk and @used are not of one moment: never below zero */
	info->outside = (taken - min(taken, used)) << PAGE_SHIFT;
	info->largest_free = largest << PAGE_SHIFT;
}

static void rk_cma_show_bitmap(struct rk_dma_heap *heap, struct seq_file *m,
			       bool pooled)
{
	struct rk_cma_heap *h = rk_dma_heap_get_drvdata(heap);
	unsigned long i, nwords = DIV_ROUND_UP(h->npages, 32);
	unsigned int bit;
	u32 word;

	spin_lock(&h->lock);
	for (i = 0; i < nwords; i++) {
		word = 0;
		for (bit = 0; bit < 32 && i * 32 + bit < h->npages; bit++)
			if (pooled ? rk_cma_page_pooled(h, i * 32 + bit) :
				     rk_cma_page_taken(h, i * 32 + bit))
				word |= BIT(bit);
		seq_printf(m, "%08x%c", word,
			   (i % 8 == 7 || i == nwords - 1) ? '\n' : ' ');
	}
	spin_unlock(&h->lock);
}

static long rk_cma_get_pool_size(struct rk_dma_heap *heap)
{
	struct rk_cma_heap *h = rk_dma_heap_get_drvdata(heap);
	unsigned long pages;

	spin_lock(&h->lock);
	pages = rk_cma_pool_pages(h);
	spin_unlock(&h->lock);
	return pages << PAGE_SHIFT;
}

static void rk_cma_free_state(struct rk_cma_heap *h)
{
	bitmap_free(h->held);
	bitmap_free(h->bitmap);
	kfree(h);
}

/*
 * The heap was removed and its last buffer is gone: the pool and the
 * region go back to the device, which we no longer hold.
 */
static void rk_cma_release_heap(struct rk_dma_heap *heap)
{
	struct rk_cma_heap *h = rk_dma_heap_get_drvdata(heap);

	rk_cma_pool_trim(h, 0);
	xa_destroy(&h->contig);
	/* before the device is free to bind again: see rk_cma_probe() */
	of_reserved_mem_device_release(h->dev);
	mutex_lock(&rk_cma_states_lock);
	list_del(&h->node);
	mutex_unlock(&rk_cma_states_lock);
	put_device(h->dev);
	rk_cma_free_state(h);
}

static const struct rk_dma_heap_ops rk_cma_heap_ops = {
	.allocate		= rk_cma_allocate,
	.contig_alloc		= rk_cma_alloc_contig_pages,
	.contig_free		= rk_cma_free_contig_pages,
	.get_pool_size		= rk_cma_get_pool_size,
	.region_info		= rk_cma_region_info,
	.show_bitmap		= rk_cma_show_bitmap,
	.release		= rk_cma_release_heap,
};

/* ------------------------------------------------------- platform driver */

/*
 * The kernel makes a reusable region a CMA area only if its base and size
 * are multiples of the pageblock size, which depends on its configuration,
 * and refuses others with a line that names neither. Check what the device
 * tree asks for, to say what to fix.
 */
static bool rk_cma_region_aligned(struct device *dev, struct device_node *np)
{
	phys_addr_t align = RK_CMA_MIN_ALIGNMENT;
	struct resource res;
	u64 base = 0, size;
	const __be32 *prop;
	int len;

	if (!of_address_to_resource(np, 0, &res)) {
		base = res.start;
		size = resource_size(&res);
	} else {
		/* placed by the kernel: "size", #size-cells wide */
		prop = of_get_property(np, "size", &len);
		if (!prop || len != of_n_size_cells(np) * sizeof(*prop))
			return true;
		size = of_read_number(prop, len / sizeof(*prop));
	}
	if (!((base | size) & (align - 1)))
		return true;
	dev_err(dev, "no heap registered: the kernel refused memory-region %pOF (%llu KiB) as a CMA area: its base and size must be multiples of this kernel's pageblock size, %llu KiB\n",
		np, size >> 10, (u64)align >> 10);
	return false;
}

/*
 * Whether the kernel kept a region that is no CMA area reserved, with its
 * pages mapped: on ARM32 it gives a "shared-dma-pool" that is neither
 * reusable nor no-map back to the system at boot (5.10 even keeps its
 * record, later kernels drop it).
 */
static bool rk_cma_region_kept(struct reserved_mem *rmem)
{
	unsigned long pfn, end = PHYS_PFN(rmem->base + rmem->size);

	for (pfn = PHYS_PFN(rmem->base); pfn < end; pfn++)
		if (!pfn_valid(pfn) || !PageReserved(pfn_to_page(pfn)))
			return false;
	return true;
}

/*
 * The region behind the node's memory-region: a reusable "shared-dma-pool",
 * which the kernel made a CMA area, or any other mapped region the kernel
 * keeps reserved (*@carve_out).
 */
static int rk_cma_check_region(struct device *dev, struct reserved_mem **out,
			       bool *carve_out)
{
	struct device_node *np;
	struct reserved_mem *rmem;
	bool pool, reusable;
	phys_addr_t last;

	np = of_parse_phandle(dev->of_node, "memory-region", 0);
	if (!np) {
		dev_err(dev, "no heap registered: the node has no memory-region\n");
		return -ENODEV;
	}
	pool = of_device_is_compatible(np, "shared-dma-pool");
	reusable = of_property_read_bool(np, "reusable");
	if (of_property_read_bool(np, "no-map")) {
		dev_err(dev, "no heap registered: memory-region %pOF is no-map: the heap zeroes and maps buffers through the kernel linear map, which no-map leaves out\n",
			np);
		goto err;
	}
	if (reusable && !pool) {
		dev_err(dev, "no heap registered: memory-region %pOF is reusable but not a \"shared-dma-pool\", so the kernel lends it to no one\n",
			np);
		goto err;
	}
	if (reusable && !rk_cma_region_aligned(dev, np))
		goto err;
	rmem = of_reserved_mem_lookup(np);
	if (!reusable && rmem && !PAGE_ALIGNED(rmem->base | rmem->size)) {
		dev_err(dev, "no heap registered: memory-region %pOF (%pa, %llu KiB) is not page-aligned: a carve-out must start and end on a page boundary\n",
			np, &rmem->base, (u64)rmem->size >> 10);
		goto err;
	}
	if (!reusable && (!rmem || !rmem->size || !rk_cma_region_kept(rmem))) {
		dev_err(dev, "no heap registered: the kernel did not keep memory-region %pOF reserved (ARM32 kernels give back a \"shared-dma-pool\" that is neither reusable nor no-map): for a carve-out, leave out its compatible\n",
			np);
		goto err;
	}
	if (!rmem || !rmem->size) {
		dev_err(dev, "no heap registered: memory-region %pOF was not reserved at boot\n",
			np);
		goto err;
	}
	last = rmem->base + rmem->size - 1;
	if (!pfn_valid(PHYS_PFN(last)) || PageHighMem(pfn_to_page(PHYS_PFN(last)))) {
		dev_err(dev, "no heap registered: memory-region %pOF (%pa, %pa bytes) must lie in lowmem\n",
			np, &rmem->base, &rmem->size);
		goto err;
	}
	of_node_put(np);
	*out = rmem;
	*carve_out = !reusable;
	return 0;

err:
	of_node_put(np);
	return -ENODEV;
}

/*
 * The device tree's region: made our device's CMA area, or a carve-out the
 * heap allocates from itself.
 */
static int rk_cma_dt_region(struct device *dev, struct reserved_mem **rmem,
			    bool *carve_out)
{
	int ret;

	ret = rk_cma_check_region(dev, rmem, carve_out);
	if (ret || *carve_out)
		return ret;

	ret = of_reserved_mem_device_init(dev);
	if (ret || !dev->cma_area) {
		dev_err(dev, "no heap registered: the kernel did not set up a CMA area for the region (error %d)\n",
			ret);
		if (!ret)
			of_reserved_mem_device_release(dev);
		return -ENODEV;
	}
	return 0;
}

static bool rk_cma_state_of(struct device *dev)
{
	struct rk_cma_heap *h;
	bool found = false;

	mutex_lock(&rk_cma_states_lock);
	list_for_each_entry(h, &rk_cma_states, node)
		found |= h->dev == dev;
	mutex_unlock(&rk_cma_states_lock);
	return found;
}

/*
 * The heap's name: rk-dma-heap-cma, which Rockchip's programs open, unless
 * the node gives another in rockchip,heap-name, for a second heap.
 */
static int rk_cma_heap_name(struct device *dev, const char **name)
{
	struct device_node *np = dev->of_node;

	*name = RK_DMA_HEAP_CMA_NAME;
	if (!np || !of_find_property(np, "rockchip,heap-name", NULL))
		return 0;
	if (!of_property_read_string(np, "rockchip,heap-name", name) &&
	    (*name)[0] && !strchr(*name, '/'))
		return 0;
	dev_err(dev, "no heap registered: rockchip,heap-name must be one string, not empty, without '/'\n");
	return -ENODEV;
}

/*
 * Whether our device's streaming mappings are the very pages mapped. With
 * a 64-bit mask they are, unless the kernel bounces every mapping
 * (swiotlb=force) or gave the device a pool of its own: then a mapping is
 * a copy, and cache maintenance through it never touches the buffer. The
 * page tried is one of our own: a bounce copies what it maps.
 */
static bool rk_cma_dev_reaches(struct rk_cma_heap *h)
{
	struct page *page = alloc_page(GFP_KERNEL);
	bool reaches = false;
	dma_addr_t dma;

	if (!page)
		return false;
	dma = dma_map_page_attrs(h->dev, page, 0, PAGE_SIZE, DMA_BIDIRECTIONAL,
				 DMA_ATTR_SKIP_CPU_SYNC | DMA_ATTR_NO_WARN);
	if (!dma_mapping_error(h->dev, dma)) {
		reaches = rk_dma_reaches(h->dev, dma, page_to_phys(page));
		dma_unmap_page_attrs(h->dev, dma, PAGE_SIZE, DMA_BIDIRECTIONAL,
				     DMA_ATTR_SKIP_CPU_SYNC);
	}
	__free_page(page);
	return reaches;
}

static int rk_cma_probe(struct platform_device *pdev)
{
	struct rk_dma_heap_export_info info = {
		.ops = &rk_cma_heap_ops,
		.support_cma = true,
	};
	struct device *dev = &pdev->dev;
	struct reserved_mem *rmem;
	bool carve_out = false;
	struct rk_cma_heap *h;
	int ret;

	/*
	 * Probe errors are reported here in one line and returned as -ENODEV
	 * (or -EBUSY), which the driver core does not report again.
	 */
	if (rk_cma_state_of(dev)) {
		dev_err(dev, "no heap registered: buffers of the device's previous heap are still in use\n");
		return -EBUSY;
	}
	ret = rk_cma_heap_name(dev, &info.name);
	if (ret)
		return ret;
	if (dev->of_node)
		ret = rk_cma_dt_region(dev, &rmem, &carve_out);
	else
		ret = rk_dma_heap_boot_region(dev, &rmem);
	if (ret)
		return ret;

	/*
	 * The region may lie above 4 GiB: a 64-bit mask, as vendor drivers
	 * set on theirs, and no segment limit (a buffer's mapping may be far
	 * into its block's: see above).
	 */
	ret = rk_dma_heap_set_dev(dev);
	if (ret)
		goto err_release;
	/* not device-managed: buffers may outlive the binding */
	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h) {
		ret = -ENOMEM;
		goto err_release;
	}
	h->dev = dev;
	h->base = rmem->base;
	h->size = rmem->size;
	h->npages = rmem->size >> PAGE_SHIFT;
	h->chunk = min_t(size_t, RK_CMA_CHUNK, rounddown_pow_of_two(h->size));
	h->reaches = rk_cma_dev_reaches(h);
	h->mem = rk_cma_mem_backend(h, carve_out);
	/* dma_alloc_pages() maps a block as the very pages it returns */
	h->reaches |= h->mem->mapped;
	spin_lock_init(&h->lock);
	mutex_init(&h->trim_lock);
	INIT_LIST_HEAD(&h->blocks);
	xa_init(&h->contig);
	h->bitmap = bitmap_zalloc(h->npages, GFP_KERNEL);
	h->held = bitmap_zalloc(h->npages, GFP_KERNEL);
	if (!h->bitmap || !h->held) {
		ret = -ENOMEM;
		goto err_free;
	}

	info.priv = h;
	get_device(dev);
	h->heap = rk_dma_heap_register(&info, dev, NULL);
	if (IS_ERR(h->heap)) {
		ret = PTR_ERR(h->heap);
		dev_err(dev, "no heap registered: %d\n", ret);
		goto err_put;
	}
	mutex_lock(&rk_cma_states_lock);
	list_add(&h->node, &rk_cma_states);
	mutex_unlock(&rk_cma_states_lock);
	platform_set_drvdata(pdev, h);
	dev_info(dev, "heap %s: %zu KiB at %pa, allocated with %s%s\n",
		 h->heap->name, h->size >> 10, &h->base, h->mem->name,
		 h->reaches ? "" : "; the kernel bounces its DMA mappings: no uncached buffers");
	return 0;

err_put:
	put_device(dev);
err_free:
	rk_cma_free_state(h);
err_release:
	of_reserved_mem_device_release(dev);
	return ret == -ENOMEM ? ret : -ENODEV;
}

/* whether this module is being unloaded (never, built in) */
static bool rk_cma_unloading(void)
{
#ifdef MODULE
	return THIS_MODULE->state == MODULE_STATE_GOING;
#else
	return false;
#endif
}

static void rk_cma_remove_heap(struct platform_device *pdev)
{
	struct rk_cma_heap *h = platform_get_drvdata(pdev);
	struct rk_cma_buffer *buf;
	unsigned long pfn;

	/*
	 * On unload, dma-bufs pin this module, so only contiguous pages of
	 * drivers that were unloaded without freeing them can be left:
	 * reclaim them. When only the device goes, their drivers may still
	 * use and free them, as they may the dma-bufs: the heap's state stays
	 * until the last of them is back.
	 */
	if (rk_cma_unloading()) {
		xa_for_each(&h->contig, pfn, buf) {
			pr_warn("%s: freeing %zu KiB of contiguous pages that %s never freed\n",
				h->heap->name, buf->len >> 10, buf->rec.owner);
			xa_erase(&h->contig, pfn);
			rk_cma_buffer_free(buf, true);
		}
	}
	/* what buffers remain may be freed later; nothing else is kept */
	spin_lock(&h->lock);
	h->no_pool = true;
	spin_unlock(&h->lock);
	rk_cma_pool_trim(h, 0);
	rk_dma_heap_remove(h->heap);
}

RK_PLATFORM_REMOVE(rk_cma_remove, rk_cma_remove_heap)

static const struct of_device_id rk_cma_of_match[] = {
	{ .compatible = RK_CMA_COMPATIBLE },
	{ }
};
MODULE_DEVICE_TABLE(of, rk_cma_of_match);

static struct platform_driver rk_cma_driver = {
	.probe = rk_cma_probe,
	.remove = rk_cma_remove,
	.driver = {
		.name = "rk-dma-heap-cma",
		.of_match_table = rk_cma_of_match,
		/*
		 * The heap's memory and its users' buffers are tied to the
		 * device: it goes only with the module, which buffers pin.
		 */
		.suppress_bind_attrs = true,
	},
};

/* ------------------------------------------------------------- pool size */

/* Give back empty blocks of every heap until each keeps what it may. */
static void rk_cma_pools_trim(void)
{
	struct rk_cma_heap *h;

	mutex_lock(&rk_cma_states_lock);
	list_for_each_entry(h, &rk_cma_states, node)
		rk_cma_pool_trim(h, rk_cma_pool_max(h));
	mutex_unlock(&rk_cma_states_lock);
}

/* A new bound applies at once. */
static int rk_cma_pool_max_set(const char *val, const struct kernel_param *kp)
{
	int ret = param_set_uint(val, kp);

	if (!ret)
		rk_cma_pools_trim();
	return ret;
}

static const struct kernel_param_ops rk_cma_pool_max_ops = {
	.set = rk_cma_pool_max_set,
	.get = param_get_uint,
};
module_param_cb(pool_max_kb, &rk_cma_pool_max_ops, &rk_cma_pool_max_kb, 0644);
MODULE_PARM_DESC(pool_max_kb,
		 "Most free memory, in KiB, each heap keeps for reuse instead of giving it back to the system (default 8192)");

/*
 * The shrinker counts and frees the pool's empty blocks, in pages; not
 * those of a carve-out, which the system could not use.
 */
static unsigned long rk_cma_shrink_count(struct shrinker *s,
					 struct shrink_control *sc)
{
	struct rk_cma_block *b;
	struct rk_cma_heap *h;
	unsigned long pages = 0;

	mutex_lock(&rk_cma_states_lock);
	list_for_each_entry(h, &rk_cma_states, node) {
		if (h->mem->exclusive)
			continue;
		spin_lock(&h->lock);
		list_for_each_entry(b, &h->blocks, node)
			if (!b->used)
				pages += b->npages;
		spin_unlock(&h->lock);
	}
	mutex_unlock(&rk_cma_states_lock);
	return pages;
}

static unsigned long rk_cma_shrink_scan(struct shrinker *s,
					struct shrink_control *sc)
{
	unsigned long pool, freed = 0;
	struct rk_cma_heap *h;

	mutex_lock(&rk_cma_states_lock);
	list_for_each_entry(h, &rk_cma_states, node) {
		if (freed >= sc->nr_to_scan)
			break;
		if (h->mem->exclusive)
			continue;
		spin_lock(&h->lock);
		pool = rk_cma_pool_pages(h);
		spin_unlock(&h->lock);
		freed += rk_cma_pool_trim(h, pool - min(pool,
							sc->nr_to_scan - freed));
	}
	mutex_unlock(&rk_cma_states_lock);
	return freed ?: SHRINK_STOP;
}

static struct shrinker *rk_cma_shrinker;

/**
 * rk_dma_heap_cma_init() - register the platform driver of the CMA heap
 *
 * Return: 0, or the error of platform_driver_register() or -ENOMEM.
 */
int rk_dma_heap_cma_init(void)
{
	struct device_node *np;
	int ret;

	rk_cma_shrinker = rk_shrinker_create(rk_cma_shrink_count,
					     rk_cma_shrink_scan, "rk_dma_heap");
	if (!rk_cma_shrinker)
		return -ENOMEM;
	ret = platform_driver_register(&rk_cma_driver);
	if (ret) {
		rk_shrinker_destroy(rk_cma_shrinker);
		return ret;
	}
	for_each_compatible_node(np, NULL, RK_CMA_COMPATIBLE) {
		if (of_device_is_available(np)) {
			of_node_put(np);
			return 0;
		}
	}
	/* built in: the area of rk_dma_heap_cma= stands in for the node */
	if (rk_dma_heap_boot_register())
		return 0;
	pr_info("no heap registered: the device tree has no enabled \"%s\" node\n",
		RK_CMA_COMPATIBLE);
	return 0;
}

/**
 * rk_dma_heap_cma_exit() - unregister the platform driver of the CMA heap
 */
void rk_dma_heap_cma_exit(void)
{
	platform_driver_unregister(&rk_cma_driver);
	rk_shrinker_destroy(rk_cma_shrinker);
}

/**
 * rk_dma_heap_get_cma() - the CMA area behind rk-dma-heap-cma
 *
 * On the Rockchip BSP the caller passes the result to cma_alloc() and
 * cma_release(). Where the kernel exports those (7.2 on), this is the area
 * of the heap's region; what a caller allocates from it directly is not
 * the heap's, and the nodes show it as held outside the heap. Elsewhere,
 * and for a carve-out region, which is no CMA area, there is nothing a
 * caller could use, and this returns NULL: allocate with
 * rk_dma_heap_alloc_contig_pages() instead.
 *
 * Return: the CMA area, or NULL.
 */
struct cma *rk_dma_heap_get_cma(void)
{
	struct rk_cma_heap *h;
	struct cma *cma = NULL;
	bool removed;

	if (!RK_HAVE_CMA_ALLOC)
		return NULL;
	/* a state on the list is not freed, nor its area released */
	mutex_lock(&rk_cma_states_lock);
	list_for_each_entry(h, &rk_cma_states, node) {
		spin_lock(&h->lock);
		removed = h->no_pool;
		spin_unlock(&h->lock);
		if (!removed && !strcmp(h->heap->name, RK_DMA_HEAP_CMA_NAME))
			cma = h->dev->cma_area;
	}
	mutex_unlock(&rk_cma_states_lock);
	return cma;
}
EXPORT_SYMBOL_GPL(rk_dma_heap_get_cma);
