/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the rk_dma_heap selftests: allocation through
 * /dev/rk_dma_heap/rk-dma-heap-cma, the region's CMA counters from
 * debugfs, and what /proc/rk_dma_heap/rk-dma-heap-info says of a buffer.
 */
#ifndef RK_TEST_H
#define RK_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/rk-dma-heap.h>

#define RK_HEAP_NODE	"/dev/rk_dma_heap/rk-dma-heap-cma"
#define RK_INFO_NODE	"/proc/rk_dma_heap/rk-dma-heap-info"
#define RK_CMA_DEBUGFS	"/sys/kernel/debug/cma/rk-dma-heap-cma/"
#define RK_PAGE		4096UL

/* Allocate with the given request code; returns the dma-buf fd or -errno. */
static inline int rk_alloc_cmd(int heap, unsigned long cmd, uint64_t len,
			       uint32_t fd_flags)
{
	struct rk_dma_heap_allocation_data d = {
		.len = len, .fd_flags = fd_flags,
	};

	if (ioctl(heap, cmd, &d) < 0)
		return -errno;
	return d.fd;
}

static inline int rk_alloc(int heap, uint64_t len)
{
	return rk_alloc_cmd(heap, RK_DMA_HEAP_IOCTL_ALLOC, len,
			    O_RDWR | O_CLOEXEC);
}

static inline unsigned long rk_read_ulong(const char *path)
{
	unsigned long v = ~0UL;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = ~0UL;
		fclose(f);
	}
	return v;
}

/* The reserved region as the kernel's CMA debugfs shows it. */
static inline void rk_region(uint64_t *base, uint64_t *size)
{
	*base = (uint64_t)rk_read_ulong(RK_CMA_DEBUGFS "base_pfn") * RK_PAGE;
	*size = (uint64_t)rk_read_ulong(RK_CMA_DEBUGFS "count") * RK_PAGE;
}

/* Pages of the region CMA counts as allocated. */
static inline unsigned long rk_cma_used_pages(void)
{
	/* "used" is in pages */
	return rk_read_ulong(RK_CMA_DEBUGFS "used");
}

struct rk_info {
	uint64_t start, end, size;
	char owner[64];
	int ndev;		/* devices listed under "Attached Devices:" */
	int total_line;		/* the "Total N devices attached" figure */
	char devs[8][64];
};

/*
 * Find the block of the dma-buf whose inode is @ino in the info node.
 * Returns 0 when found, -1 otherwise.
 */
static inline int rk_info_lookup(unsigned long ino, struct rk_info *info)
{
	char line[256], want[96], owner[64];
	int found = 0, in_devs = 0;
	unsigned long long s, e, sz;
	FILE *f = fopen(RK_INFO_NODE, "r");

	if (!f)
		return -1;
	memset(info, 0, sizeof(*info));
	snprintf(want, sizeof(want),
		 "dma-heap:<rk-dma-heap-cma> -dmabuf i_ino = %lu\n", ino);
	while (fgets(line, sizeof(line), f)) {
		if (!found) {
			found = !strcmp(line, want);
			continue;
		}
		if (sscanf(line, "  Alloc by (%63[^)]) [0x%llx-0x%llx] 0x%llx",
			   owner, &s, &e, &sz) == 4) {
			char *p = owner + strlen(owner);

			while (p > owner && p[-1] == ' ')
				*--p = '\0';
			strcpy(info->owner, owner);
			info->start = s;
			info->end = e;
			info->size = sz;
		} else if (!strcmp(line, "  Attached Devices:\n")) {
			in_devs = 1;
		} else if (sscanf(line, "Total %d devices attached",
				  &info->total_line) == 1) {
			break;
		} else if (in_devs && !strncmp(line, "    ", 4)) {
			if (info->ndev < 8)
				sscanf(line + 4, "%63s", info->devs[info->ndev]);
			info->ndev++;
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

static inline unsigned long rk_ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/* The "Total : 0x.. (N KiB)" figure of the info node, in bytes. */
static inline long long rk_info_total(void)
{
	char line[256];
	long long total = -1;
	unsigned long long v;
	FILE *f = fopen(RK_INFO_NODE, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Total : 0x%llx", &v) == 1)
			total = v;
	fclose(f);
	return total;
}

#endif /* RK_TEST_H */
