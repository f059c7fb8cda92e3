// SPDX-License-Identifier: GPL-2.0
/*
 * The region shared with mainline's own CMA heap. Kernels whose CMA heap
 * serves every reusable region (7.2 debug kernels) create
 * /dev/dma_heap/rk-dma-heap-region, named after the region's device-tree node,
 * which allocates from the same CMA area as rk-dma-heap-cma. What it holds
 * is not the heap's: the nodes and the ENOMEM line must show it as held
 * outside the heap, and count it neither as used nor as free.
 */
#include <sys/mman.h>
#include <linux/dma-heap.h>
#include "kselftest_harness.h"
#include "rk_test.h"
#include "rk_fixture.h"

#define MAINLINE_DIR	"/dev/dma_heap"
#define MAINLINE_NODE	MAINLINE_DIR "/rk-dma-heap-region"
/* mainline's heap on the default CMA area, under its name since 6.17 */
#define MAINLINE_DEFAULT MAINLINE_DIR "/default_cma_region"

/* Allocate from one of mainline's dma-buf heaps; the fd or -errno. */
static int mainline_alloc(int heap, uint64_t len)
{
	return rk_alloc_req(heap, DMA_HEAP_IOCTL_ALLOC, len,
			    O_RDWR | O_CLOEXEC, 0);
}

/* Set bits of the bitmap node; *runs gets the number of runs of set bits. */
static int bitmap_set_pages(unsigned int *runs)
{
	static uint32_t words[4096];
	int i, bit, prev = 0, n = 0, nwords;

	*runs = 0;
	nwords = rk_bitmap_words(RK_BITMAP_NODE, words, 4096);
	/* bit 0 of a word is the word's first page */
	for (i = 0; i < nwords; i++) {
		for (bit = 0; bit < 32; bit++) {
			int set = (words[i] >> bit) & 1;

			n += set;
			*runs += set && !prev;
			prev = set;
		}
	}
	return nwords < 0 ? -1 : n;
}

/* Number of kernel log lines that contain @text. */
static int dmesg_count(const char *text)
{
	char line[512];
	int n = 0;
	FILE *f = popen("dmesg", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, text) != NULL;
	pclose(f);
	return n;
}

RK_TEST(memory_of_mainline_heap_is_held_outside)
{
	unsigned long long region_kib;
	int heap, mheap, mbuf, fds[160], n = 0, fd = 0, i, set, lines;
	uint64_t base, size;
	unsigned int runs;
	struct rk_usage u;
	char want[256];

	if (rk_backend() == RK_BACKEND_CARVEOUT)
		SKIP(return, "the region is a carve-out: no CMA area, which mainline's heap could share");
	if (access(MAINLINE_NODE, F_OK)) {
		/*
		 * A kernel that names its default CMA heap default_cma_region
		 * gives every reusable region a heap: ours must be there.
		 */
		ASSERT_NE(0, access(MAINLINE_DEFAULT, F_OK))
			TH_LOG("%s exists but %s does not", MAINLINE_DEFAULT,
			       MAINLINE_NODE);
		if (access(MAINLINE_DIR, F_OK))
			SKIP(return, "no dma-buf heaps in this kernel (no %s)",
			     MAINLINE_DIR);
		SKIP(return, "mainline's CMA heap does not serve reusable regions in this kernel (no %s)",
		     MAINLINE_NODE);
	}

	rk_region(&base, &size);
	ASSERT_LT(0ULL, size)
		TH_LOG("region unknown: no CMA debugfs and no registration line in dmesg");
	region_kib = size >> 10;
	heap = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, heap);
	mheap = open(MAINLINE_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, mheap) TH_LOG("cannot open %s: %s", MAINLINE_NODE,
				   strerror(errno));

	ASSERT_EQ(0, rk_usage(&u));
	ASSERT_EQ(0ULL, u.used) TH_LOG("region not empty at start");
	ASSERT_EQ(0ULL, u.outside) TH_LOG("region not empty at start");
	ASSERT_EQ(region_kib, u.free);

	/* 1 MiB through mainline's heap: held outside ours */
	mbuf = mainline_alloc(mheap, 1 << 20);
	ASSERT_LE(0, mbuf) TH_LOG("%s: %s", MAINLINE_NODE, strerror(-mbuf));
	ASSERT_EQ(0, rk_usage(&u));
	EXPECT_EQ(region_kib, u.region);
	EXPECT_EQ(0ULL, u.used);
	EXPECT_TRUE(u.outside_shown) TH_LOG("no \", held outside the heap\" part");
	EXPECT_EQ(1024ULL, u.outside);
	EXPECT_EQ(region_kib - 1024, u.free);
	EXPECT_GE(u.free, u.largest);
	/* the bitmap shows what others hold too: one run of 1 MiB */
	EXPECT_EQ(1024LL, rk_bitmap_used_kib());
	set = bitmap_set_pages(&runs);
	EXPECT_EQ((int)((1 << 20) / RK_PAGE), set);
	EXPECT_EQ(1U, runs);
	EXPECT_EQ((1UL << 20) / RK_PAGE, rk_cma_used_pages());

	/* ours gets the rest: one 1 MiB buffer fewer than the region holds */
	while (n < 160) {
		fd = rk_alloc(heap, 1 << 20);
		if (fd < 0)
			break;
		fds[n++] = fd;
	}
	EXPECT_EQ(-ENOMEM, fd) TH_LOG("region full: expected ENOMEM");
	EXPECT_EQ((int)(size >> 20) - 1, n);
	snprintf(want, sizeof(want),
		 "rk_dma_heap: rk-dma-heap-cma: cannot allocate 1024 KiB for rk_heap_shared: 0 KiB free, largest free block 0 KiB, 1024 KiB held outside the heap\n");
	/* the only ENOMEM of this program: exactly one such line */
	lines = dmesg_count(want);
	EXPECT_EQ(1, lines) TH_LOG("dmesg lines like: %s", want);
	ASSERT_EQ(0, rk_usage(&u));
	EXPECT_EQ(region_kib - 1024, u.used);
	EXPECT_EQ(1024ULL, u.outside);
	EXPECT_EQ(0ULL, u.free);
	EXPECT_EQ(0ULL, u.largest);
	EXPECT_EQ(region_kib, (unsigned long long)rk_bitmap_used_kib());

	/* ours freed: only mainline's buffer is left, still outside */
	for (i = 0; i < n; i++)
		close(fds[i]);
	ASSERT_EQ(0, rk_usage(&u));
	EXPECT_EQ(0ULL, u.used);
	EXPECT_EQ(1024ULL, u.outside);
	EXPECT_EQ(region_kib - 1024, u.free);

	/* mainline's freed: the whole region is free, nothing outside */
	close(mbuf);
	ASSERT_EQ(0, rk_usage(&u));
	EXPECT_EQ(0ULL, u.used);
	EXPECT_FALSE(u.outside_shown) TH_LOG("\"held outside\" with nothing held");
	EXPECT_EQ(region_kib, u.free);
	EXPECT_EQ(region_kib, u.largest);
	EXPECT_EQ(0LL, rk_bitmap_used_kib());
	EXPECT_EQ(0UL, rk_cma_used_pages());
	close(mheap);
	close(heap);
}

TEST_HARNESS_MAIN
