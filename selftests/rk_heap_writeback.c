// SPDX-License-Identifier: GPL-2.0
/*
 * A new buffer's zeroes reach memory before any device can read the
 * buffer. The CPU zeroes it through its cache; on ARM the cache must then
 * be cleaned to memory, or a device reading the buffer (or the CPU
 * invalidating the cache to map it for DMA_FROM_DEVICE) finds the page's
 * previous contents: another process's data. A clean (rk_clean_probe.h)
 * must happen during the allocation for exactly the new buffer's physical
 * range, in a direction that cleans (to the device, or both ways).
 */
#include <sys/mman.h>
#include <linux/dma-buf.h>
#include "kselftest_harness.h"
#include "rk_test.h"
#include "rk_fixture.h"
#include "rk_clean_probe.h"

FIXTURE(wb) {
	const char *tracing;
	int heap;
};

FIXTURE_SETUP(wb)
{
	self->tracing = tracefs();
	if (!self->tracing)
		SKIP(return, "kernel without kprobe events (CONFIG_KPROBE_EVENTS)");
	ASSERT_EQ(0LL, rk_info_total()) TH_LOG("the heap is not empty at the start");
	self->tracing = probes_add();
	ASSERT_TRUE(self->tracing != NULL) TH_LOG("cannot add the probes");
	self->heap = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->heap);
}

/* the test's process is gone: remove the probes, check the heap */
FIXTURE_TEARDOWN_PARENT(wb)
{
	if (self->tracing)
		remove_probes(self->tracing);
	rk_fixture_check(_metadata);
}

/*
 * Buffers through the heap node, of one page to 4 MiB: each is cleaned to
 * memory once, over its whole range, before the ioctl returns.
 */
TEST_F_TIMEOUT(wb, new_buffer_is_written_back_before_it_is_handed_out, RK_TIMEOUT)
{
	static const uint64_t sizes[] = { RK_PAGE, 64 << 10, (1 << 20) + RK_PAGE, 4 << 20 };
	struct rk_info info;
	unsigned int i;
	int fd, n, others;

	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, record(self->tracing));
		fd = rk_alloc(self->heap, sizes[i]);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, rk_info_lookup(rk_ino(fd), &info));
		n = recorded(self->tracing, info.start, sizes[i], &others);
		EXPECT_EQ(1, n)
			TH_LOG("%llu bytes at 0x%llx: written back %d times (%d other cleans: %s)",
			       (unsigned long long)sizes[i],
			       (unsigned long long)info.start, n, others,
			       other_clean);
		close(fd);
	}
}

/* The same for contiguous pages from the in-kernel API. */
TEST_F_TIMEOUT(wb, new_contiguous_pages_are_written_back, RK_TIMEOUT)
{
	unsigned long long phys;
	int n, others;

	ASSERT_EQ(0, record(self->tracing));
	ASSERT_EQ(0, client(NPU, "contig 0 %lu", 2UL << 20));
	phys = client_result(NPU, "phys");
	n = recorded(self->tracing, phys, 2 << 20, &others);
	EXPECT_EQ(1, n)
		TH_LOG("2 MiB at 0x%llx: written back %d times (%d other cleans: %s)",
		       phys, n, others, other_clean);
	ASSERT_EQ(0, client(NPU, "free 0"));
}

/* An uncached buffer's zeroes are written back too, once, exactly. */
TEST_F_TIMEOUT(wb, new_uncached_buffer_is_written_back_before_it_is_handed_out, RK_TIMEOUT)
{
	const uint64_t len = 256 << 10;
	struct rk_info info;
	int fd, n, others;

	ASSERT_EQ(0, record(self->tracing));
	fd = rk_alloc_req(self->heap, RK_DMA_HEAP_IOCTL_ALLOC, len,
			  O_RDWR | O_CLOEXEC, RK_DMA_HEAP_UNCACHED);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rk_info_lookup(rk_ino(fd), &info));
	n = recorded(self->tracing, info.start, len, &others);
	EXPECT_EQ(1, n)
		TH_LOG("written back %d times (%d other cleans: %s)", n, others,
		       other_clean);
	close(fd);
}

/*
 * DMA_BUF_IOCTL_SYNC, the end of a CPU write: a cached buffer is cleaned
 * to memory, an uncached one needs nothing and gets nothing.
 */
TEST_F_TIMEOUT(wb, sync_cleans_a_cached_buffer_only, RK_TIMEOUT)
{
	const uint64_t len = 64 << 10;
	struct dma_buf_sync sync;
	struct rk_info info;
	int uncached, fd, n, others;
	void *p;

	for (uncached = 0; uncached < 2; uncached++) {
		fd = rk_alloc_req(self->heap, RK_DMA_HEAP_IOCTL_ALLOC, len,
				  O_RDWR | O_CLOEXEC,
				  uncached ? RK_DMA_HEAP_UNCACHED : 0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, rk_info_lookup(rk_ino(fd), &info));
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		ASSERT_TRUE(p != MAP_FAILED);
		sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE;
		ASSERT_EQ(0, ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync));
		memset(p, 0x77, len);
		ASSERT_EQ(0, record(self->tracing));
		sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE;
		ASSERT_EQ(0, ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync));
		n = recorded(self->tracing, info.start, len, &others);
		if (uncached) {
			EXPECT_EQ(0, n + others)
				TH_LOG("uncached: %d cleans (%s)", n + others,
				       other_clean);
		} else {
			EXPECT_EQ(1, n)
				TH_LOG("cached: cleaned %d times (%d other cleans: %s)",
				       n, others, other_clean);
		}
		munmap(p, len);
		close(fd);
	}
}

TEST_HARNESS_MAIN
