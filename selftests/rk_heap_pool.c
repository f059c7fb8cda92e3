// SPDX-License-Identifier: GPL-2.0
/*
 * The heap's pool: memory it keeps after a buffer is freed, to hand out
 * again without going back to CMA. What is handed out again is zeroed; the
 * pool is counted in rk_total_pools_kb and in the usage node, never holds
 * more than the module parameter pool_max_kb, makes way for a buffer it
 * cannot serve, and goes back to the system when the kernel's shrinkers
 * ask for memory, after which CMA counts the region's pages free again,
 * for the system's movable allocations.
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include "kselftest_harness.h"
#include "rk_test.h"
#include "rk_fixture.h"

#define KIB(bytes)	((unsigned long)((bytes) >> 10))

static unsigned long pools_kb(void)
{
	return rk_read_ulong(RK_POOLS_KB);
}

/* Allocate @len bytes, fill them with @byte; returns the fd, start in *phys. */
static int alloc_filled(int heap, size_t len, int byte, uint64_t *phys)
{
	struct rk_info info;
	void *p;
	int fd;

	fd = rk_alloc(heap, len);
	if (fd < 0)
		return fd;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED || rk_info_lookup(rk_ino(fd), &info)) {
		close(fd);
		return -1;
	}
	memset(p, byte, len);
	munmap(p, len);
	*phys = info.start;
	return fd;
}

/* Whether every byte of the buffer behind @fd is 0. */
static bool all_zero(int fd, size_t len)
{
	const unsigned char *p;
	bool zero = true;
	size_t i;

	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return false;
	for (i = 0; i < len && zero; i++)
		zero = !p[i];
	munmap((void *)p, len);
	return zero;
}

/* Two 4 MiB buffers allocated and freed: the pool keeps their 8 MiB. */
static bool fill_pool(int heap)
{
	int fds[2], i, n = 0;

	rk_pool_max_set(8192);
	for (i = 0; i < 2; i++)
		n += (fds[i] = rk_alloc(heap, 4 << 20)) >= 0;
	for (i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return n == 2 && pools_kb() == 8192;
}

FIXTURE(pool) {
	int heap;
	unsigned long max_kb;
};

FIXTURE_SETUP(pool)
{
	self->max_kb = rk_read_ulong(RK_POOL_MAX);
	ASSERT_EQ(0LL, rk_info_total()) TH_LOG("the heap is not empty at the start");
	ASSERT_NE(~0UL, self->max_kb) TH_LOG("no %s", RK_POOL_MAX);
	rk_pool_drain();
	ASSERT_EQ(0UL, pools_kb());
	self->heap = open(RK_HEAP_NODE, O_RDWR);
	ASSERT_LE(0, self->heap);
}

/* in the harness's parent, once the test's process and its fds are gone */
FIXTURE_TEARDOWN_PARENT(pool)
{
	if (self->max_kb != ~0UL)
		rk_pool_max_set(self->max_kb);
	rk_fixture_check(_metadata);
}

/*
 * A freed buffer's memory is handed out again, at the same place, for a
 * buffer of the same size, and it comes back zeroed: nothing of the
 * previous owner's data reaches the next one.
 */
TEST_F_TIMEOUT(pool, reuse_is_zeroed, RK_TIMEOUT)
{
	static const size_t sizes[] = {
		4 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 8 << 20,
	};
	struct rk_info info;
	uint64_t first;
	unsigned int i;
	int fd;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fd = alloc_filled(self->heap, sizes[i], 0xa5, &first);
		ASSERT_LE(0, fd);
		close(fd);
		EXPECT_LE(KIB(sizes[i]), pools_kb());

		fd = rk_alloc(self->heap, sizes[i]);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, rk_info_lookup(rk_ino(fd), &info));
		EXPECT_EQ(first, info.start)
			TH_LOG("%zu KiB: not the freed buffer's memory", sizes[i] >> 10);
		EXPECT_TRUE(all_zero(fd, sizes[i]))
			TH_LOG("%zu KiB: reused memory not zeroed", sizes[i] >> 10);
		close(fd);
		rk_pool_drain();
	}
}

/*
 * pool_bitmap says @kib KiB pooled, has that many pages set, and none of
 * them is taken in alloc_bitmap.
 */
static void pool_bitmap_matches(struct __test_metadata *_metadata,
				unsigned long kib, uint64_t start)
{
	static uint32_t pool[4096], taken[4096];
	unsigned long pooled = 0, both = 0;
	unsigned long long base = ~0ULL;
	char *text, want[48], *p;
	struct rk_usage u;
	int i, n;

	text = rk_read_text(RK_POOL_BITMAP_NODE, NULL);
	ASSERT_TRUE(text != NULL);
	snprintf(want, sizeof(want), "\nPooled: %lu KiB\n\n", kib);
	EXPECT_TRUE(strstr(text, want) != NULL) TH_LOG("%.80s", text);
	/* the region's start: at or before the buffer, within a region's size */
	p = strstr(text, "\n Base: 0x");
	EXPECT_TRUE(p && sscanf(p, "\n Base: 0x%llx", &base) == 1) TH_LOG("%.80s", text);
	ASSERT_EQ(0, rk_usage(&u));
	EXPECT_TRUE(base <= start && start < base + (u.region << 10))
		TH_LOG("base 0x%llx, buffer at 0x%llx", base, (unsigned long long)start);
	free(text);
	n = rk_bitmap_words(RK_POOL_BITMAP_NODE, pool, 4096);
	ASSERT_EQ(n, rk_bitmap_words(RK_BITMAP_NODE, taken, 4096));
	for (i = 0; i < n; i++) {
		pooled += __builtin_popcount(pool[i]);
		both += __builtin_popcount(pool[i] & taken[i]);
	}
	EXPECT_EQ(kib * 1024 / RK_PAGE, pooled);
	EXPECT_EQ(0UL, both);
}

/*
 * The pool is what the heap holds beyond its buffers: a 4 KiB buffer
 * takes a 4 MiB chunk, the rest of which is pooled; freed, the whole
 * chunk is. rk_total_pools_kb, the usage node and pool_bitmap say so; the
 * bitmap node shows pooled pages free, as they are for the heap's next
 * buffers.
 */
TEST_F_TIMEOUT(pool, accounting, RK_TIMEOUT)
{
	struct rk_info info;
	struct rk_usage u;
	char *text, want[64];
	int fd;

	fd = rk_alloc(self->heap, 4 << 10);
	ASSERT_LE(0, fd);
	EXPECT_EQ(4092UL, pools_kb());
	ASSERT_EQ(0, rk_usage(&u));
	EXPECT_EQ(4ULL, u.used);
	EXPECT_EQ(u.region - 4, u.free);
	EXPECT_EQ(4LL, rk_bitmap_used_kib());
	text = rk_read_text(RK_USAGE_NODE, NULL);
	ASSERT_TRUE(text != NULL);
	EXPECT_TRUE(strstr(text, ", pooled 4092 KiB\n") != NULL) TH_LOG("%s", text);
	free(text);

	ASSERT_EQ(0, rk_info_lookup(rk_ino(fd), &info));
	pool_bitmap_matches(_metadata, 4092, info.start);

	close(fd);
	EXPECT_EQ(4096UL, pools_kb());
	pool_bitmap_matches(_metadata, 4096, info.start);
	ASSERT_EQ(0, rk_usage(&u));
	EXPECT_EQ(0ULL, u.used);
	EXPECT_EQ(u.region, u.free);
	EXPECT_EQ(u.region, u.largest);
	EXPECT_EQ(0LL, rk_bitmap_used_kib());
	text = rk_read_text(RK_USAGE_NODE, NULL);
	ASSERT_TRUE(text != NULL);
	snprintf(want, sizeof(want), ", pooled 4096 KiB\n");
	EXPECT_TRUE(strstr(text, want) != NULL) TH_LOG("%s", text);
	free(text);

	rk_pool_drain();
	EXPECT_EQ(0UL, pools_kb());
}

/*
 * The pool never holds more than pool_max_kb: freed buffers beyond it go
 * back at once, and a lower bound applies as soon as it is written.
 */
TEST_F_TIMEOUT(pool, bound_holds, RK_TIMEOUT)
{
	int fds[4], i;

	rk_pool_max_set(8192);
	for (i = 0; i < 4; i++) {
		fds[i] = rk_alloc(self->heap, 4 << 20);
		ASSERT_LE(0, fds[i]);
	}
	EXPECT_EQ(0UL, pools_kb());
	for (i = 0; i < 4; i++)
		close(fds[i]);
	EXPECT_EQ(8192UL, pools_kb());
	rk_pool_max_set(4096);
	EXPECT_EQ(4096UL, pools_kb());
	rk_pool_max_set(0);
	EXPECT_EQ(0UL, pools_kb());
	EXPECT_EQ(0UL, rk_cma_used_pages());
}

/*
 * A pool as large as the region still lets the whole region be allocated
 * in one buffer: what it keeps goes back to CMA to make room.
 */
TEST_F_TIMEOUT(pool, full_pool_makes_way_for_a_larger_buffer, RK_TIMEOUT)
{
	uint64_t base, size;
	int fds[64], n = 0, fd;

	rk_region(&base, &size);
	ASSERT_LT(0ULL, size);
	rk_pool_max_set(KIB(size));
	while (n < 64 && (fd = rk_alloc(self->heap, 4 << 20)) >= 0)
		fds[n++] = fd;
	EXPECT_EQ(size / (4 << 20), (uint64_t)n);
	while (n)
		close(fds[--n]);
	EXPECT_EQ(KIB(size), pools_kb());

	fd = rk_alloc(self->heap, size);
	EXPECT_LE(0, fd) TH_LOG("whole region with a full pool: %s", strerror(-fd));
	EXPECT_EQ(0UL, pools_kb());
	close(fd);
}

/*
 * The shrinker gives the pool back when the kernel asks: drop_caches asks
 * every shrinker, and CMA counts the region's pages free again (where
 * the kernel shows its count: not in Debian's kernels). A carve-out's
 * pool stays: the system could not use its pages.
 */
TEST_F_TIMEOUT(pool, drop_caches_empties_the_pool, RK_TIMEOUT)
{
	const char *cma = rk_cma_debugfs();

	if (access("/proc/sys/vm/drop_caches", W_OK))
		SKIP(return, "this kernel has no /proc/sys/vm/drop_caches (CONFIG_PROC_SYSCTL)");
	ASSERT_TRUE(fill_pool(self->heap)) TH_LOG("pool %lu KiB", pools_kb());
	if (cma)
		ASSERT_EQ(8192UL / 4, rk_cma_debugfs_ulong(cma, "used"));

	ASSERT_EQ(0, rk_write_file("/proc/sys/vm/drop_caches", "2", O_WRONLY));
	if (rk_backend() == RK_BACKEND_CARVEOUT) {
		/* the system could not use a carve-out's pages: kept */
		EXPECT_EQ(8192UL, pools_kb());
		rk_pool_drain();
		return;
	}
	EXPECT_EQ(0UL, pools_kb());
	if (cma)
		EXPECT_EQ(0UL, rk_cma_debugfs_ulong(cma, "used"));
}

/* A figure of /proc/meminfo in kB, or -1. */
static long long meminfo_kb(const char *key)
{
	char line[128];
	long long v = -1;
	size_t n = strlen(key);
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			v = strtoll(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

struct pressure {
	unsigned long pool_kb;	/* the pool when the process stopped */
	long long cma_free_kb;	/* CmaFree then */
	unsigned long mib;	/* anonymous memory it took, in MiB */
};

/*
 * Take anonymous memory, 1 MiB at a time, until the pool is empty or
 * @max_mib are taken; say how it ended in *@r (shared with the parent: a
 * pipe would need a page of the memory that is running out).
 */
static void take_memory(struct pressure *r, unsigned long max_mib)
{
	for (r->mib = 0; r->mib < max_mib; r->mib++) {
		if (mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1,
			 0) == MAP_FAILED)
			break;
		r->pool_kb = pools_kb();
		r->cma_free_kb = meminfo_kb("CmaFree");
		if (!r->pool_kb)
			break;
	}
	_exit(0);
}

/*
 * Real memory pressure, not drop_caches: a process takes the guest's free
 * memory until the kernel's reclaim calls the shrinker, and stops as soon
 * as the pool is given back, before memory runs out. By then the region's
 * pages serve the process's movable memory: CMA's free pages are fewer
 * than the region has, although the heap holds none of them (the default
 * CMA area is smaller than the region). A carve-out's pool stays: the
 * system could not use it.
 */
TEST_F_TIMEOUT(pool, memory_pressure_empties_the_pool, RK_TIMEOUT)
{
	long long total_kb = meminfo_kb("MemTotal");
	long long cma_total_kb = meminfo_kb("CmaTotal");
	struct pressure *r;
	uint64_t base, size;
	int status;
	pid_t pid;

	if (rk_backend() == RK_BACKEND_CARVEOUT)
		SKIP(return, "a carve-out's pool never goes back to the system");
	/*
	 * Reclaim of a guest with GiBs of RAM and no swap finds nothing to
	 * reclaim in the anonymous memory that fills it, and reaches the
	 * shrinkers only when the kernel's own (unmovable) allocations run
	 * out, which the pool's CMA pages cannot serve: the OOM killer then
	 * ends the test. The 512 MiB and 1 GiB guests test the shrinker.
	 */
	if (total_kb > (2LL << 20))
		SKIP(return, "%lld MiB of RAM: memory pressure comes as OOM here",
		     total_kb >> 10);
	/*
	 * On the PREEMPT_RT KASAN guest (1 GiB) reclaim reaches the shrinker
	 * just as the kernel's own memory runs out: the pool went back after
	 * 718 and 720 MiB were taken alone, and under load the OOM killer
	 * came first, at 719 MiB.
	 */
	if (rk_preempt_rt())
		SKIP(return, "PREEMPT_RT: reclaim reaches the pool only as the kernel's memory runs out");
	rk_region(&base, &size);
	ASSERT_LT(0ULL, size);
	ASSERT_LE((long long)KIB(size), cma_total_kb)
		TH_LOG("CmaTotal %lld kB does not include the region", cma_total_kb);
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(r != MAP_FAILED);
	memset(r, 0, sizeof(*r));
	ASSERT_TRUE(fill_pool(self->heap)) TH_LOG("pool %lu KiB", pools_kb());

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		take_memory(r, total_kb >> 10);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status))
		TH_LOG("the memory-taking process was killed (signal %d) after %lu MiB, the pool at %lu KiB",
		       WIFSIGNALED(status) ? WTERMSIG(status) : 0, r->mib,
		       r->pool_kb);
	EXPECT_EQ(0UL, r->pool_kb)
		TH_LOG("the pool kept %lu KiB after %lu MiB were taken",
		       r->pool_kb, r->mib);
	EXPECT_GT((long long)KIB(size), r->cma_free_kb)
		TH_LOG("CmaFree %lld kB after %lu MiB: the region served no movable memory",
		       r->cma_free_kb, r->mib);
	TH_LOG("pool given back after %lu MiB, CmaFree then %lld kB",
	       r->mib, r->cma_free_kb);
	munmap(r, sizeof(*r));
}

TEST_HARNESS_MAIN
