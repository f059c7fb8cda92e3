// SPDX-License-Identifier: GPL-2.0
/*
 * Not loaded by the tests: calls the heap API exactly as Rockchip vendor
 * drivers do (rknpu, videobuf2-cma-sg for rkisp, mpp), so that the build
 * proves such sources compile unchanged against <linux/rk-dma-heap.h>.
 */
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/vmalloc.h>
#include <linux/rk-dma-heap.h>

#include "rk_dma_heap_compat.h"

/* rknpu: its own device set up for the heap, dma-bufs named after it */
static struct dma_buf *rknpu_style_alloc(struct device *dev, size_t size)
{
	struct rk_dma_heap *heap = rk_dma_heap_find("rk-dma-heap-cma");
	struct dma_buf *buf;

	if (!heap)
		return ERR_PTR(-ENOMEM);
	rk_dma_heap_set_dev(dev);
	buf = rk_dma_heap_buffer_alloc(heap, size, O_CLOEXEC | O_RDWR, 0,
				       dev_name(dev));
	rk_dma_heap_put(heap);
	return buf;
}

/* videobuf2-cma-sg: contiguous pages, the heap is never put */
static struct page *vb2_cma_sg_style_alloc(struct device *dev, size_t size)
{
	static struct rk_dma_heap *heap;
	struct page *pages;
	void *vaddr;

	if (!heap)
		heap = rk_dma_heap_find(RK_DMA_HEAP_CMA_NAME);
	pages = rk_dma_heap_alloc_contig_pages(heap, size, dev_name(dev));
	if (IS_ERR(pages))
		return pages;
	vaddr = rk_vmap_contig_pfn(page_to_pfn(pages), size >> PAGE_SHIFT,
				   PAGE_KERNEL);
	if (vaddr)
		vunmap(vaddr);
	if (rk_dma_heap_get_cma())
		pr_info("BSP kernel: CMA area reachable\n");
	rk_dma_heap_free_contig_pages(heap, pages, size, dev_name(dev));
	return NULL;
}

/* mpp: checks for NULL, keeps the fd, looks at the heap's device */
static int mpp_style_alloc(struct rk_dma_heap *heap, size_t size)
{
	struct dma_buf *buf;
	int fd;

	buf = rk_dma_heap_buffer_alloc(heap, size, O_RDWR, 0, "venc");
	if (!buf)
		return -ENOMEM;
	rk_dma_heap_buffer_free(buf);
	fd = rk_dma_heap_bufferfd_alloc(heap, size, O_CLOEXEC | O_RDWR, 0,
					"vmpi");
	dev_info(rk_dma_heap_get_dev(heap), "%s: fd %d drvdata %p\n",
		 rk_dma_heap_get_name(heap), fd, rk_dma_heap_get_drvdata(heap));
	return fd;
}

static int __init vendor_style_init(void)
{
	/* compiled, never run: the module refuses to load */
	if (IS_ENABLED(CONFIG_MODULES))
		return -ENODEV;
	rknpu_style_alloc(NULL, SZ_4K);
	vb2_cma_sg_style_alloc(NULL, SZ_4K);
	return mpp_style_alloc(NULL, SZ_4K);
}
module_init(vendor_style_init);

MODULE_DESCRIPTION("compile test: vendor-style use of the rk_dma_heap API");
MODULE_LICENSE("GPL");
RK_MODULE_IMPORT_DMA_BUF();
