// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of every function rk_dma_heap exports, including the error
 * cases, run when the module is loaded (needs the rk-dma-heap-cma heap).
 * Results: /sys/kernel/debug/kunit/rk_dma_heap_api/results.
 */
#include <kunit/test.h>
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/rk-dma-heap.h>

#include "rk_dma_heap_compat.h"

/* the errno of an ERR_PTR(), 0 for a valid pointer: compares as an int */
static int err_of(const void *p)
{
	return IS_ERR(p) ? (int)PTR_ERR(p) : 0;
}

static struct rk_dma_heap *heap_get(struct kunit *test)
{
	struct rk_dma_heap *heap = rk_dma_heap_find(RK_DMA_HEAP_CMA_NAME);

	KUNIT_ASSERT_NOT_NULL(test, heap);
	return heap;
}

static void find_put_and_getters(struct kunit *test)
{
	struct rk_dma_heap *heap, *again;

	KUNIT_EXPECT_NULL(test, rk_dma_heap_find(NULL));
	KUNIT_EXPECT_NULL(test, rk_dma_heap_find("no-such-heap"));
	heap = heap_get(test);
	again = rk_dma_heap_find(RK_DMA_HEAP_CMA_NAME);
	KUNIT_EXPECT_PTR_EQ(test, heap, again);
	rk_dma_heap_put(again);

	KUNIT_EXPECT_STREQ(test, rk_dma_heap_get_name(heap),
			   RK_DMA_HEAP_CMA_NAME);
	KUNIT_EXPECT_NOT_NULL(test, rk_dma_heap_get_dev(heap));
	KUNIT_EXPECT_STREQ(test, dev_name(rk_dma_heap_get_dev(heap)),
			   "rk-dma-heap");
	KUNIT_EXPECT_NOT_NULL(test, rk_dma_heap_get_drvdata(heap));
	/* the region may lie anywhere in RAM: above 4 GiB on large boards */
	KUNIT_EXPECT_EQ(test, dma_get_mask(rk_dma_heap_get_dev(heap)),
			(u64)(dma_addr_t)DMA_BIT_MASK(64));
	KUNIT_EXPECT_NULL(test, rk_dma_heap_get_name(NULL));
	KUNIT_EXPECT_NULL(test, rk_dma_heap_get_dev(NULL));
	KUNIT_EXPECT_NULL(test, rk_dma_heap_get_drvdata(NULL));
	rk_dma_heap_put(NULL);
	rk_dma_heap_put(heap);
}

/*
 * A put too many leaves the registered heap alone (kunit.sh unloads the
 * test client first, so this one reaches the registry's reference).
 */
static void extra_put_keeps_the_heap(struct kunit *test)
{
	struct rk_dma_heap *heap = heap_get(test);
	struct dma_buf *buf;

	rk_dma_heap_put(heap);
	rk_dma_heap_put(heap);
	heap = heap_get(test);
	KUNIT_EXPECT_STREQ(test, rk_dma_heap_get_name(heap),
			   RK_DMA_HEAP_CMA_NAME);
	buf = rk_dma_heap_buffer_alloc(heap, PAGE_SIZE, O_RDWR, 0, "kunit");
	KUNIT_EXPECT_FALSE(test, IS_ERR_OR_NULL(buf));
	rk_dma_heap_buffer_free(buf);
	flush_delayed_fput();
	rk_dma_heap_put(heap);
}

static void buffer_alloc_and_free(struct kunit *test)
{
	struct rk_dma_heap *heap = heap_get(test);
	struct dma_buf *buf;

	buf = rk_dma_heap_buffer_alloc(heap, 5000, O_CLOEXEC | O_RDWR, 0,
				       "kunit");
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(buf));
	KUNIT_EXPECT_EQ(test, buf->size, (size_t)(2 * PAGE_SIZE));
	KUNIT_EXPECT_STREQ(test, buf->exp_name, RK_DMA_HEAP_CMA_NAME);
	rk_dma_heap_buffer_free(buf);
	flush_delayed_fput();
	rk_dma_heap_buffer_free(NULL);
	rk_dma_heap_buffer_free(ERR_PTR(-ENOMEM));
	rk_dma_heap_put(heap);
}

static void buffer_alloc_errors(struct kunit *test)
{
	struct rk_dma_heap *heap = heap_get(test);

	KUNIT_EXPECT_EQ(test, err_of(rk_dma_heap_buffer_alloc(NULL, PAGE_SIZE, 0, 0, NULL)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, err_of(rk_dma_heap_buffer_alloc(heap, 0, 0, 0, NULL)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, err_of(rk_dma_heap_buffer_alloc(heap, PAGE_SIZE, 0, 2, NULL)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, err_of(rk_dma_heap_buffer_alloc(heap, PAGE_SIZE, O_APPEND, 0, NULL)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, err_of(rk_dma_heap_buffer_alloc(heap, SIZE_MAX, 0, 0, NULL)),
			-EINVAL);
	/* more than the region: EINVAL, not a NULL that mpp would misread */
	KUNIT_EXPECT_EQ(test, err_of(rk_dma_heap_buffer_alloc(heap, SZ_512M, 0, 0, NULL)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, rk_dma_heap_bufferfd_alloc(NULL, PAGE_SIZE, 0, 0, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, rk_dma_heap_bufferfd_alloc(heap, 0, 0, 0, NULL),
			-EINVAL);
	rk_dma_heap_put(heap);
}

static void buffer_alloc_enomem(struct kunit *test)
{
	struct rk_dma_heap *heap = heap_get(test);
	struct dma_buf *bufs[80];
	struct page *more;
	int n = 0, i;

	while (n < ARRAY_SIZE(bufs)) {
		bufs[n] = rk_dma_heap_buffer_alloc(heap, SZ_1M, O_RDWR, 0,
						   "kunit-fill");
		if (IS_ERR(bufs[n]))
			break;
		n++;
	}
	KUNIT_ASSERT_LT(test, n, (int)ARRAY_SIZE(bufs));
	KUNIT_EXPECT_EQ(test, err_of(bufs[n]), -ENOMEM);
	more = rk_dma_heap_alloc_contig_pages(heap, SZ_1M, "kunit-fill");
	KUNIT_EXPECT_EQ(test, err_of(more), -ENOMEM);
	for (i = 0; i < n; i++)
		rk_dma_heap_buffer_free(bufs[i]);
	/* a kthread's last fput is deferred: wait for the memory to return */
	flush_delayed_fput();
	rk_dma_heap_put(heap);
}

static void contig_pages(struct kunit *test)
{
	struct rk_dma_heap *heap = heap_get(test);
	size_t len = 3 * PAGE_SIZE;
	struct page *pages;
	u8 *p, *v;
	size_t i;

	pages = rk_dma_heap_alloc_contig_pages(heap, len, "kunit-contig");
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(pages));
	KUNIT_EXPECT_FALSE(test, PageHighMem(pages));
	p = page_address(pages);
	for (i = 0; i < len; i++)
		if (p[i])
			break;
	KUNIT_EXPECT_EQ(test, i, len);

	/* rk_vmap_contig_pfn() maps the same memory */
	p[PAGE_SIZE + 7] = 0x3c;
	v = rk_vmap_contig_pfn(page_to_pfn(pages), 3, PAGE_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, v);
	KUNIT_EXPECT_EQ(test, v[PAGE_SIZE + 7], (u8)0x3c);
	vunmap(v);
	KUNIT_EXPECT_NULL(test, rk_vmap_contig_pfn(page_to_pfn(pages), 0,
						   PAGE_KERNEL));

	/* a wrong length is refused and the pages stay allocated */
	rk_dma_heap_free_contig_pages(heap, pages, PAGE_SIZE, "kunit-contig");
	KUNIT_EXPECT_EQ(test, p[PAGE_SIZE + 7], (u8)0x3c);
	rk_dma_heap_free_contig_pages(heap, pages, len, "kunit-contig");
	/* a second free of the same pages is refused, not a double free */
	rk_dma_heap_free_contig_pages(heap, pages, len, "kunit-contig");
	rk_dma_heap_free_contig_pages(heap, NULL, len, NULL);
	rk_dma_heap_free_contig_pages(NULL, pages, len, NULL);

	KUNIT_EXPECT_EQ(test, err_of(rk_dma_heap_alloc_contig_pages(NULL, len, NULL)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, err_of(rk_dma_heap_alloc_contig_pages(heap, 0, NULL)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, err_of(rk_dma_heap_alloc_contig_pages(heap, SZ_512M, NULL)),
			-EINVAL);
	rk_dma_heap_put(heap);
}

/*
 * Whether the region of rk-dma-heap-cma is a CMA area: a reusable region
 * in the device tree (of the node that names no other heap), or the boot
 * parameter's area where there is no such node.
 */
static bool region_is_cma(void)
{
	struct device_node *np, *region;
	bool cma = true;

	for_each_compatible_node(np, NULL, "rockchip,rk-dma-heap-cma") {
		if (of_find_property(np, "rockchip,heap-name", NULL))
			continue;
		region = of_parse_phandle(np, "memory-region", 0);
		cma = of_property_read_bool(region, "reusable");
		of_node_put(region);
		of_node_put(np);
		break;
	}
	return cma;
}

static void set_dev_and_cma(struct kunit *test)
{
	struct rk_dma_heap *heap = heap_get(test);
	struct device *dev = rk_dma_heap_get_dev(heap);
	u64 mask = dma_get_mask(dev);
	unsigned int seg = dma_get_max_seg_size(dev);

	KUNIT_EXPECT_EQ(test, rk_dma_heap_set_dev(NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, rk_dma_heap_set_dev(dev), 0);
	/* as wide as the kernel's DMA addresses */
	KUNIT_EXPECT_EQ(test, dma_get_mask(dev),
			(u64)(dma_addr_t)DMA_BIT_MASK(64));
	KUNIT_ASSERT_NOT_NULL(test, dev->dma_parms);
	/* no segment limit yet: the largest */
	dev->dma_parms->max_segment_size = 0;
	KUNIT_EXPECT_EQ(test, rk_dma_heap_set_dev(dev), 0);
	KUNIT_EXPECT_EQ(test, dma_get_max_seg_size(dev), UINT_MAX);
	/* a limit the driver chose stays */
	dma_set_max_seg_size(dev, SZ_1M);
	KUNIT_EXPECT_EQ(test, rk_dma_heap_set_dev(dev), 0);
	KUNIT_EXPECT_EQ(test, dma_get_max_seg_size(dev), (unsigned int)SZ_1M);
	/* restore what the heap's device had */
	dma_set_max_seg_size(dev, seg);
	dma_set_mask_and_coherent(dev, mask);
	/*
	 * the region's CMA area where cma_alloc() is exported, else NULL (a
	 * carve-out has none)
	 */
	if (RK_HAVE_CMA_ALLOC && region_is_cma())
		KUNIT_EXPECT_NOT_NULL(test, rk_dma_heap_get_cma());
	else
		KUNIT_EXPECT_NULL(test, rk_dma_heap_get_cma());
	rk_dma_heap_put(heap);
}

static struct dma_buf *dummy_allocate(struct rk_dma_heap *heap,
				      unsigned long len, unsigned long fd_flags,
				      unsigned long heap_flags, const char *name)
{
	return ERR_PTR(-ENOMEM);
}

static void add_errors(struct kunit *test)
{
	static const struct rk_dma_heap_ops ops = { .allocate = dummy_allocate };
	static const struct rk_dma_heap_ops no_alloc = { };
	struct rk_dma_heap_export_info info = {
		.name = RK_DMA_HEAP_CMA_NAME, .ops = &ops,
	};

	KUNIT_EXPECT_EQ(test, err_of(rk_dma_heap_add(NULL)), -EINVAL);
	KUNIT_EXPECT_EQ(test, err_of(rk_dma_heap_add(&info)), -EEXIST);
	info.name = NULL;
	KUNIT_EXPECT_EQ(test, err_of(rk_dma_heap_add(&info)), -EINVAL);
	info.name = "kunit-heap";
	info.ops = &no_alloc;
	KUNIT_EXPECT_EQ(test, err_of(rk_dma_heap_add(&info)), -EINVAL);
	KUNIT_EXPECT_NULL(test, rk_dma_heap_find("kunit-heap"));
}

#if RK_HAVE_DMABUF_PARTIAL
/*
 * rknpu calls the partial callbacks directly, without a NULL check and with
 * the range its user gave: they must exist and check the range themselves.
 */
static void partial_cpu_access(struct kunit *test)
{
	struct rk_dma_heap *heap = heap_get(test);
	const struct dma_buf_ops *ops;
	unsigned int len = 4 * PAGE_SIZE;
	struct dma_buf *buf;

	buf = rk_dma_heap_buffer_alloc(heap, len, O_RDWR, 0, "kunit-partial");
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(buf));
	ops = buf->ops;
	KUNIT_ASSERT_NOT_NULL(test, ops->begin_cpu_access_partial);
	KUNIT_ASSERT_NOT_NULL(test, ops->end_cpu_access_partial);

	KUNIT_EXPECT_EQ(test, ops->end_cpu_access_partial(buf, DMA_TO_DEVICE,
							  PAGE_SIZE, PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, ops->begin_cpu_access_partial(buf, DMA_FROM_DEVICE,
							    len - 1, 1), 0);
	KUNIT_EXPECT_EQ(test, ops->begin_cpu_access_partial(buf, DMA_FROM_DEVICE,
							    0, 0), 0);
	KUNIT_EXPECT_EQ(test, ops->begin_cpu_access_partial(buf, DMA_FROM_DEVICE,
							    len, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, ops->end_cpu_access_partial(buf, DMA_TO_DEVICE,
							  1, len), -EINVAL);
	KUNIT_EXPECT_EQ(test, ops->end_cpu_access_partial(buf, DMA_TO_DEVICE,
							  UINT_MAX, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, dma_buf_begin_cpu_access_partial(buf, DMA_BIDIRECTIONAL,
							       0, len), 0);
	KUNIT_EXPECT_EQ(test, dma_buf_end_cpu_access_partial(buf, DMA_BIDIRECTIONAL,
							     0, len), 0);
	rk_dma_heap_buffer_free(buf);
	flush_delayed_fput();
	rk_dma_heap_put(heap);
}
#endif

#if RK_HAVE_KUNIT_VM_MMAP
/* Whether @prot is write-combined: making it so changes nothing. */
static bool is_wc(pgprot_t prot)
{
	return pgprot_val(prot) == pgprot_val(pgprot_writecombine(prot));
}

/*
 * Map a new buffer into the test's mm and into the kernel: the user
 * mapping is write-combined and the kernel's a vmap of its own when
 * @uncached, else cached and the linear map; both show the same bytes.
 * No assertion: the caller must get to release the mm.
 */
static void check_mappings(struct kunit *test, struct rk_dma_heap *heap,
			   bool uncached)
{
	const size_t len = 4 * PAGE_SIZE;
	struct vm_area_struct *vma;
	struct dma_buf *buf;
	unsigned long addr;
	pgprot_t prot = __pgprot(0);
	u8 *vaddr, byte = 0;

	buf = rk_dma_heap_buffer_alloc(heap, len, O_RDWR,
				       uncached ? RK_DMA_HEAP_UNCACHED : 0,
				       "kunit-wc");
	KUNIT_EXPECT_FALSE(test, IS_ERR_OR_NULL(buf));
	if (IS_ERR_OR_NULL(buf))
		return;
	addr = kunit_vm_mmap(test, buf->file, 0, len, PROT_READ | PROT_WRITE,
			     MAP_SHARED, 0);
	KUNIT_EXPECT_FALSE(test, IS_ERR_VALUE(addr));
	if (IS_ERR_VALUE(addr) || !current->mm)
		goto out_free;
	mmap_read_lock(current->mm);
	vma = vma_lookup(current->mm, addr);
	if (vma)
		prot = vma->vm_page_prot;
	mmap_read_unlock(current->mm);
	KUNIT_EXPECT_NOT_NULL(test, vma);
	KUNIT_EXPECT_EQ(test, is_wc(prot), uncached);

	vaddr = rk_dma_buf_vmap(buf);
	KUNIT_EXPECT_FALSE(test, IS_ERR_OR_NULL(vaddr));
	if (!IS_ERR_OR_NULL(vaddr)) {
		KUNIT_EXPECT_EQ(test, is_vmalloc_addr(vaddr), uncached);
		memset(vaddr, 0x5a, len);
		KUNIT_EXPECT_EQ(test,
				copy_from_user(&byte, (void __user *)addr + len - 1, 1),
				0UL);
		KUNIT_EXPECT_EQ(test, byte, 0x5a);
		rk_dma_buf_vunmap(buf, vaddr);
	}
	vm_munmap(addr, len);
out_free:
	rk_dma_heap_buffer_free(buf);
}

/*
 * An uncached buffer is mapped write-combined, in user space and in the
 * kernel; a cached one is not. kunit_vm_mmap() gives the test's thread an
 * mm that nothing releases (kmemleak reports it on 6.12): release it here.
 */
static void uncached_mappings(struct kunit *test)
{
	struct rk_dma_heap *heap = heap_get(test);
	struct mm_struct *mm;

	check_mappings(test, heap, false);
	check_mappings(test, heap, true);
	mm = current->mm;
	if (mm) {
		kthread_unuse_mm(mm);
		mmput(mm);
	}
	flush_delayed_fput();
	rk_dma_heap_put(heap);
}
#elif defined(kunit_skip)
static void uncached_mappings(struct kunit *test)
{
	kunit_skip(test,
		   "no kunit_vm_mmap() before 6.12: the selftests check uncached buffers");
}
#endif

/*
 * A driver keeps the heap it found while the heap's idle device is unbound:
 * the heap's state is freed, and nothing of it is handed out any more.
 * Bound again, the device serves a new heap.
 */
static void removed_heap_hands_out_nothing(struct kunit *test)
{
	struct rk_dma_heap *heap = heap_get(test), *again;
	struct device *dev = get_device(rk_dma_heap_get_dev(heap));
	struct dma_buf *buf;

	device_release_driver(dev);
	KUNIT_EXPECT_NULL(test, rk_dma_heap_find(RK_DMA_HEAP_CMA_NAME));
	KUNIT_EXPECT_NULL(test, rk_dma_heap_get_drvdata(heap));
	KUNIT_EXPECT_NULL(test, rk_dma_heap_get_dev(heap));
	KUNIT_EXPECT_NULL(test, rk_dma_heap_get_cma());
	buf = rk_dma_heap_buffer_alloc(heap, PAGE_SIZE, O_RDWR, 0, NULL);
	KUNIT_EXPECT_EQ(test, err_of(buf), -ENODEV);
	rk_dma_heap_put(heap);

	KUNIT_EXPECT_EQ(test, device_attach(dev), 1);
	put_device(dev);
	again = rk_dma_heap_find(RK_DMA_HEAP_CMA_NAME);
	KUNIT_ASSERT_NOT_NULL(test, again);
	KUNIT_EXPECT_NOT_NULL(test, rk_dma_heap_get_drvdata(again));
	KUNIT_EXPECT_PTR_EQ(test, rk_dma_heap_get_dev(again), dev);
	rk_dma_heap_put(again);
}

/*
 * videobuf2-cma-sg never calls rk_dma_heap_put(): do the same, so that the
 * guest's lifecycle test sees rk_dma_heap unload anyway (with a dmesg line).
 */
static void find_without_put(struct kunit *test)
{
	KUNIT_EXPECT_NOT_NULL(test, rk_dma_heap_find(RK_DMA_HEAP_CMA_NAME));
}

static struct kunit_case rk_dma_heap_api_cases[] = {
	KUNIT_CASE(find_put_and_getters),
	KUNIT_CASE(extra_put_keeps_the_heap),
	KUNIT_CASE(buffer_alloc_and_free),
	KUNIT_CASE(buffer_alloc_errors),
	KUNIT_CASE(buffer_alloc_enomem),
	KUNIT_CASE(contig_pages),
#if RK_HAVE_DMABUF_PARTIAL
	KUNIT_CASE(partial_cpu_access),
#endif
	KUNIT_CASE(set_dev_and_cma),
	KUNIT_CASE(add_errors),
#if RK_HAVE_KUNIT_VM_MMAP || defined(kunit_skip)
	KUNIT_CASE(uncached_mappings),
#endif
	KUNIT_CASE(removed_heap_hands_out_nothing),
	KUNIT_CASE(find_without_put),
	{}
};

static struct kunit_suite rk_dma_heap_api_suite = {
	.name = "rk_dma_heap_api",
	.test_cases = rk_dma_heap_api_cases,
};

kunit_test_suite(rk_dma_heap_api_suite);

MODULE_DESCRIPTION("KUnit tests of the rk_dma_heap in-kernel API");
MODULE_LICENSE("GPL");
RK_MODULE_IMPORT_DMA_BUF();
