// SPDX-License-Identifier: GPL-2.0
/*
 * A heap of another module, as a vendor driver adds one with
 * rk_dma_heap_add(): /dev/rk_dma_heap/rk-test-heap, zeroed buffers of
 * whole pages from the page allocator. Nothing removes it but the module's
 * unload, as with the BSP's API, which has no call to remove a heap:
 * rk_dma_heap removes it then. Its dma-bufs hold the module meanwhile.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include "rk_dma_heap_compat.h"
#include <linux/rk-dma-heap.h>

#define TEST_HEAP_NAME		"rk-test-heap"
/* one block of the page allocator: 4 MiB at most with 4 KiB pages */
#define TEST_HEAP_MAX_ORDER	10

struct test_buf {
	void *vaddr;
	size_t len;
};

static struct sg_table *test_map(struct dma_buf_attachment *attach,
				 enum dma_data_direction dir)
{
	struct test_buf *buf = attach->dmabuf->priv;
	struct sg_table *sgt;
	int ret;

	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table(sgt, 1, GFP_KERNEL);
	if (ret)
		goto err_free;
	sg_set_page(sgt->sgl, virt_to_page(buf->vaddr), buf->len, 0);
	ret = dma_map_sgtable(attach->dev, sgt, dir, 0);
	if (ret)
		goto err_table;
	return sgt;

err_table:
	sg_free_table(sgt);
err_free:
	kfree(sgt);
	return ERR_PTR(ret);
}

static void test_unmap(struct dma_buf_attachment *attach,
		       struct sg_table *sgt, enum dma_data_direction dir)
{
	dma_unmap_sgtable(attach->dev, sgt, dir, 0);
	sg_free_table(sgt);
	kfree(sgt);
}

static int test_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct test_buf *buf = dmabuf->priv;
	unsigned long npages = buf->len >> PAGE_SHIFT;

	if (vma->vm_pgoff >= npages || vma_pages(vma) > npages - vma->vm_pgoff)
		return -EINVAL;
	return remap_pfn_range(vma, vma->vm_start,
			       PHYS_PFN(virt_to_phys(buf->vaddr)) + vma->vm_pgoff,
			       vma->vm_end - vma->vm_start, vma->vm_page_prot);
}

static void test_buf_free(struct test_buf *buf)
{
	free_pages_exact(buf->vaddr, buf->len);
	kfree(buf);
}

static void test_release(struct dma_buf *dmabuf)
{
	test_buf_free(dmabuf->priv);
}

static const struct dma_buf_ops test_buf_ops = {
	.map_dma_buf	= test_map,
	.unmap_dma_buf	= test_unmap,
	.mmap		= test_mmap,
	.release	= test_release,
};

static struct dma_buf *test_allocate(struct rk_dma_heap *heap,
				     unsigned long len, unsigned long fd_flags,
				     unsigned long heap_flags, const char *name)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct dma_buf *dmabuf;
	struct test_buf *buf;

	if (heap_flags || get_order(len) > TEST_HEAP_MAX_ORDER)
		return ERR_PTR(-EINVAL);
	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	buf->len = len;
	buf->vaddr = alloc_pages_exact(len, GFP_KERNEL | __GFP_ZERO);
	if (!buf->vaddr) {
		kfree(buf);
		return ERR_PTR(-ENOMEM);
	}
	exp_info.ops = &test_buf_ops;
	exp_info.size = len;
	exp_info.flags = fd_flags;
	exp_info.priv = buf;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf))
		test_buf_free(buf);
	return dmabuf;
}

static const struct rk_dma_heap_ops test_heap_ops = {
	.allocate = test_allocate,
};

static int __init test_heap_init(void)
{
	struct rk_dma_heap_export_info info = {
		.name = TEST_HEAP_NAME,
		.ops = &test_heap_ops,
	};

	return PTR_ERR_OR_ZERO(rk_dma_heap_add(&info));
}
module_init(test_heap_init);

/* nothing to undo: rk_dma_heap removes the heap as the module goes */
static void __exit test_heap_exit(void)
{
}
module_exit(test_heap_exit);

MODULE_DESCRIPTION("rk_dma_heap test: a heap added by another module");
MODULE_LICENSE("GPL");
RK_MODULE_IMPORT_DMA_BUF();
