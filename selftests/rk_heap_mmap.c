// SPDX-License-Identifier: GPL-2.0
/*
 * CPU access to rk-dma-heap-cma buffers: mmap (whole, part, page offset,
 * out of bounds), sharing the fd with another process over a Unix socket,
 * DMA_BUF_IOCTL_SYNC, DMA_BUF_IOCTL_SYNC_PARTIAL (Android-derived kernels
 * such as Rockchip's BSP), and the owner name in the info node.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/dma-buf.h>
#include "kselftest_harness.h"
#include "rk_test.h"
#include "rk_fixture.h"

#define NPAGES 8

/*
 * Partial cache maintenance of Android-derived kernels (Rockchip's BSP,
 * CONFIG_DMABUF_PARTIAL): mpp syncs only the part of a frame it touched.
 * Mainline kernels have no such ioctl (ENOTTY).
 */
#ifndef DMA_BUF_IOCTL_SYNC_PARTIAL
struct dma_buf_sync_partial {
	__u64 flags;
	__u32 offset;
	__u32 len;
};

#define DMA_BUF_IOCTL_SYNC_PARTIAL \
	_IOW(DMA_BUF_BASE, 2, struct dma_buf_sync_partial)
#endif

/* DMA_BUF_IOCTL_SYNC_PARTIAL; returns 0 or -errno */
static int sync_partial(int fd, __u64 flags, __u32 offset, __u32 len)
{
	struct dma_buf_sync_partial sync = {
		.flags = flags, .offset = offset, .len = len,
	};

	return ioctl(fd, DMA_BUF_IOCTL_SYNC_PARTIAL, &sync) ? -errno : 0;
}

FIXTURE(buf) {
	int heap, fd;
	size_t len;
};

FIXTURE_SETUP(buf)
{
	unsigned char *p;
	size_t i;

	ASSERT_EQ(0LL, rk_info_total()) TH_LOG("the heap is not empty at the start");
	self->heap = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->heap);
	self->len = NPAGES * RK_PAGE;
	self->fd = rk_alloc(self->heap, self->len);
	ASSERT_LE(0, self->fd);
	/* page n holds the byte n + 1 */
	p = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	for (i = 0; i < NPAGES; i++)
		memset(p + i * RK_PAGE, i + 1, RK_PAGE);
	munmap(p, self->len);
}

FIXTURE_TEARDOWN_PARENT(buf)
{
	rk_fixture_check(_metadata);
}

TEST_F_TIMEOUT(buf, mmap_whole_part_and_offset, RK_TIMEOUT)
{
	unsigned char *p;

	p = mmap(NULL, self->len, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_EQ(1, p[0]);
	EXPECT_EQ(NPAGES, p[self->len - 1]);
	munmap(p, self->len);

	/* the first two pages only */
	p = mmap(NULL, 2 * RK_PAGE, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_EQ(2, p[2 * RK_PAGE - 1]);
	munmap(p, 2 * RK_PAGE);

	/* three pages from page 3: must see pages 3, 4, 5 (bytes 4, 5, 6) */
	p = mmap(NULL, 3 * RK_PAGE, PROT_READ, MAP_SHARED, self->fd,
		 3 * RK_PAGE);
	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_EQ(4, p[0]);
	EXPECT_EQ(5, p[RK_PAGE]);
	EXPECT_EQ(6, p[3 * RK_PAGE - 1]);
	munmap(p, 3 * RK_PAGE);

	/* the last page through its offset */
	p = mmap(NULL, RK_PAGE, PROT_READ, MAP_SHARED, self->fd,
		 (NPAGES - 1) * RK_PAGE);
	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_EQ(NPAGES, p[0]);
	munmap(p, RK_PAGE);
}

TEST_F_TIMEOUT(buf, mmap_beyond_the_buffer_fails, RK_TIMEOUT)
{
	void *p;

	p = mmap(NULL, self->len + RK_PAGE, PROT_READ, MAP_SHARED, self->fd, 0);
	EXPECT_TRUE(p == MAP_FAILED);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 2 * RK_PAGE, PROT_READ, MAP_SHARED, self->fd,
		 (NPAGES - 1) * RK_PAGE);
	EXPECT_TRUE(p == MAP_FAILED);
	p = mmap(NULL, RK_PAGE, PROT_READ, MAP_SHARED, self->fd,
		 NPAGES * RK_PAGE);
	EXPECT_TRUE(p == MAP_FAILED);
}

/*
 * Private mappings are refused: writes would go to copies no device sees,
 * and /proc/PID/maps would show the physical address as the offset.
 */
TEST_F_TIMEOUT(buf, private_mapping_is_refused, RK_TIMEOUT)
{
	void *p;

	p = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		 self->fd, 0);
	EXPECT_TRUE(p == MAP_FAILED);
	EXPECT_EQ(EINVAL, errno);
	if (p != MAP_FAILED)
		munmap(p, self->len);
	p = mmap(NULL, RK_PAGE, PROT_READ, MAP_PRIVATE, self->fd, 0);
	EXPECT_TRUE(p == MAP_FAILED);
	if (p != MAP_FAILED)
		munmap(p, RK_PAGE);
}

/*
 * A buffer allocated read-only (fd_flags O_RDONLY, as mpp derives its
 * mapping from fcntl(F_GETFL)) maps MAP_SHARED with PROT_READ and shows
 * the buffer's bytes; the kernel clears VM_SHARED for such a mapping and
 * keeps VM_MAYSHARE. Writing through it is refused by the kernel (EACCES),
 * and a private mapping is still refused.
 */
TEST_F_TIMEOUT(buf, read_only_buffer_maps_shared_read_only, RK_TIMEOUT)
{
	unsigned char *p;
	int ro;

	ro = rk_alloc_req(self->heap, RK_DMA_HEAP_IOCTL_ALLOC, 2 * RK_PAGE,
			  O_RDONLY | O_CLOEXEC, 0);
	ASSERT_LE(0, ro);
	EXPECT_EQ(O_RDONLY, fcntl(ro, F_GETFL) & O_ACCMODE);
	p = mmap(NULL, 2 * RK_PAGE, PROT_READ, MAP_SHARED, ro, 0);
	ASSERT_TRUE(p != MAP_FAILED) TH_LOG("mmap(PROT_READ, MAP_SHARED): %s",
					    strerror(errno));
	EXPECT_EQ(0, p[0]);
	EXPECT_EQ(0, p[2 * RK_PAGE - 1]);
	munmap(p, 2 * RK_PAGE);

	p = mmap(NULL, RK_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
	EXPECT_TRUE(p == MAP_FAILED);
	EXPECT_EQ(EACCES, errno);
	p = mmap(NULL, RK_PAGE, PROT_READ, MAP_PRIVATE, ro, 0);
	EXPECT_TRUE(p == MAP_FAILED);
	EXPECT_EQ(EINVAL, errno);
	close(ro);

	/* the fixture's read-write buffer, mapped read-only, as before */
	p = mmap(NULL, RK_PAGE, PROT_READ, MAP_SHARED, self->fd, RK_PAGE);
	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_EQ(2, p[0]);
	munmap(p, RK_PAGE);
}

TEST_F_TIMEOUT(buf, share_with_another_process, RK_TIMEOUT)
{
	struct dma_buf_sync sync;
	unsigned char *p;
	int sv[2], status;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* the reader: its own fd, its own mapping */
		int fd = rk_recv_fd(sv[1]);
		unsigned char *q;

		if (fd < 0)
			_exit(2);
		q = mmap(NULL, RK_PAGE, PROT_READ, MAP_SHARED, fd, 0);
		if (q == MAP_FAILED)
			_exit(3);
		sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ;
		ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
		_exit(memcmp(q, "written by the parent", 22) ? 4 : 0);
	}
	p = mmap(NULL, RK_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE;
	ASSERT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &sync));
	memcpy(p, "written by the parent", 22);
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE;
	ASSERT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &sync));
	ASSERT_EQ(0, rk_send_fd(sv[0], self->fd));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child status (2 no fd, 3 mmap, 4 data)");
	munmap(p, RK_PAGE);
	close(sv[0]);
	close(sv[1]);
}

TEST_F_TIMEOUT(buf, sync_around_cpu_access, RK_TIMEOUT)
{
	struct dma_buf_sync sync = { 0 };
	unsigned char *p;

	p = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW;
	EXPECT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &sync));
	p[5] = 0x5a;
	EXPECT_EQ(1, p[0]);
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
	EXPECT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &sync));
	sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ;
	EXPECT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &sync));
	EXPECT_EQ(0x5a, p[5]);
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	EXPECT_EQ(0, ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &sync));
	/* flags the dma-buf core does not know */
	sync.flags = 0x100;
	EXPECT_EQ(-1, ioctl(self->fd, DMA_BUF_IOCTL_SYNC, &sync));
	EXPECT_EQ(EINVAL, errno);
	munmap(p, self->len);
}

TEST_F_TIMEOUT(buf, owner_is_thread_name_then_dmabuf_name, RK_TIMEOUT)
{
	struct rk_info info;
	int fd;

	ASSERT_EQ(0, prctl(PR_SET_NAME, "rk-owner-test"));
	fd = rk_alloc(self->heap, RK_PAGE);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rk_info_lookup(rk_ino(fd), &info));
	EXPECT_STREQ("rk-owner-test", info.owner);
	ASSERT_EQ(0, ioctl(fd, DMA_BUF_SET_NAME, "vmpi"));
	ASSERT_EQ(0, rk_info_lookup(rk_ino(fd), &info));
	EXPECT_STREQ("vmpi", info.owner);
	close(fd);
}

/*
 * DMA_BUF_IOCTL_SYNC_PARTIAL on a buffer the NPU has mapped: the syncs go
 * through the NPU's segments (64 KiB each by default), and the range
 * written here crosses the first boundary. On a kernel with DMA-API
 * debugging, a sync outside what the NPU mapped is a kernel report.
 */
#define PARTIAL_LEN	(256 * 1024UL)
#define PARTIAL_AT	(60 * 1024UL)
#define PARTIAL_BYTES	(8 * 1024UL)

RK_TEST(sync_partial_through_the_importers_segments)
{
	unsigned char *p, *q;
	int heap, fd, ret;

	heap = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, heap);
	fd = rk_alloc(heap, PARTIAL_LEN);
	ASSERT_LE(0, fd);
	ret = sync_partial(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE, 0,
			   RK_PAGE);
	if (ret == -ENOTTY) {
		close(fd);
		close(heap);
		SKIP(return, "this kernel has no DMA_BUF_IOCTL_SYNC_PARTIAL (not an Android-derived kernel)");
	}
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, sync_partial(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE, 0,
				  RK_PAGE));

	ASSERT_EQ(0, client(NPU, "import 0 %d", fd));
	ASSERT_EQ(0, client(NPU, "attach 0"));
	TH_LOG("the NPU maps the buffer in %llu segment(s)",
	       client_result(NPU, "nents"));
	p = mmap(NULL, PARTIAL_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	q = mmap(NULL, PARTIAL_LEN, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_TRUE(q != MAP_FAILED);

	ASSERT_EQ(0, sync_partial(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE,
				  PARTIAL_AT, PARTIAL_BYTES));
	memset(p + PARTIAL_AT, 0xa5, PARTIAL_BYTES);
	ASSERT_EQ(0, sync_partial(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE,
				  PARTIAL_AT, PARTIAL_BYTES));
	/* read back through the second mapping, a wider range synced */
	ASSERT_EQ(0, sync_partial(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ,
				  PARTIAL_AT - RK_PAGE,
				  PARTIAL_BYTES + 2 * RK_PAGE));
	EXPECT_EQ(0, q[PARTIAL_AT - 1]);
	EXPECT_EQ(0xa5, q[PARTIAL_AT]);
	EXPECT_EQ(0xa5, q[PARTIAL_AT + PARTIAL_BYTES - 1]);
	EXPECT_EQ(0, q[PARTIAL_AT + PARTIAL_BYTES]);
	ASSERT_EQ(0, sync_partial(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ,
				  PARTIAL_AT - RK_PAGE,
				  PARTIAL_BYTES + 2 * RK_PAGE));

	/* the last byte alone; an empty range does nothing */
	EXPECT_EQ(0, sync_partial(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW,
				  PARTIAL_LEN - 1, 1));
	EXPECT_EQ(0, sync_partial(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW,
				  PARTIAL_LEN - 1, 1));
	EXPECT_EQ(0, sync_partial(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW,
				  0, 0));
	/* past the end (also by wrapping around), unknown flags */
	EXPECT_EQ(-EINVAL, sync_partial(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW,
					PARTIAL_LEN, 1));
	EXPECT_EQ(-EINVAL, sync_partial(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW,
					1, PARTIAL_LEN));
	EXPECT_EQ(-EINVAL, sync_partial(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW,
					0xffffffffU, 2));
	EXPECT_EQ(-EINVAL, sync_partial(fd, 0x100, 0, RK_PAGE));

	munmap(q, PARTIAL_LEN);
	munmap(p, PARTIAL_LEN);
	EXPECT_EQ(0, client(NPU, "free 0"));
	close(fd);
	close(heap);
	/* nothing of it is left in the heap */
	EXPECT_EQ(0LL, rk_info_total());
}

TEST_HARNESS_MAIN
