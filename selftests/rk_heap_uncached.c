// SPDX-License-Identifier: GPL-2.0
/*
 * Uncached buffers (heap_flags RK_DMA_HEAP_UNCACHED): zeroed like the
 * others, also when their memory comes back from a cached buffer's pool;
 * mapped write-combined, so what the CPU writes is in memory for an
 * importer without DMA_BUF_IOCTL_SYNC; sync is accepted and does nothing
 * (rk_heap_writeback.c checks that no cache maintenance happens, KUnit
 * that the mappings are write-combined). Unknown flags stay refused.
 */
#include <sys/mman.h>
#include <linux/dma-buf.h>
#include "kselftest_harness.h"
#include "rk_test.h"
#include "rk_fixture.h"

/*
 * Sizes from a page to 4 MiB: zeroed, mapped, what is written reads back,
 * and the info node has the buffer at its size.
 */
RK_TEST(uncached_buffers_are_zeroed_and_mapped)
{
	static const size_t sizes[] = { RK_PAGE, 64 << 10, 1 << 20, 4 << 20 };
	struct rk_info info;
	unsigned char *p;
	unsigned int i;
	int fd;

	for (i = 0; i < 4; i++) {
		fd = rk_alloc_flags(sizes[i], RK_DMA_HEAP_UNCACHED);
		ASSERT_LE(0, fd) TH_LOG("%zu bytes: %s", sizes[i], strerror(-fd));
		ASSERT_EQ(0, rk_info_lookup(rk_ino(fd), &info));
		EXPECT_EQ(sizes[i], info.size);
		p = mmap(NULL, sizes[i], PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		ASSERT_TRUE(p != MAP_FAILED);
		EXPECT_EQ(0U, rk_not_byte(p, sizes[i], 0));
		memset(p, 0x3c, sizes[i]);
		EXPECT_EQ(0U, rk_not_byte(p, sizes[i], 0x3c));
		munmap(p, sizes[i]);
		close(fd);
	}
}

/*
 * The pool hands a cached buffer's memory to an uncached one and back: no
 * byte of the previous owner's reaches the next, either way.
 */
RK_TEST(memory_changing_kind_comes_back_zeroed)
{
	const size_t len = 256 << 10;
	struct rk_info info;
	uint64_t first;
	unsigned char *p;
	int heap, fd, round;

	heap = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, heap);
	rk_pool_drain();
	for (round = 0; round < 4; round++) {
		fd = round & 1 ? rk_alloc_flags(len, RK_DMA_HEAP_UNCACHED) : rk_alloc(heap, len);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, rk_info_lookup(rk_ino(fd), &info));
		if (!round)
			first = info.start;
		EXPECT_EQ(first, info.start) TH_LOG("round %d: not the pool's memory", round);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		ASSERT_TRUE(p != MAP_FAILED);
		EXPECT_EQ(0U, rk_not_byte(p, len, 0)) TH_LOG("round %d", round);
		memset(p, 0xa5, len);
		munmap(p, len);
		close(fd);
	}
	close(heap);
}

/*
 * Written through the mapping, no sync: a driver that imports the buffer
 * and maps it in the kernel (write-combined too) reads every byte.
 */
RK_TEST(importer_reads_what_was_written_without_sync)
{
	const size_t len = 64 << 10;
	unsigned long long want = 0;
	unsigned char *p;
	size_t i;
	int fd;

	fd = rk_alloc_flags(len, RK_DMA_HEAP_UNCACHED);
	ASSERT_LE(0, fd);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	for (i = 0; i < len; i++) {
		p[i] = i * 13 + 1;
		want += (unsigned char)(i * 13 + 1);
	}
	ASSERT_EQ(0, client(NPU, "import 0 %d", fd));
	ASSERT_EQ(0, client(NPU, "vmap 0"));
	EXPECT_EQ(want, client_result(NPU, "sum"));
	/* and again, through a new kernel mapping */
	ASSERT_EQ(0, client(NPU, "vmap 0"));
	EXPECT_EQ(want, client_result(NPU, "sum"));
	ASSERT_EQ(0, client(NPU, "free 0"));
	munmap(p, len);
	close(fd);
}

/* DMA_BUF_IOCTL_SYNC is accepted, in every direction. */
RK_TEST(sync_is_accepted)
{
	static const __u64 flags[] = {
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ,
		DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ,
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW,
		DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW,
	};
	struct dma_buf_sync sync;
	unsigned int i;
	int fd;

	fd = rk_alloc_flags(RK_PAGE, RK_DMA_HEAP_UNCACHED);
	ASSERT_LE(0, fd);
	for (i = 0; i < 4; i++) {
		sync.flags = flags[i];
		EXPECT_EQ(0, ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync));
	}
	close(fd);
}

/* Only RK_DMA_HEAP_UNCACHED is known: any other bit is refused. */
RK_TEST(other_heap_flags_are_refused)
{
	static const uint64_t bad[] = {
		2, RK_DMA_HEAP_UNCACHED | 4, 1ULL << 63,
	};
	unsigned int i;
	int heap;

	heap = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, heap);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(-EINVAL, rk_alloc_req(heap, RK_DMA_HEAP_IOCTL_ALLOC,
						RK_PAGE, O_RDWR | O_CLOEXEC,
						bad[i]))
			TH_LOG("heap_flags 0x%llx", (unsigned long long)bad[i]);
	EXPECT_EQ(0, system("dmesg | grep -q 'rk_dma_heap: rk-dma-heap-cma: allocation rejected: unknown heap_flags 0x8000000000000000$'"));
	close(heap);
}

TEST_HARNESS_MAIN
