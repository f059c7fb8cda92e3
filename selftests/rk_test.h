/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the rk_dma_heap selftests: allocation through
 * /dev/rk_dma_heap/rk-dma-heap-cma, the region and its use (from the
 * kernel's CMA debugfs where it has one, else from the module's own dmesg
 * line and nodes), the memory backend the module chose, and what the
 * /proc/rk_dma_heap nodes say of buffers and of the region.
 */
#ifndef RK_TEST_H
#define RK_TEST_H

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/rk-dma-heap.h>

#define RK_HEAP_NODE	"/dev/rk_dma_heap/rk-dma-heap-cma"
#define RK_INFO_NODE	"/proc/rk_dma_heap/rk-dma-heap-info"
#define RK_BITMAP_NODE	"/proc/rk_dma_heap/alloc_bitmap"
#define RK_USAGE_NODE	"/proc/rk_dma_heap/rk-dma-heap-usage"
#define RK_PAGE		4096UL

/*
 * Allocate with the given request code and flags; returns the dma-buf fd
 * or -errno.
 */
static inline int rk_alloc_req(int heap, unsigned long cmd, uint64_t len,
			       uint32_t fd_flags, uint64_t heap_flags)
{
	struct rk_dma_heap_allocation_data d = {
		.len = len, .fd_flags = fd_flags, .heap_flags = heap_flags,
	};

	if (ioctl(heap, cmd, &d) < 0)
		return -errno;
	return d.fd;
}

/* Allocate with the given request code; returns the dma-buf fd or -errno. */
static inline int rk_alloc_cmd(int heap, unsigned long cmd, uint64_t len,
			       uint32_t fd_flags)
{
	return rk_alloc_req(heap, cmd, len, fd_flags, 0);
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

/* Write @s to the file @path, opened with @oflags; returns 0 or -errno. */
static inline int rk_write_file(const char *path, const char *s, int oflags)
{
	int fd = open(path, oflags), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * The whole text of @path (NUL-terminated, its length in *@len if @len),
 * read 4 KiB at a time as cat and awk do; free() it. NULL if it cannot be
 * opened.
 */
static inline char *rk_read_text(const char *path, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	ssize_t r;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		free(buf);
		return NULL;
	}
	while ((r = read(fd, buf + n, 4096)) > 0) {
		n += r;
		if (cap - n < 4097)
			buf = realloc(buf, cap *= 2);
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* The bound of the heap's pool (module parameter), in KiB. */
#define RK_POOL_MAX	"/sys/module/rk_dma_heap/parameters/pool_max_kb"
#define RK_POOLS_KB	"/sys/kernel/rk_dma_heap/rk_total_pools_kb"

/* Set the pool's bound, module parameter pool_max_kb, to @kb KiB. */
static inline void rk_pool_max_set(unsigned long kb)
{
	char s[24];

	snprintf(s, sizeof(s), "%lu", kb);
	rk_write_file(RK_POOL_MAX, s, O_WRONLY);
}

/*
 * Have the heap give back the free memory it keeps for reuse: a bound of
 * 0 empties the pool at once, then the bound is restored.
 */
static inline void rk_pool_drain(void)
{
	unsigned long max = rk_read_ulong(RK_POOL_MAX);

	if (max == ~0UL)
		return;
	rk_pool_max_set(0);
	rk_pool_max_set(max);
}

/*
 * The region's directory in the CMA debugfs, or NULL where the kernel has
 * none (Debian's prebuilt kernels: CONFIG_CMA_DEBUGFS off). It is named
 * after the device-tree node, but 5.10 cuts "cma-" + name to 15 characters.
 */
static inline const char *rk_cma_debugfs(void)
{
	static const char *const dirs[] = {
		"/sys/kernel/debug/cma/rk-dma-heap-region",
		"/sys/kernel/debug/cma/cma-rk-dma-heap",
	};
	char path[96];
	unsigned int i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/count", dirs[i]);
		if (!access(path, R_OK))
			return dirs[i];
	}
	return NULL;
}

static inline unsigned long rk_cma_debugfs_ulong(const char *dir,
						 const char *file)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return rk_read_ulong(path);
}

enum rk_backend {
	RK_BACKEND_UNKNOWN,
	RK_BACKEND_CMA_ALLOC,		/* page-granular */
	RK_BACKEND_DMA_ALLOC_PAGES,	/* aligned to the order, up to 1 MiB */
	RK_BACKEND_CARVEOUT,		/* page-granular, never the system's */
};

struct rk_registration {
	uint64_t base, size;
	enum rk_backend backend;
};

/*
 * The module's registration line, the last one in the kernel log:
 * "rk-dma-heap-cma rk-dma-heap: heap rk-dma-heap-cma: 65536 KiB at
 * 0x5c000000, allocated with cma_alloc()" (or dma_alloc_pages(), or its
 * own page map (carve-out)). Returns 0 when found, -1 otherwise.
 */
static inline int rk_registration(struct rk_registration *reg)
{
	static const char key[] = "rk-dma-heap: heap rk-dma-heap-cma: ";
	unsigned long long kib, base;
	char line[512], how[64], *p;
	int found = -1;
	FILE *f = popen("dmesg", "r");

	memset(reg, 0, sizeof(*reg));
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, key);
		if (!p || sscanf(p + sizeof(key) - 1,
				 "%llu KiB at 0x%llx, allocated with %63[^\n]",
				 &kib, &base, how) != 3)
			continue;
		reg->size = kib << 10;
		reg->base = base;
		if (!strcmp(how, "cma_alloc()"))
			reg->backend = RK_BACKEND_CMA_ALLOC;
		else if (!strcmp(how, "dma_alloc_pages()"))
			reg->backend = RK_BACKEND_DMA_ALLOC_PAGES;
		else if (!strcmp(how, "its own page map (carve-out)"))
			reg->backend = RK_BACKEND_CARVEOUT;
		else
			reg->backend = RK_BACKEND_UNKNOWN;
		found = 0;
	}
	pclose(f);
	return found;
}

/* The memory backend the module registered the heap with. */
static inline enum rk_backend rk_backend(void)
{
	struct rk_registration reg;

	return rk_registration(&reg) ? RK_BACKEND_UNKNOWN : reg.backend;
}

/*
 * The reserved region: from the kernel's CMA debugfs, else from the
 * module's registration line. *size is 0 when neither is there.
 */
static inline void rk_region(uint64_t *base, uint64_t *size)
{
	const char *dir = rk_cma_debugfs();
	struct rk_registration reg;

	*base = 0;
	*size = 0;
	if (dir) {
		*base = (uint64_t)rk_cma_debugfs_ulong(dir, "base_pfn") * RK_PAGE;
		*size = (uint64_t)rk_cma_debugfs_ulong(dir, "count") * RK_PAGE;
	} else if (!rk_registration(&reg)) {
		*base = reg.base;
		*size = reg.size;
	}
}

#define RK_POOL_BITMAP_NODE	"/proc/rk_dma_heap/pool_bitmap"

/*
 * The words of a bitmap node's text @text (alloc_bitmap, pool_bitmap),
 * after its first blank line: up to @max of them, bit b of word w for page
 * w * 32 + b. Returns the number of words, or -1.
 */
static inline int rk_bitmap_parse(const char *text, uint32_t *words, int max)
{
	const char *p = text ? strstr(text, "\n\n") : NULL;
	char *end;
	int n = 0;

	for (p = p ? p + 2 : NULL; p && n < max; p = end) {
		unsigned long w = strtoul(p, &end, 16);

		if (end == p)
			break;
		words[n++] = w;
	}
	return n ? n : -1;
}

/* The same, read from the node @node. */
static inline int rk_bitmap_words(const char *node, uint32_t *words, int max)
{
	char *text = rk_read_text(node, NULL);
	int n = rk_bitmap_parse(text, words, max);

	free(text);
	return n;
}

/* The " Used: N KiB" line of the bitmap node (ours and others'), or -1. */
static inline long long rk_bitmap_used_kib(void)
{
	char line[128];
	long long used = -1, v;
	FILE *f = fopen(RK_BITMAP_NODE, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " Used: %lld KiB", &v) == 1) {
			used = v;
			break;
		}
	fclose(f);
	return used;
}

/*
 * Pages of the region that are taken, by the heap or by anyone else, once
 * the heap's pool is given back: what CMA counts as allocated, else what
 * the module's bitmap node counts. ~0UL when neither can be read.
 */
static inline unsigned long rk_cma_used_pages(void)
{
	const char *dir = rk_cma_debugfs();
	long long kib;

	rk_pool_drain();

	if (dir)
		return rk_cma_debugfs_ulong(dir, "used");	/* in pages */
	kib = rk_bitmap_used_kib();
	return kib < 0 ? ~0UL : (unsigned long)(kib * 1024 / RK_PAGE);
}

/* The region line of the usage node, in KiB. */
struct rk_usage {
	unsigned long long region, used, free, largest, outside;
	int outside_shown;	/* the ", held outside the heap" part is there */
};

/*
 * Parse the region line of heap @heap's section of the usage node
 * ("heap NAME", then its lines). Returns 0, or -1 if there is none.
 */
static inline int rk_usage_of(const char *heap, struct rk_usage *u)
{
	char line[256], want[96], *p;
	int found = -1, in = 0;
	FILE *f = fopen(RK_USAGE_NODE, "r");

	if (!f)
		return -1;
	memset(u, 0, sizeof(*u));
	snprintf(want, sizeof(want), "heap %s\n", heap);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "heap ", 5))
			in = !strcmp(line, want);
		if (!in ||
		    sscanf(line, "region %llu KiB, used %llu KiB, free %llu KiB, largest free block %llu KiB",
			   &u->region, &u->used, &u->free, &u->largest) != 4)
			continue;
		p = strstr(line, ", held outside the heap ");
		if (p) {
			u->outside_shown = 1;
			sscanf(p, ", held outside the heap %llu KiB",
			       &u->outside);
		}
		found = 0;
		break;
	}
	fclose(f);
	return found;
}

/* The same for rk-dma-heap-cma. */
static inline int rk_usage(struct rk_usage *u)
{
	return rk_usage_of("rk-dma-heap-cma", u);
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

/*
 * The "Total : 0x.. (N KiB)" figure of the info node, in bytes: each heap's
 * section ends with one, naming no heap, so with two heaps (the high-memory
 * boot) they are added up.
 */
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
			total = (total < 0 ? 0 : total) + v;
	fclose(f);
	return total;
}

/*
 * The test client's devices (rk_dma_heap_test_client.ko, loaded by
 * module.sh): vendor-driver-style users of the heap, driven by commands.
 */
/*
 * A buffer of @len bytes with @heap_flags, through a node of its own that
 * is closed again: the dma-buf fd, or -errno.
 */
static inline int rk_alloc_flags(uint64_t len, uint64_t heap_flags)
{
	int heap = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC), fd;

	if (heap < 0)
		return -errno;
	fd = rk_alloc_req(heap, RK_DMA_HEAP_IOCTL_ALLOC, len,
			  O_RDWR | O_CLOEXEC, heap_flags);
	close(heap);
	return fd;
}

/* The entries of directory @path, or -1. */
static inline int rk_dir_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The number of open fds of this process. */
static inline int rk_count_fds(void)
{
	return rk_dir_entries("/proc/self/fd") - 1;	/* the directory's own */
}

/* The number of bytes of @p that are not @byte. */
static inline size_t rk_not_byte(const unsigned char *p, size_t len, int byte)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += p[i] != byte;
	return n;
}

/* xorshift32: the same sequence for the same seed */
static inline uint32_t rk_rand(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

/* Pass @fd over the Unix socket @sock; 0 or -1. */
static inline int rk_send_fd(int sock, int fd)
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

/* An fd passed over the Unix socket @sock, or -1. */
static inline int rk_recv_fd(int sock)
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

#define CLIENT "/sys/kernel/debug/rk_dma_heap_test/"
#define NPU CLIENT "ff660000.npu"
#define VENC CLIENT "ffa50000.rkvenc"
#define ISP CLIENT "ffa00000.rkisp"

/* Send a command to a client device; returns 0 or -errno. */
static inline int client(const char *dev, const char *fmt, ...)
{
	char cmd[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return rk_write_file(dev, cmd, O_RDWR);
}

/* The client's answer to its last command, e.g. "ino 12". */
static inline unsigned long long client_result(const char *dev, const char *key)
{
	char buf[160], *p;
	int fd = open(dev, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strstr(buf, key);
	return p ? strtoull(p + strlen(key) + 1, NULL, 0) : 0;
}

/*
 * Whether a device with the default 32-bit DMA mask (the test client's,
 * vivid's) maps a buffer ending at physical address @end through swiotlb:
 * above 4 GiB (the high-memory boot) it does, and under swiotlb=force
 * every mapping does.
 */
static inline int rk_bounces_for_32bit(uint64_t end)
{
	char *cmdline = rk_read_text("/proc/cmdline", NULL);
	char *arg = cmdline ? strstr(cmdline, "swiotlb=") : NULL;
	int force = 0;

	/* swiotlb=[SLABS,]force */
	if (arg) {
		arg[strcspn(arg, " \n")] = '\0';
		force = strstr(arg, "force") != NULL;
	}
	free(cmdline);
	return force || end >= 1ULL << 32;
}

/*
 * Whether the kernel is a real-time one, as run-all.sh tells: mainline's
 * say PREEMPT_RT in their version, those of the RT patch set have
 * /sys/kernel/realtime.
 */
static inline int rk_preempt_rt(void)
{
	struct utsname u;
	char c = 0;
	FILE *f;

	if (!uname(&u) && strstr(u.version, "PREEMPT_RT"))
		return 1;
	f = fopen("/sys/kernel/realtime", "r");
	if (!f)
		return 0;
	if (fread(&c, 1, 1, f) != 1)
		c = 0;
	fclose(f);
	return c == '1';
}

#endif /* RK_TEST_H */
