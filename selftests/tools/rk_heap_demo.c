// SPDX-License-Identifier: GPL-2.0
/*
 * rk_heap_demo: allocate a few buffers from /dev/rk_dma_heap/rk-dma-heap-cma
 * as Rockchip programs do, run a command while they are held (default: show
 * the info node), then free them. With -m, only mappings hold the buffers
 * while the command runs: every fd is closed first. An empty COMMAND runs
 * nothing.
 * Usage: rk_heap_demo [-m] [-c COMMAND] SIZE_KIB[:NAME]...
 */
#include <sys/mman.h>
#include <linux/dma-buf.h>
#include "../rk_test.h"

int main(int argc, char **argv)
{
	const char *cmd = "cat " RK_INFO_NODE;
	int heap, fds[32], n = 0, i, maps_only = 0;
	void *maps[32];
	size_t lens[32];

	if (argc > 1 && !strcmp(argv[1], "-m")) {
		maps_only = 1;
		argv++;
		argc--;
	}
	if (argc > 2 && !strcmp(argv[1], "-c")) {
		cmd = argv[2];
		argv += 2;
		argc -= 2;
	}
	heap = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC);
	if (heap < 0) {
		perror(RK_HEAP_NODE);
		return 1;
	}
	for (i = 1; i < argc && n < 32; i++) {
		unsigned long kib = strtoul(argv[i], NULL, 0);
		char *name = strchr(argv[i], ':');
		struct dma_buf_sync sync;
		void *p;
		int fd;

		fd = rk_alloc(heap, kib << 10);
		if (fd < 0) {
			printf("alloc %lu KiB: %s\n", kib, strerror(-fd));
			continue;
		}
		if (name)
			ioctl(fd, DMA_BUF_SET_NAME, name + 1);
		p = mmap(NULL, kib << 10, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, 0);
		if (p != MAP_FAILED) {
			sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE;
			ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
			memset(p, 0x5a, kib << 10);
			sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE;
			ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
		}
		maps[n] = p;
		lens[n] = kib << 10;
		printf("allocated %lu KiB as fd %d (inode %lu)%s%s\n", kib, fd,
		       rk_ino(fd), name ? ", named " : "", name ? name + 1 : "");
		fds[n++] = fd;
	}
	fflush(stdout);
	if (maps_only) {
		for (i = 0; i < n; i++)
			close(fds[i]);
		close(heap);
	}
	if (cmd[0] && system(cmd) != 0)
		printf("'%s' failed\n", cmd);
	for (i = 0; i < n; i++) {
		if (maps[i] != MAP_FAILED)
			munmap(maps[i], lens[i]);
		if (!maps_only)
			close(fds[i]);
	}
	printf("freed %d buffers\n", n);
	if (!maps_only)
		close(heap);
	return 0;
}
