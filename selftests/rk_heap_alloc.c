// SPDX-License-Identifier: GPL-2.0
/*
 * rk-dma-heap-cma allocation and its ioctl ABI: contiguous zeroed buffers
 * inside the reserved region, ENOMEM when the region is full and nothing
 * from elsewhere, both ioctl magics and argument sizes, and the errors.
 */
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "rk_test.h"
#include "rk_fixture.h"

FIXTURE(heap) {
	int fd;
	uint64_t base, size;
};

FIXTURE_SETUP(heap)
{
	self->fd = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("cannot open %s: %s", RK_HEAP_NODE,
				      strerror(errno));
	rk_region(&self->base, &self->size);
	/* module.sh checks that it is the size the device tree gives */
	ASSERT_LT(0ULL, self->size)
		TH_LOG("region unknown: no CMA debugfs and no registration line in dmesg");
	ASSERT_EQ(0UL, rk_cma_used_pages()) TH_LOG("region not empty at start");
}

/* whatever a test did, its buffers must all be back */
FIXTURE_TEARDOWN_PARENT(heap)
{
	rk_fixture_check(_metadata);
}

/* Allocate, check range, size and zeroed contents; dirty it; free it. */
static void check_buffer(struct __test_metadata *_metadata, int heap,
			 uint64_t base, uint64_t size, uint64_t len)
{
	uint64_t want = (len + RK_PAGE - 1) & ~(RK_PAGE - 1), i;
	struct rk_info info;
	unsigned char *p;
	int fd;

	fd = rk_alloc(heap, len);
	ASSERT_LE(0, fd) TH_LOG("alloc %llu: %s", (unsigned long long)len,
				strerror(-fd));
	ASSERT_EQ(0, rk_info_lookup(rk_ino(fd), &info));
	EXPECT_EQ(want, info.size);
	EXPECT_EQ(info.start + want - 1, info.end);
	EXPECT_EQ(0ULL, info.start % RK_PAGE);
	EXPECT_LE(base, info.start) TH_LOG("buffer below the region");
	EXPECT_GE(base + size - 1, info.end) TH_LOG("buffer beyond the region");

	p = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	for (i = 0; i < want; i++)
		if (p[i])
			break;
	EXPECT_EQ(want, i) TH_LOG("byte %llu is not zero", (unsigned long long)i);
	/* leave garbage behind: the next buffer must still read zero */
	memset(p, 0xa5, want);
	munmap(p, want);
	close(fd);
}

TEST_F_TIMEOUT(heap, sizes_zeroed_and_inside_region, RK_TIMEOUT)
{
	uint64_t sizes[] = { 1, RK_PAGE, 3 * RK_PAGE + 1, 1 << 20,
			     (16 << 20) + RK_PAGE, self->size };
	unsigned int i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_buffer(_metadata, self->fd, self->base, self->size,
			     sizes[i]);
	/* once more after the garbage: memory is zeroed on every allocation */
	check_buffer(_metadata, self->fd, self->base, self->size, 1 << 20);
}

TEST_F_TIMEOUT(heap, fill_then_enomem_then_all_free, RK_TIMEOUT)
{
	int fds[128], n = 0, fd, i;

	while (n < 128) {
		fd = rk_alloc(self->fd, 1 << 20);
		if (fd < 0)
			break;
		fds[n++] = fd;
	}
	EXPECT_EQ(-ENOMEM, fd) TH_LOG("region full: expected ENOMEM");
	/* a region of N MiB holds N one-MiB buffers, not one more */
	EXPECT_EQ(self->size >> 20, n);
	EXPECT_EQ(self->size / RK_PAGE, rk_cma_used_pages());
	EXPECT_EQ(-ENOMEM, rk_alloc(self->fd, RK_PAGE));
	for (i = 0; i < n; i++)
		close(fds[i]);
	EXPECT_EQ(0UL, rk_cma_used_pages());
	fd = rk_alloc(self->fd, self->size);
	EXPECT_LE(0, fd) TH_LOG("whole region after freeing: %s", strerror(-fd));
	close(fd);
}

/*
 * A buffer larger than 1 MiB has a block of its own. With
 * dma_alloc_pages() CMA aligns it to its order, capped at
 * CONFIG_CMA_ALIGNMENT (8: 1 MiB); with cma_alloc() the module asks for no
 * alignment at all. Either way a 16 MiB buffer after a 2 MiB one follows
 * it directly instead of skipping to the next 16 MiB boundary and wasting
 * the gap.
 */
TEST_F_TIMEOUT(heap, large_buffers_are_not_aligned_beyond_1mib, RK_TIMEOUT)
{
	struct rk_info a, b;
	int fd1, fd2;

	fd1 = rk_alloc(self->fd, 2 << 20);
	ASSERT_LE(0, fd1);
	fd2 = rk_alloc(self->fd, 16 << 20);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, rk_info_lookup(rk_ino(fd1), &a));
	ASSERT_EQ(0, rk_info_lookup(rk_ino(fd2), &b));
	EXPECT_EQ(self->base, a.start) TH_LOG("first buffer of an empty region");
	EXPECT_EQ(a.end + 1, b.start) TH_LOG("16 MiB buffer not right after the 2 MiB one");
	EXPECT_EQ(0ULL, b.start % (1 << 20));
	close(fd2);
	close(fd1);
}

/*
 * Buffers of up to 1 MiB share 4 MiB chunks, on 4 MiB boundaries, with
 * every backend: seven of 520 KiB fit in a chunk, one after the other,
 * and the 456 KiB left in each chunk take none. Once no chunk is left,
 * each takes a block of its own in what lies before the first boundary
 * and after the last (nothing in a CMA region, 3 and 1 MiB in the
 * carve-out the tests use). So a region with C chunks holds exactly
 * 7 * C of them, and those blocks.
 */
TEST_F_TIMEOUT(heap, buffers_up_to_1mib_share_4mib_chunks, RK_TIMEOUT)
{
	const uint64_t len = 520 << 10, chunk = 4 << 20;
	uint64_t first = (self->base + chunk - 1) / chunk * chunk;
	uint64_t last = (self->base + self->size) / chunk * chunk;
	uint64_t edges = (first - self->base) / len +
			 (self->base + self->size - last) / len;
	int fds[160], n = 0, fd = 0, i, split = 0;
	struct rk_info a, b;

	while (n < 160) {
		fd = rk_alloc(self->fd, len);
		if (fd < 0)
			break;
		fds[n++] = fd;
	}
	EXPECT_EQ(-ENOMEM, fd) TH_LOG("region full: expected ENOMEM");
	ASSERT_LT(1, n);
	EXPECT_EQ((last - first) / chunk * 7 + edges, (uint64_t)n);

	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, rk_info_lookup(rk_ino(fds[i]), &a));
		EXPECT_LE(self->base, a.start);
		EXPECT_GE(self->base + self->size - 1, a.end);
		split += a.start / chunk != a.end / chunk;
	}
	EXPECT_EQ(0, split) TH_LOG("buffers across a 4 MiB boundary");
	/* the first two of an empty region: nothing between them */
	ASSERT_EQ(0, rk_info_lookup(rk_ino(fds[0]), &a));
	ASSERT_EQ(0, rk_info_lookup(rk_ino(fds[1]), &b));
	EXPECT_EQ(first, a.start) TH_LOG("not at the region's first chunk");
	EXPECT_EQ(a.end + 1, b.start) TH_LOG("second buffer not right after the first");
	for (i = 0; i < n; i++)
		close(fds[i]);
}

TEST_F_TIMEOUT(heap, both_magics, RK_TIMEOUT)
{
	int fd;

	fd = rk_alloc_cmd(self->fd, RK_DMA_HEAP_IOCTL_ALLOC, RK_PAGE, O_RDWR);
	EXPECT_LE(0, fd);
	close(fd);
	fd = rk_alloc_cmd(self->fd, DMA_HEAP_IOCTL_ALLOC, RK_PAGE, O_RDWR);
	EXPECT_LE(0, fd);
	close(fd);
}

TEST_F_TIMEOUT(heap, shorter_and_longer_argument, RK_TIMEOUT)
{
	struct { uint64_t len; uint32_t fd; uint32_t fd_flags; } small = {
		.len = RK_PAGE, .fd_flags = O_RDWR,
	};
	struct { uint64_t len; uint32_t fd; uint32_t fd_flags;
		 uint64_t heap_flags; uint64_t future; } big = {
		.len = 2 * RK_PAGE, .fd_flags = O_RDWR, .future = 0x1234,
	};
	struct rk_info info;

	ASSERT_EQ(0, ioctl(self->fd, _IOWR('H', 0, small), &small));
	ASSERT_LT(0U, small.fd);
	ASSERT_EQ(0, rk_info_lookup(rk_ino(small.fd), &info));
	EXPECT_EQ(RK_PAGE, info.size);
	close(small.fd);

	ASSERT_EQ(0, ioctl(self->fd, _IOWR('R', 0, big), &big));
	ASSERT_LT(0U, big.fd);
	ASSERT_EQ(0, rk_info_lookup(rk_ino(big.fd), &info));
	EXPECT_EQ(2 * RK_PAGE, info.size);
	EXPECT_EQ(0x1234ULL, big.future) TH_LOG("bytes the kernel does not know were changed");
	close(big.fd);
}

TEST_F_TIMEOUT(heap, einval_cases, RK_TIMEOUT)
{
	struct rk_dma_heap_allocation_data d;

	memset(&d, 0, sizeof(d));
	d.len = RK_PAGE;
	d.fd = 3;
	EXPECT_EQ(-1, ioctl(self->fd, RK_DMA_HEAP_IOCTL_ALLOC, &d));
	EXPECT_EQ(EINVAL, errno) TH_LOG("nonzero input fd");

	memset(&d, 0, sizeof(d));
	d.len = RK_PAGE;
	d.heap_flags = 2;
	EXPECT_EQ(-1, ioctl(self->fd, RK_DMA_HEAP_IOCTL_ALLOC, &d));
	EXPECT_EQ(EINVAL, errno) TH_LOG("unknown heap_flags");

	EXPECT_EQ(-EINVAL, rk_alloc_cmd(self->fd, RK_DMA_HEAP_IOCTL_ALLOC,
					RK_PAGE, O_RDWR | O_NONBLOCK));
	EXPECT_EQ(-EINVAL, rk_alloc_cmd(self->fd, DMA_HEAP_IOCTL_ALLOC,
					RK_PAGE, O_RDWR | O_APPEND));
	EXPECT_EQ(-EINVAL, rk_alloc(self->fd, 0)) TH_LOG("len 0");
	EXPECT_EQ(-EINVAL, rk_alloc(self->fd, self->size + RK_PAGE))
		TH_LOG("len beyond the region");
	EXPECT_EQ(-EINVAL, rk_alloc(self->fd, ~0ULL)) TH_LOG("len ~0");

	/* each rejection says why, in one kernel log line */
	EXPECT_EQ(0, system("dmesg | grep -q 'rk_dma_heap: rk-dma-heap-cma: allocation rejected: fd must be 0 on input, got 3$'"));
	EXPECT_EQ(0, system("dmesg | grep -q 'rk_dma_heap: rk-dma-heap-cma: allocation rejected: unknown heap_flags 0x2$'"));
	EXPECT_EQ(0, system("dmesg | grep -q 'rk_dma_heap: rk-dma-heap-cma: allocation rejected: invalid length 0$'"));
	EXPECT_EQ(0, system("dmesg | grep -q 'rk_dma_heap: rk-dma-heap-cma: allocation rejected: .* bytes is more than the whole region'"));
}

TEST_F_TIMEOUT(heap, enotty_cases, RK_TIMEOUT)
{
	struct rk_dma_heap_allocation_data d = { .len = RK_PAGE };

	EXPECT_EQ(-1, ioctl(self->fd, _IOWR('R', 1, d), &d));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR('X', 0, d), &d));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, 0, 0));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F_TIMEOUT(heap, fd_flags_reach_the_new_fd, RK_TIMEOUT)
{
	int fd;

	fd = rk_alloc_cmd(self->fd, RK_DMA_HEAP_IOCTL_ALLOC, RK_PAGE,
			  O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(fd, F_GETFL) & O_ACCMODE);
	close(fd);

	fd = rk_alloc_cmd(self->fd, RK_DMA_HEAP_IOCTL_ALLOC, RK_PAGE, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);
	/* mpp derives PROT from F_GETFL: a read-only fd maps read-only only */
	EXPECT_TRUE(mmap(NULL, RK_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, 0) == MAP_FAILED);
	close(fd);
}

TEST_F_TIMEOUT(heap, mixed_alloc_free_cycles_leave_region_free, RK_TIMEOUT)
{
	static const uint64_t sizes[] = { RK_PAGE, 5 * RK_PAGE, 64 << 10,
					  300 << 10, 1 << 20, 3 << 20,
					  4 << 20 };
	int fds[8] = { -1, -1, -1, -1, -1, -1, -1, -1 }, i, slot, fd;
	unsigned int seed = 1;

	for (i = 0; i < 200; i++) {
		slot = rand_r(&seed) % 8;
		if (fds[slot] >= 0) {
			close(fds[slot]);
			fds[slot] = -1;
		}
		fd = rk_alloc(self->fd, sizes[rand_r(&seed) % 7]);
		ASSERT_LE(0, fd) TH_LOG("cycle %d: %s", i, strerror(-fd));
		fds[slot] = fd;
	}
	for (i = 0; i < 8; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	EXPECT_EQ(0UL, rk_cma_used_pages());
	EXPECT_EQ(0LL, rk_info_total());
	fd = rk_alloc(self->fd, self->size);
	EXPECT_LE(0, fd) TH_LOG("whole region after 200 cycles: %s",
				strerror(-fd));
	close(fd);
}

/*
 * Requests that could not return the fd: no read direction, or too short
 * to hold it. EINVAL, and no buffer left behind an fd nobody knows.
 */
TEST_F_TIMEOUT(heap, request_that_cannot_return_the_fd, RK_TIMEOUT)
{
	struct rk_dma_heap_allocation_data d = {
		.len = RK_PAGE, .fd_flags = O_RDWR,
	};
	uint64_t len_only = RK_PAGE;

	EXPECT_EQ(-1, ioctl(self->fd, _IOW('R', 0, d), &d));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR('H', 0, uint64_t), &len_only));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0LL, rk_info_total());
}

/*
 * The argument readable but not writable: the result cannot reach the
 * caller, so the call fails with EFAULT and leaves no fd and no buffer.
 */
TEST_F_TIMEOUT(heap, unwritable_result_leaves_no_fd_and_no_buffer, RK_TIMEOUT)
{
	struct rk_dma_heap_allocation_data *d;
	int before;

	d = mmap(NULL, RK_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(d != MAP_FAILED);
	d->len = 4 * RK_PAGE;
	d->fd_flags = O_RDWR | O_CLOEXEC;
	ASSERT_EQ(0, mprotect(d, RK_PAGE, PROT_READ));
	before = rk_count_fds();
	EXPECT_EQ(-1, ioctl(self->fd, RK_DMA_HEAP_IOCTL_ALLOC, d));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(before, rk_count_fds());
	EXPECT_EQ(0LL, rk_info_total());
	munmap(d, RK_PAGE);
}

TEST_HARNESS_MAIN
