// SPDX-License-Identifier: GPL-2.0
/*
 * Several threads of one process using the heap at once, as a threaded
 * media program does (one thread per stream): each allocates, maps,
 * writes a pattern between DMA_BUF_IOCTL_SYNC calls, reads it back and
 * frees, round after round; then threads share one buffer, each writing
 * its own part of it. Waiting for the threads (pthread_join, the barrier)
 * is futex work: armhf glibc makes 32-bit-time futex calls, which a kernel
 * without COMPAT_32BIT_TIME refuses, and the program then aborts.
 */
#include <pthread.h>
#include <sys/mman.h>
#include <linux/dma-buf.h>
#include "kselftest_harness.h"
#include "rk_test.h"
#include "rk_fixture.h"

#define NTHREADS	4
#define ROUNDS		64

struct worker {
	pthread_t tid;
	pthread_barrier_t *start;
	int heap, index;
	/* the first failure: which step, in which round, with which errno */
	const char *step;
	int round, err;
	size_t bytes;		/* the bytes this thread checked */
	/* shared-buffer test: the buffer and this thread's part of it */
	int fd;
	size_t off, len;
};

static int sync_buf(int fd, __u64 flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync) ? -errno : 0;
}

static void *worker_fail(struct worker *w, const char *step, int round,
			 int err)
{
	w->step = step;
	w->round = round;
	w->err = err;
	return NULL;
}

/* the byte at @i of round @round of thread @index: never 0 */
static unsigned char pattern(int index, int round, size_t i)
{
	return (unsigned char)(index * 67 + round * 13 + i % 251) | 1;
}

/*
 * One round: a buffer of one page to 256 KiB (cached or uncached by
 * turns), which must come zeroed, then the pattern written and read back
 * between syncs, then freed. Returns 0, or records the failure and
 * returns -1.
 */
static int one_round(struct worker *w, int round)
{
	size_t len = RK_PAGE << ((w->index + round) % 7), i;
	const char *step = NULL;
	unsigned char *p;
	int fd, err;

	fd = rk_alloc_req(w->heap, RK_DMA_HEAP_IOCTL_ALLOC, len,
			  O_RDWR | O_CLOEXEC,
			  round & 1 ? RK_DMA_HEAP_UNCACHED : 0);
	if (fd < 0) {
		worker_fail(w, "alloc", round, -fd);
		return -1;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		worker_fail(w, "mmap", round, errno);
		close(fd);
		return -1;
	}
	err = sync_buf(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
	if (err)
		step = "sync start";
	for (i = 0; !step && i < len; i++)
		if (p[i])
			step = "not zeroed";
	for (i = 0; !step && i < len; i++)
		p[i] = pattern(w->index, round, i);
	if (!step) {
		err = sync_buf(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
		if (!err)
			err = sync_buf(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
		if (err)
			step = "sync";
	}
	for (i = 0; !step && i < len; i++)
		if (p[i] != pattern(w->index, round, i))
			step = "pattern";
	if (!step) {
		err = sync_buf(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
		if (err)
			step = "sync end";
	}
	munmap(p, len);
	close(fd);
	if (step) {
		worker_fail(w, step, round, err < 0 ? -err : EIO);
		return -1;
	}
	w->bytes += len;
	return 0;
}

static void *worker_rounds(void *arg)
{
	struct worker *w = arg;
	int round;

	pthread_barrier_wait(w->start);
	for (round = 0; round < ROUNDS; round++)
		if (one_round(w, round))
			break;
	return NULL;
}

static void start_workers(struct __test_metadata *_metadata,
			  struct worker *w, void *(*fn)(void *))
{
	pthread_barrier_t start;
	int i;

	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, NTHREADS));
	for (i = 0; i < NTHREADS; i++) {
		w[i].start = &start;
		w[i].index = i;
		ASSERT_EQ(0, pthread_create(&w[i].tid, NULL, fn, &w[i]));
	}
	for (i = 0; i < NTHREADS; i++)
		ASSERT_EQ(0, pthread_join(w[i].tid, NULL));
	pthread_barrier_destroy(&start);
	for (i = 0; i < NTHREADS; i++)
		EXPECT_TRUE(w[i].step == NULL)
			TH_LOG("thread %d, round %d: %s: %s", i, w[i].round,
			       w[i].step, strerror(w[i].err));
}

/* Every thread its own buffers, all threads at once, through one heap fd. */
RK_TEST(threads_allocate_map_sync_and_free)
{
	struct worker w[NTHREADS] = { 0 };
	size_t want = 0;
	int heap, i, round;

	heap = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, heap);
	for (i = 0; i < NTHREADS; i++)
		w[i].heap = heap;
	start_workers(_metadata, w, worker_rounds);
	for (i = 0; i < NTHREADS; i++)
		for (round = 0; round < ROUNDS; round++)
			want += RK_PAGE << ((i + round) % 7);
	for (i = 0; i < NTHREADS; i++)
		want -= w[i].bytes;
	EXPECT_EQ(0U, want) TH_LOG("bytes not checked");
	close(heap);
}

/*
 * Its own part of a shared buffer, through its own mapping: written
 * between syncs, many times over.
 */
static void *worker_part(void *arg)
{
	struct worker *w = arg;
	unsigned char *p;
	int round, err = 0;
	size_t i;

	pthread_barrier_wait(w->start);
	p = mmap(NULL, w->len, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd,
		 w->off);
	if (p == MAP_FAILED)
		return worker_fail(w, "mmap", 0, errno);
	for (round = 0; round < ROUNDS && !err; round++) {
		err = sync_buf(w->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
		if (err) {
			worker_fail(w, "sync start", round, -err);
			break;
		}
		for (i = 0; i < w->len; i++)
			p[i] = pattern(w->index, round, i);
		err = sync_buf(w->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
		if (err)
			worker_fail(w, "sync end", round, -err);
	}
	munmap(p, w->len);
	return NULL;
}

/* One buffer, one part per thread: each part holds its thread's last round. */
RK_TEST(threads_write_parts_of_one_buffer)
{
	const size_t part = 16 * RK_PAGE, len = NTHREADS * part;
	struct worker w[NTHREADS] = { 0 };
	unsigned char *p;
	size_t bad = 0, i;
	int heap, fd, t;

	heap = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, heap);
	fd = rk_alloc(heap, len);
	ASSERT_LE(0, fd);
	for (t = 0; t < NTHREADS; t++) {
		w[t].fd = fd;
		w[t].off = t * part;
		w[t].len = part;
	}
	start_workers(_metadata, w, worker_part);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	ASSERT_EQ(0, sync_buf(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	for (t = 0; t < NTHREADS; t++)
		for (i = 0; i < part; i++)
			bad += p[t * part + i] != pattern(t, ROUNDS - 1, i);
	EXPECT_EQ(0U, bad) TH_LOG("bytes not as their thread left them");
	ASSERT_EQ(0, sync_buf(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	munmap(p, len);
	close(fd);
	close(heap);
}

TEST_HARNESS_MAIN
