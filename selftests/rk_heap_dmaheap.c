// SPDX-License-Identifier: GPL-2.0
/*
 * The heap as mpp finds it, in /dev/dma_heap (dma_heap_names; dma_heap.sh
 * loaded the module with rk-test and rk-test-uncached): opened O_RDONLY,
 * allocated from with mainline's ioctl, heap_flags 0. Such a buffer is
 * rk-dma-heap-cma's, one record in the info node like a buffer of
 * /dev/rk_dma_heap; the "-uncached" name gives uncached buffers (no cache
 * maintenance on DMA_BUF_IOCTL_SYNC); heap_flags there are refused by the
 * kernel's dma-heap core, as for every heap of it.
 */
#include <sys/mman.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include "kselftest_harness.h"
#include "rk_test.h"
#include "rk_fixture.h"
#include "rk_clean_probe.h"

#define CACHED		"/dev/dma_heap/rk-test"
#define UNCACHED	"/dev/dma_heap/rk-test-uncached"

/* Allocate as mpp does; returns the fd or -errno. */
static int mpp_alloc(const char *node, uint64_t len, uint64_t heap_flags)
{
	int heap = open(node, O_RDONLY | O_CLOEXEC), fd;

	if (heap < 0)
		return -errno;
	fd = rk_alloc_req(heap, DMA_HEAP_IOCTL_ALLOC, len, O_RDWR | O_CLOEXEC,
			  heap_flags);
	close(heap);
	return fd;
}

FIXTURE(dh) {
};

FIXTURE_SETUP(dh)
{
	if (access(CACHED, F_OK))
		SKIP(return, "no %s: the kernel has no dma_heap_add() (6.18 on)", CACHED);
	ASSERT_EQ(0LL, rk_info_total()) TH_LOG("the heap is not empty at the start");
}

FIXTURE_TEARDOWN_PARENT(dh)
{
	rk_fixture_check(_metadata);
}

/*
 * One buffer through each node: two records of the same heap, each with
 * its own size, owner and range in the region; zeroed; gone when closed.
 */
TEST_F_TIMEOUT(dh, one_record_per_buffer_through_either_node, RK_TIMEOUT)
{
	const size_t len = 1 << 20;
	struct rk_info a, b;
	unsigned char *p;
	int heap, fa, fb;
	size_t i, nonzero = 0;

	fa = mpp_alloc(CACHED, len, 0);
	ASSERT_LE(0, fa) TH_LOG("%s: %s", CACHED, strerror(-fa));
	heap = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, heap);
	fb = rk_alloc(heap, 2 * len);
	ASSERT_LE(0, fb);
	EXPECT_EQ((long long)(3 * len), rk_info_total());
	ASSERT_EQ(0, rk_info_lookup(rk_ino(fa), &a));
	ASSERT_EQ(0, rk_info_lookup(rk_ino(fb), &b));
	EXPECT_EQ(len, a.size);
	EXPECT_EQ(2 * len, b.size);
	EXPECT_STREQ(b.owner, a.owner);
	EXPECT_TRUE(a.end <= b.start || b.end <= a.start);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fa, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	for (i = 0; i < len; i++)
		nonzero += p[i] != 0;
	EXPECT_EQ(0U, nonzero);
	munmap(p, len);
	close(fa);
	EXPECT_EQ((long long)(2 * len), rk_info_total());
	close(fb);
	close(heap);
	EXPECT_EQ(0LL, rk_info_total());
}

/*
 * The "-uncached" name: no cache maintenance at the end of a CPU write;
 * the cached name: one clean of exactly the buffer.
 */
TEST_F_TIMEOUT(dh, uncached_name_gives_uncached_buffers, RK_TIMEOUT)
{
	static const char *const nodes[] = { CACHED, UNCACHED };
	const uint64_t len = 64 << 10;
	struct dma_buf_sync sync = {
		.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE,
	};
	const char *tracing = tracefs();
	struct rk_info info;
	int i, fd, n, others;

	if (!tracing)
		SKIP(return, "kernel without kprobe events (CONFIG_KPROBE_EVENTS)");
	tracing = probes_add();
	ASSERT_TRUE(tracing != NULL) TH_LOG("cannot add the probes");
	for (i = 0; i < 2; i++) {
		fd = mpp_alloc(nodes[i], len, 0);
		ASSERT_LE(0, fd) TH_LOG("%s: %s", nodes[i], strerror(-fd));
		ASSERT_EQ(0, rk_info_lookup(rk_ino(fd), &info));
		ASSERT_EQ(0, record(tracing));
		ASSERT_EQ(0, ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync));
		n = recorded(tracing, info.start, len, &others);
		if (i) {
			EXPECT_EQ(0, n + others)
				TH_LOG("%s: %d cleans", nodes[i], n + others);
		} else {
			EXPECT_EQ(1, n)
				TH_LOG("%s: cleaned %d times", nodes[i], n);
		}
		close(fd);
	}
	remove_probes(tracing);
}

/* The dma-heap core refuses heap_flags for all its heaps, ours too. */
TEST_F_TIMEOUT(dh, heap_flags_are_refused_there, RK_TIMEOUT)
{
	EXPECT_EQ(-EINVAL, mpp_alloc(UNCACHED, RK_PAGE, 1));
	EXPECT_EQ(-EINVAL, mpp_alloc(CACHED, RK_PAGE, 1));
}

TEST_HARNESS_MAIN
