// SPDX-License-Identifier: GPL-2.0
/*
 * CPU access to rk-dma-heap-cma buffers: mmap (whole, part, page offset,
 * out of bounds), sharing the fd with another process over a Unix socket,
 * DMA_BUF_IOCTL_SYNC, and the owner name in the info node.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/dma-buf.h>
#include "kselftest_harness.h"
#include "rk_test.h"

#define NPAGES 8

FIXTURE(buf) {
	int heap, fd;
	size_t len;
};

FIXTURE_SETUP(buf)
{
	unsigned char *p;
	size_t i;

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

FIXTURE_TEARDOWN(buf)
{
	close(self->fd);
	close(self->heap);
}

TEST_F(buf, mmap_whole_part_and_offset)
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

TEST_F(buf, mmap_beyond_the_buffer_fails)
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

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c = 'x';
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

TEST_F(buf, share_with_another_process)
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
		int fd = recv_fd(sv[1]);
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
	ASSERT_EQ(0, send_fd(sv[0], self->fd));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child status (2 no fd, 3 mmap, 4 data)");
	munmap(p, RK_PAGE);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(buf, sync_around_cpu_access)
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

TEST_F(buf, owner_is_thread_name_then_dmabuf_name)
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

TEST_HARNESS_MAIN
