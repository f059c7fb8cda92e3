// SPDX-License-Identifier: GPL-2.0
/*
 * A heap whose region is smaller than one of the heap's 4 MiB chunks
 * (Luckfox's advice without a camera is rk_dma_heap_cma=1M; arm64 allows
 * a CMA region of one 2 MiB pageblock). It must serve buffers from its
 * region only, until the region is full, and hand all of it back.
 *
 * The heap is named by the environment variable RK_SMALL_HEAP (default
 * rk-dma-heap-small, the second heap of the high-memory boot); where its
 * node /dev/rk_dma_heap/NAME does not exist the tests are skipped. The
 * debug nodes have one section per heap, in the order of the heaps: the
 * heap's section of the usage node gives the region's size, the same
 * section of pool_bitmap its base, and of alloc_bitmap its pages in use.
 * rk-dma-heap-cma is not touched and must stay empty.
 */
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "rk_test.h"
#include "rk_fixture.h"

#define SMALL_DEFAULT	"rk-dma-heap-small"
#define CHUNK		(4UL << 20)
/* more than the pages of a region smaller than a chunk */
#define MAX_BUFS	1024

struct held {
	int fd;
	size_t len;
	uint64_t start;
};

/* One heap's section of a bitmap node. */
struct section {
	unsigned long long total_kib, base, used_kib, pooled_kib;
	uint32_t *words;
	int nwords;
};

FIXTURE(small) {
	char name[64];
	uint64_t base, size;
	int heap, n;
	size_t bytes;		/* held in bufs */
	struct held bufs[MAX_BUFS];
};

/*
 * The heap's place among the sections of the bitmap nodes: they list the
 * heaps that have a region, in the usage node's order. -1 if it is not
 * there.
 */
static int section_index(const char *name)
{
	char line[256], want[96];
	int k = -1, idx = -1, in = 0;
	unsigned long long kib;
	FILE *f = fopen(RK_USAGE_NODE, "r");

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "heap %s\n", name);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "heap ", 5)) {
			in = !strcmp(line, want);
		} else if (sscanf(line, "region %llu KiB, used", &kib) == 1) {
			k++;
			if (in)
				idx = k;
		}
	}
	fclose(f);
	return idx;
}

/* Section @idx of the bitmap node @node; 0, or -1. Free s->words. */
static int section_read(const char *node, int idx, struct section *s)
{
	char *text = rk_read_text(node, NULL), *p, *end;
	int k = -1, max;

	memset(s, 0, sizeof(*s));
	for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, "Total: ", 7) && ++k == idx)
			break;
	}
	if (!p || !*p || sscanf(p, "Total: %llu KiB", &s->total_kib) != 1) {
		free(text);
		return -1;
	}
	/* the lines up to the blank one, then the words of the pages */
	end = strstr(p, "\n\n");
	for (; p && p < end; p = strchr(p, '\n') + 1) {
		sscanf(p, " Base: 0x%llx", &s->base);
		sscanf(p, " Used: %llu KiB", &s->used_kib);
		sscanf(p, "Pooled: %llu KiB", &s->pooled_kib);
	}
	max = (s->total_kib / 4 + 31) / 32;
	s->words = calloc(max ? max : 1, sizeof(*s->words));
	for (p = end ? end + 2 : NULL; p && s->nwords < max; p = end) {
		unsigned long w = strtoul(p, &end, 16);

		if (end == p)
			break;
		s->words[s->nwords++] = w;
	}
	free(text);
	return 0;
}

/*
 * The records of heap @name in the info node: their number and bytes,
 * and (@ino nonzero) the range of the dma-buf @ino, *start 0 if absent.
 */
static void info_scan(const char *name, unsigned long ino, int *count,
		      uint64_t *bytes, uint64_t *start, uint64_t *size)
{
	char line[256], head[96], want[96], owner[64];
	unsigned long long s, e, sz;
	int in = 0, mine = 0;
	FILE *f = fopen(RK_INFO_NODE, "r");

	*count = 0;
	*bytes = 0;
	if (start)
		*start = *size = 0;
	if (!f)
		return;
	snprintf(head, sizeof(head), "dma-heap:<%s> ", name);
	snprintf(want, sizeof(want), "dma-heap:<%s> -dmabuf i_ino = %lu\n",
		 name, ino);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "dma-heap:<", 10)) {
			in = !strncmp(line, head, strlen(head));
			mine = in && ino && !strcmp(line, want);
			continue;
		}
		if (!in || sscanf(line, "  Alloc by (%63[^)]) [0x%llx-0x%llx] 0x%llx",
				  owner, &s, &e, &sz) != 4)
			continue;
		(*count)++;
		*bytes += sz;
		if (mine && start) {
			*start = s;
			*size = sz;
		}
		in = mine = 0;
	}
	fclose(f);
}

/* The bytes heap @name holds in buffers, by its records in the info node. */
static uint64_t info_held(const char *name)
{
	uint64_t bytes;
	int count;

	info_scan(name, 0, &count, &bytes, NULL, NULL);
	return bytes;
}

static unsigned char pattern(size_t i, int n)
{
	return i * 13 + (i >> 12) * 5 + n * 7 + 1;
}

/* Whether buffer @n of @len bytes behind @fd holds its pattern. */
static size_t pattern_wrong(int fd, size_t len, int n)
{
	unsigned char *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	size_t i, bad = 0;

	if (p == MAP_FAILED)
		return len;
	for (i = 0; i < len; i++)
		bad += p[i] != pattern(i, n);
	munmap(p, len);
	return bad;
}

/*
 * Allocate @len bytes from the small heap and keep the buffer: it lies in
 * the region at its size, reads back zeroed and holds the pattern written.
 * Returns 0, or -errno of the allocation.
 */
static int hold(struct __test_metadata *_metadata, FIXTURE_DATA(small) *self,
		size_t len)
{
	uint64_t start, size, bytes;
	struct held *b;
	unsigned char *p;
	size_t i, nonzero = 0;
	int fd, count;

	fd = rk_alloc(self->heap, len);
	if (fd < 0)
		return fd;
	if (self->n == MAX_BUFS) {
		close(fd);
		return -ENOSPC;
	}
	b = &self->bufs[self->n];
	b->fd = fd;
	b->len = len;
	info_scan(self->name, rk_ino(fd), &count, &bytes, &start, &size);
	b->start = start;
	EXPECT_NE(0ULL, (unsigned long long)start)
		TH_LOG("buffer %d (%zu bytes) is not in %s's records", self->n,
		       len, self->name);
	EXPECT_EQ(len, size);
	EXPECT_TRUE(start >= self->base && start - self->base <= self->size &&
		    self->size - (start - self->base) >= len)
		TH_LOG("buffer %d of %zu bytes at 0x%llx: outside the region 0x%llx + 0x%llx",
		       self->n, len, (unsigned long long)start,
		       (unsigned long long)self->base,
		       (unsigned long long)self->size);

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_TRUE(p != MAP_FAILED);
	if (p != MAP_FAILED) {
		for (i = 0; i < len; i++)
			nonzero += p[i] != 0;
		EXPECT_EQ(0U, nonzero)
			TH_LOG("buffer %d of %zu bytes: %zu bytes not zeroed",
			       self->n, len, nonzero);
		for (i = 0; i < len; i++)
			p[i] = pattern(i, self->n);
		munmap(p, len);
	}
	EXPECT_EQ(0U, pattern_wrong(fd, len, self->n))
		TH_LOG("buffer %d of %zu bytes does not keep what was written",
		       self->n, len);
	self->n++;
	self->bytes += len;
	return 0;
}

/* Allocate @len until the heap says ENOMEM (and nothing else). */
static void hold_until_enomem(struct __test_metadata *_metadata,
			      FIXTURE_DATA(small) *self, size_t len)
{
	int ret;

	while (!(ret = hold(_metadata, self, len)))
		;
	EXPECT_EQ(-ENOMEM, ret)
		TH_LOG("%zu bytes after %d buffers: %s", len, self->n,
		       strerror(-ret));
}

/*
 * What is held: every buffer still holds its pattern (none overlaps
 * another), none shares a page with another, the info node counts them,
 * and the heap's alloc_bitmap section has exactly their pages.
 */
static void check_held(struct __test_metadata *_metadata,
		       FIXTURE_DATA(small) *self)
{
	unsigned long npages = self->size / RK_PAGE, pg, first, last;
	unsigned long overlap = 0, missing = 0, extra = 0;
	unsigned char *want = calloc(npages, 1);
	struct section s;
	int i, set;

	ASSERT_TRUE(want != NULL);
	for (i = 0; i < self->n; i++) {
		EXPECT_EQ(0U, pattern_wrong(self->bufs[i].fd, self->bufs[i].len, i))
			TH_LOG("buffer %d of %zu bytes lost its pattern", i,
			       self->bufs[i].len);
		if (self->bufs[i].start < self->base)
			continue;
		first = (self->bufs[i].start - self->base) / RK_PAGE;
		last = first + self->bufs[i].len / RK_PAGE;
		for (pg = first; pg < last && pg < npages; pg++)
			overlap += want[pg]++ != 0;
	}
	EXPECT_EQ(0UL, overlap) TH_LOG("pages in two buffers at once");
	EXPECT_EQ(self->bytes, info_held(self->name));

	ASSERT_EQ(0, section_read(RK_BITMAP_NODE, section_index(self->name), &s))
		TH_LOG("no alloc_bitmap section for %s", self->name);
	EXPECT_EQ(self->size >> 10, s.total_kib);
	EXPECT_EQ(self->bytes >> 10, s.used_kib)
		TH_LOG("alloc_bitmap's Used: against %zu bytes held", self->bytes);
	EXPECT_EQ((int)((npages + 31) / 32), s.nwords);
	for (pg = 0; pg < npages && (int)(pg / 32) < s.nwords; pg++) {
		set = !!(s.words[pg / 32] & (1U << (pg % 32)));
		missing += want[pg] && !set;
		extra += !want[pg] && set;
	}
	EXPECT_EQ(0UL, missing) TH_LOG("pages of buffers not in alloc_bitmap");
	EXPECT_EQ(0UL, extra) TH_LOG("pages in alloc_bitmap in no buffer");
	free(s.words);
	free(want);
}

/* Free every buffer: the heap holds nothing, its bitmaps are empty. */
static void release_all(struct __test_metadata *_metadata,
			FIXTURE_DATA(small) *self)
{
	struct section s;
	struct rk_usage u;
	int i;

	for (i = 0; i < self->n; i++)
		EXPECT_EQ(0, close(self->bufs[i].fd));
	self->n = 0;
	self->bytes = 0;
	EXPECT_EQ(0ULL, (unsigned long long)info_held(self->name));
	ASSERT_EQ(0, section_read(RK_BITMAP_NODE, section_index(self->name), &s));
	EXPECT_EQ(0ULL, s.used_kib) TH_LOG("alloc_bitmap: pages left in use");
	free(s.words);
	rk_pool_drain();
	ASSERT_EQ(0, section_read(RK_POOL_BITMAP_NODE, section_index(self->name), &s));
	EXPECT_EQ(0ULL, s.pooled_kib) TH_LOG("pool_bitmap: pages kept after the pool was emptied");
	free(s.words);
	ASSERT_EQ(0, rk_usage_of(self->name, &u));
	EXPECT_EQ(0ULL, u.used);
	EXPECT_EQ(self->size >> 10, u.free);
}

/* The heap is full, exactly: check every buffer, then free them all. */
static void full_then_release(struct __test_metadata *_metadata,
			      FIXTURE_DATA(small) *self)
{
	EXPECT_EQ(self->size, self->bytes)
		TH_LOG("%d buffers hold %zu bytes of the region's %llu", self->n,
		       self->bytes, (unsigned long long)self->size);
	check_held(_metadata, self);
	release_all(_metadata, self);
}

FIXTURE_SETUP(small)
{
	const char *env = getenv("RK_SMALL_HEAP");
	char node[128];
	struct section s;
	struct rk_usage u;

	snprintf(self->name, sizeof(self->name), "%s",
		 env && *env ? env : SMALL_DEFAULT);
	snprintf(node, sizeof(node), "/dev/rk_dma_heap/%s", self->name);
	self->heap = -1;
	if (access(node, F_OK))
		SKIP(return, "no heap %s (%s)", self->name, node);
	ASSERT_EQ(0ULL, (unsigned long long)info_held("rk-dma-heap-cma"))
		TH_LOG("rk-dma-heap-cma is not empty at the start");
	ASSERT_EQ(0ULL, (unsigned long long)info_held(self->name))
		TH_LOG("%s is not empty at the start", self->name);

	ASSERT_EQ(0, rk_usage_of(self->name, &u))
		TH_LOG("no region line for %s in the usage node", self->name);
	self->size = u.region << 10;
	ASSERT_EQ(0, section_read(RK_POOL_BITMAP_NODE, section_index(self->name), &s))
		TH_LOG("no pool_bitmap section for %s", self->name);
	free(s.words);
	ASSERT_EQ(u.region, s.total_kib) TH_LOG("pool_bitmap's section is not %s's", self->name);
	self->base = s.base;
	ASSERT_NE(0ULL, (unsigned long long)self->base);
	if (self->size >= CHUNK)
		SKIP(return, "%s's region (%llu KiB) is not smaller than a chunk",
		     self->name, (unsigned long long)u.region);
	TH_LOG("%s: %llu KiB at 0x%llx", self->name,
	       (unsigned long long)u.region, (unsigned long long)self->base);
	self->heap = open(node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->heap);
}

/*
 * The process is gone, and with it every buffer: both heaps are empty.
 * (A failed ASSERT in the test's process leaves the harness's shared
 * "trigger" set, which would print a log attached to a passing EXPECT
 * here: the logs are printed only on a real failure.)
 */
FIXTURE_TEARDOWN_PARENT(small)
{
	unsigned long long left = info_held(self->name);

	EXPECT_EQ(0ULL, left);
	if (left)
		TH_LOG("%s keeps %llu bytes after the test", self->name, left);
	rk_fixture_check(_metadata);
	EXPECT_EQ(0ULL, (unsigned long long)info_held("rk-dma-heap-cma"));
}

/*
 * Small buffers of mixed sizes, 4 KiB to 256 KiB, until the heap runs
 * out, then single pages until it is full: every page of the region is
 * in a buffer, and nothing outside it.
 */
TEST_F_TIMEOUT(small, small_buffers_fill_the_region, RK_TIMEOUT)
{
	static const size_t sizes[] = {
		RK_PAGE, 64 << 10, 16 << 10, 256 << 10, 8 << 10, 128 << 10,
	};
	unsigned int i = 0;
	int ret;

	while (!(ret = hold(_metadata, self, sizes[i % 6])))
		i++;
	EXPECT_EQ(-ENOMEM, ret) TH_LOG("%zu bytes: %s", sizes[i % 6], strerror(-ret));
	hold_until_enomem(_metadata, self, RK_PAGE);
	full_then_release(_metadata, self);
}

/*
 * Larger buffers first (1 MiB, 512 KiB) until the heap runs out, then
 * small ones: the same, full and inside.
 */
TEST_F_TIMEOUT(small, large_then_small_buffers_fill_the_region, RK_TIMEOUT)
{
	hold_until_enomem(_metadata, self, 1 << 20);
	hold_until_enomem(_metadata, self, 512 << 10);
	hold_until_enomem(_metadata, self, 64 << 10);
	hold_until_enomem(_metadata, self, RK_PAGE);
	full_then_release(_metadata, self);
}

/*
 * One buffer of the whole region, then nothing more fits; a buffer
 * larger than the region is refused outright. Twice: the second one
 * comes from what the first gave back.
 */
TEST_F_TIMEOUT(small, the_whole_region_in_one_buffer, RK_TIMEOUT)
{
	int round;

	for (round = 0; round < 2; round++) {
		ASSERT_EQ(0, hold(_metadata, self, self->size)) TH_LOG("round %d", round);
		EXPECT_EQ(-ENOMEM, rk_alloc(self->heap, RK_PAGE));
		check_held(_metadata, self);
		release_all(_metadata, self);
	}
	EXPECT_EQ(-EINVAL, rk_alloc(self->heap, self->size + RK_PAGE));
}

TEST_HARNESS_MAIN
