// SPDX-License-Identifier: GPL-2.0
/*
 * rk-dma-heap-cma under pressure: a full region and many failing requests,
 * several processes allocating, mapping, renaming and freeing at once
 * while others read every node, and random ioctls and mappings. Runs after
 * the other programs: its many ENOMEMs use up the rate limit of the
 * module's ENOMEM line, which those programs look for. Random choices come
 * from fixed seeds: every run makes the same requests.
 */
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/dma-buf.h>
#include "kselftest_harness.h"
#include "rk_test.h"
#include "rk_fixture.h"

/* The pages the kernel has handed out since boot (pgalloc_* in vmstat). */
static unsigned long long pages_allocated(void)
{
	unsigned long long sum = 0, v;
	char name[64];
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return 0;
	while (fscanf(f, "%63s %llu", name, &v) == 2)
		if (!strncmp(name, "pgalloc_", 8))
			sum += v;
	fclose(f);
	return sum;
}

/*
 * With the region full, a request fails at once: the heap must not take
 * ordinary memory for it (reclaim, the OOM killer) only to throw it away.
 */
RK_TEST(full_region_fails_without_taking_other_memory)
{
	static const uint64_t sizes[] = { 1 << 20, 64 << 10, RK_PAGE };
	unsigned long long before, taken;
	int fds[2048], n = 0, i, fd, heap;
	unsigned int s;

	heap = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, heap);

	for (s = 0; s < 3; s++)
		while (n < 2048 && (fd = rk_alloc(heap, sizes[s])) >= 0)
			fds[n++] = fd;
	ASSERT_LT(n, 2048);
	ASSERT_EQ(-ENOMEM, rk_alloc(heap, RK_PAGE));

	before = pages_allocated();
	for (i = 0; i < 500; i++)
		if (rk_alloc(heap, 32 << 10) != -ENOMEM)
			break;
	taken = pages_allocated() - before;
	EXPECT_EQ(500, i);
	/* each attempt would take 8 pages if the heap tried ordinary memory */
	EXPECT_GT(1000ULL, taken) TH_LOG("%llu pages taken for 500 failing requests", taken);
	for (i = 0; i < n; i++)
		close(fds[i]);
	close(heap);
	EXPECT_EQ(0LL, rk_info_total());
}

#define WORKERS		4
#define WORKER_OPS	2000
#define WORKER_BUFS	16

/*
 * One worker: WORKER_OPS random steps over up to WORKER_BUFS live buffers
 * of 1 to 64 pages: allocate (every fresh buffer must read zero), map and
 * write, rename, free. Returns 0, or the step's number that went wrong
 * (any error but ENOMEM, a fresh buffer with old data).
 */
static int worker(int heap, uint32_t seed)
{
	static const unsigned char zeroes[64 * RK_PAGE];
	static const char *const names[] = { "rkisp", "mpp", "rknn", "rga" };
	int fds[WORKER_BUFS], i, slot, op;
	size_t lens[WORKER_BUFS];
	unsigned char *p;

	for (i = 0; i < WORKER_BUFS; i++)
		fds[i] = -1;
	for (op = 1; op <= WORKER_OPS; op++) {
		slot = rk_rand(&seed) % WORKER_BUFS;
		if (fds[slot] >= 0 && rk_rand(&seed) % 3 == 0) {
			if (ioctl(fds[slot], DMA_BUF_SET_NAME,
				  names[rk_rand(&seed) % 4]))
				return op;
			close(fds[slot]);
			fds[slot] = -1;
			continue;
		}
		if (fds[slot] >= 0)
			continue;
		lens[slot] = (1 + rk_rand(&seed) % 64) * RK_PAGE;
		fds[slot] = rk_alloc(heap, lens[slot]);
		if (fds[slot] == -ENOMEM)
			continue;
		if (fds[slot] < 0)
			return op;
		p = mmap(NULL, lens[slot], PROT_READ | PROT_WRITE, MAP_SHARED,
			 fds[slot], 0);
		if (p == MAP_FAILED)
			return op;
		if (memcmp(p, zeroes, lens[slot]))
			return op;
		memset(p, 0xa0 + slot, lens[slot]);
		munmap(p, lens[slot]);
	}
	for (i = 0; i < WORKER_BUFS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return 0;
}

/* Reads every node of the heap until killed. */
static void reader(void)
{
	static const char *const nodes[] = {
		RK_INFO_NODE, "/proc/rk_dma_heap/dma_heap_info",
		RK_BITMAP_NODE, RK_USAGE_NODE,
		"/sys/kernel/rk_dma_heap/rk_total_pools_kb",
	};
	char buf[4096];
	unsigned int i = 0;
	int fd;

	for (;;) {
		fd = open(nodes[i++ % 5], O_RDONLY);
		if (fd < 0)
			_exit(1);
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
}

FIXTURE(stress) {
	int heap;
};

FIXTURE_SETUP(stress)
{
	self->heap = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->heap);
	ASSERT_EQ(0LL, rk_info_total()) TH_LOG("the heap is not empty at the start");
}

/* whatever happened, every buffer is back */
FIXTURE_TEARDOWN_PARENT(stress)
{
	rk_fixture_check(_metadata);
}

/*
 * Four processes at once, two readers of the nodes beside them. About
 * 60 s on a busy two-core host: the timeout leaves a tenfold margin.
 */
TEST_F_TIMEOUT(stress, concurrent_processes_and_readers, 600)
{
	pid_t workers[WORKERS], readers[2];
	int i, status;

	for (i = 0; i < 2; i++) {
		readers[i] = fork();
		ASSERT_LE(0, readers[i]);
		if (readers[i] == 0)
			reader();
	}
	for (i = 0; i < WORKERS; i++) {
		workers[i] = fork();
		ASSERT_LE(0, workers[i]);
		if (workers[i] == 0)
			_exit(worker(self->heap, 0x9e3779b9u * (i + 1)) ? 1 : 0);
	}
	for (i = 0; i < WORKERS; i++) {
		ASSERT_EQ(workers[i], waitpid(workers[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("worker %d: a step failed (error other than ENOMEM, or a fresh buffer not zero)", i);
	}
	for (i = 0; i < 2; i++) {
		kill(readers[i], SIGKILL);
		ASSERT_EQ(readers[i], waitpid(readers[i], &status, 0));
		EXPECT_TRUE(WIFSIGNALED(status)) TH_LOG("reader %d could not open a node", i);
	}
}

/* A pointer that faults: the last page of a mapping made inaccessible. */
static void *bad_pointer(int readonly)
{
	char *p = mmap(NULL, 2 * RK_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0x5a, 2 * RK_PAGE);
	mprotect(p + RK_PAGE, RK_PAGE, readonly ? PROT_READ : PROT_NONE);
	return p + RK_PAGE;
}

/*
 * Random ioctls on the heap node and on buffers: random command numbers
 * (types of the heap and of dma-buf, any size and direction), arguments
 * that are random, unreadable or read-only; random mappings; children
 * killed while they hold buffers and mappings. Nothing may crash or leak.
 */
TEST_F_TIMEOUT(stress, random_ioctls_and_mappings, 600)
{
	static const unsigned char types[] = { 'R', 'H', 'b', 0 };
	unsigned char *ro = bad_pointer(1), *none = bad_pointer(0);
	int bufs[8] = { -1, -1, -1, -1, -1, -1, -1, -1 }, i, fd, status;
	unsigned char arg[256];
	uint32_t seed = 20261129;
	unsigned long cmd;
	void *argp, *p;
	int held[2];
	pid_t pid;
	char c;

	ASSERT_TRUE(ro && none);
	for (i = 0; i < 8; i++)
		bufs[i] = rk_alloc(self->heap, (i + 1) * RK_PAGE);
	for (i = 0; i < 30000; i++) {
		unsigned int r = rk_rand(&seed), j;

		for (j = 0; j < sizeof(arg); j++)
			arg[j] = rk_rand(&seed);
		/* now and then a well-formed request with random contents */
		cmd = _IOC(r & 3, types[(r >> 2) % 4], (r >> 4) % 4,
			   (r >> 8) % 64);
		switch ((r >> 16) % 3) {
		case 0:
			argp = arg;
			break;
		case 1:
			argp = ro;
			break;
		default:
			argp = none;
			break;
		}
		fd = (r >> 20) % 3 ? bufs[(r >> 24) % 8] : self->heap;
		if (fd < 0)
			continue;
		if (ioctl(fd, cmd, argp) == 0 && fd == self->heap &&
		    _IOC_DIR(cmd) & _IOC_READ && argp == arg)
			/* an allocation that succeeded: its fd is in arg */
			close(((struct rk_dma_heap_allocation_data *)arg)->fd);
		if (i % 100 == 0) {
			p = mmap(NULL, (1 + r % 9) * RK_PAGE, r & 1 ? PROT_READ :
				 PROT_READ | PROT_WRITE,
				 r & 2 ? MAP_SHARED : MAP_PRIVATE,
				 bufs[(r >> 24) % 8], (r >> 4) % 9 * RK_PAGE);
			if (p != MAP_FAILED)
				munmap(p, (1 + r % 9) * RK_PAGE);
		}
		/*
		 * The child says when it holds its buffer and mappings: a
		 * timed wait instead could end before it got them (or at
		 * once, where the guest's sleeps do not sleep), and the
		 * kill would then test nothing.
		 */
		if (i % 1000 == 0) {
			ASSERT_EQ(0, pipe(held));
			pid = fork();
			ASSERT_LE(0, pid);
			if (pid == 0) {
				int mine = rk_alloc(self->heap, 16 * RK_PAGE);

				mmap(NULL, 16 * RK_PAGE, PROT_READ | PROT_WRITE,
				     MAP_SHARED, mine, 0);
				mmap(NULL, RK_PAGE, PROT_READ, MAP_SHARED,
				     bufs[0], 0);
				if (write(held[1], "h", 1) != 1)
					_exit(1);
				pause();
				_exit(0);
			}
			close(held[1]);
			EXPECT_EQ(1, read(held[0], &c, 1))
				TH_LOG("the child died before it held its buffers");
			close(held[0]);
			kill(pid, SIGKILL);
			ASSERT_EQ(pid, waitpid(pid, &status, 0));
		}
	}
	for (i = 0; i < 8; i++)
		if (bufs[i] >= 0)
			close(bufs[i]);
}

TEST_HARNESS_MAIN
