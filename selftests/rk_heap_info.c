// SPDX-License-Identifier: GPL-2.0
/*
 * The /proc/rk_dma_heap and /sys/kernel/rk_dma_heap nodes: owners, physical
 * ranges, attached devices, contiguous pages, totals, the bitmap, the usage
 * summary, permissions, and a listing of 10,000 live buffers.
 * Driver-side allocations and attachments come from the test client
 * (rk_dma_heap_test_client.ko, loaded by module.sh).
 */
#include <pwd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <linux/dma-buf.h>
#include <xf86drm.h>
#include "kselftest_harness.h"
#include "rk_test.h"
#include "rk_fixture.h"
#include "rk_clean_probe.h"

/* Count "  Alloc by" lines and sum their sizes. */
static int sum_allocs(const char *text, unsigned long long *sum)
{
	const char *p = text;
	unsigned long long sz;
	int n = 0;

	*sum = 0;
	while ((p = strstr(p, "  Alloc by ("))) {
		const char *q = strstr(p, ") [0x");

		if (q && sscanf(strchr(q, ']') + 2, "0x%llx", &sz) == 1)
			*sum += sz;
		n++;
		p++;
	}
	return n;
}

RK_TEST(driver_and_user_owners_ranges_and_devices)
{
	unsigned long long ino, phys, sum, dma;
	uint64_t base, size;
	struct rk_info info;
	int heap, buf, drm;
	uint32_t handle;
	char *text, want[256];

	rk_region(&base, &size);
	ASSERT_LT(0ULL, size)
		TH_LOG("region unknown: no CMA debugfs and no registration line in dmesg");
	heap = open(RK_HEAP_NODE, O_RDWR);
	ASSERT_LE(0, heap);

	/* a driver allocation shows its name argument */
	ASSERT_EQ(0, client(NPU, "alloc 0 102400"));
	ino = client_result(NPU, "ino");
	ASSERT_NE(0ULL, ino);
	ASSERT_EQ(0, rk_info_lookup(ino, &info));
	EXPECT_STREQ("ff660000.npu", info.owner);
	EXPECT_EQ(102400ULL, info.size);
	EXPECT_LE(base, info.start);
	EXPECT_GE(base + size - 1, info.end);
	ASSERT_EQ(0, client(ISP, "alloc 0 8192 rkisp-vir0"));
	ASSERT_EQ(0, rk_info_lookup(client_result(ISP, "ino"), &info));
	EXPECT_STREQ("rkisp-vir0", info.owner);

	/*
	 * the physical range is the buffer's: the client sees the same,
	 * unless its mapping bounces (its devices keep the default 32-bit
	 * DMA mask); then it sees a slot of swiotlb that it can reach
	 */
	ASSERT_EQ(0, client(NPU, "attach 0"));
	ASSERT_EQ(0, rk_info_lookup(ino, &info));
	dma = client_result(NPU, "dma");
	if (rk_bounces_for_32bit(info.end)) {
		EXPECT_NE(0ULL, dma);
		EXPECT_NE(info.start, dma);
		EXPECT_GT(1ULL << 32, dma)
			TH_LOG("slot at 0x%llx, beyond the client's 32-bit mask", dma);
	} else {
		EXPECT_EQ(info.start, dma);
	}
	EXPECT_EQ(1, info.ndev);
	EXPECT_STREQ("ff660000.npu", info.devs[0]);

	/* a user buffer attached by vgem, twice by rkvenc and by rkisp */
	buf = rk_alloc(heap, 1 << 20);
	ASSERT_LE(0, buf);
	ASSERT_EQ(0, system("modprobe vgem"));
	drm = open("/dev/dri/card0", O_RDWR);
	ASSERT_LE(0, drm);
	ASSERT_EQ(0, drmPrimeFDToHandle(drm, buf, &handle));
	ASSERT_EQ(0, client(VENC, "import 1 %d", buf));
	ASSERT_EQ(0, client(VENC, "attach 1"));
	ASSERT_EQ(0, client(VENC, "attach 1"));
	ASSERT_EQ(0, client(ISP, "import 1 %d", buf));
	ASSERT_EQ(0, client(ISP, "attach 1"));
	ASSERT_EQ(0, rk_info_lookup(rk_ino(buf), &info));
	EXPECT_EQ(4, info.ndev);
	EXPECT_EQ(4, info.total_line);
	EXPECT_STREQ("vgem", info.devs[0]);
	EXPECT_STREQ("ffa50000.rkvenc", info.devs[1]);
	EXPECT_STREQ("ffa50000.rkvenc", info.devs[2]);
	EXPECT_STREQ("ffa00000.rkisp", info.devs[3]);

	/* detaching shrinks the list */
	ASSERT_EQ(0, client(VENC, "detach 1"));
	ASSERT_EQ(0, drmCloseBufferHandle(drm, handle));
	ASSERT_EQ(0, rk_info_lookup(rk_ino(buf), &info));
	EXPECT_EQ(2, info.ndev);
	EXPECT_EQ(2, info.total_line);
	EXPECT_STREQ("ffa50000.rkvenc", info.devs[0]);
	EXPECT_STREQ("ffa00000.rkisp", info.devs[1]);

	/* contiguous pages: a "-non dmabuf" block with the pages' range */
	ASSERT_EQ(0, client(ISP, "contig 2 69632"));
	phys = client_result(ISP, "phys");
	text = rk_read_text(RK_INFO_NODE, NULL);
	ASSERT_TRUE(text != NULL);
	snprintf(want, sizeof(want),
		 "dma-heap:<rk-dma-heap-cma> -non dmabuf\n"
		 "  Alloc by (ffa00000.rkisp      ) [0x%08llx-0x%08llx] 0x00011000 (68 KiB)\n",
		 phys, phys + 69632 - 1);
	EXPECT_TRUE(strstr(text, want) != NULL) TH_LOG("no block:\n%s\nin:\n%s", want, text);

	/* Total is the sum of the Alloc lines; one Alloc line per allocation */
	EXPECT_EQ(4, sum_allocs(text, &sum));
	EXPECT_EQ((long long)sum, rk_info_total());
	EXPECT_EQ(102400ULL + 8192 + (1 << 20) + 69632, sum);
	free(text);

	/* dma_heap_info (the BSP code's name) has the same content */
	text = rk_read_text("/proc/rk_dma_heap/dma_heap_info", NULL);
	ASSERT_TRUE(text != NULL);
	EXPECT_EQ(4, sum_allocs(text, &sum));
	free(text);

	/* the usage node: largest owner first, free space */
	text = rk_read_text("/proc/rk_dma_heap/rk-dma-heap-usage", NULL);
	ASSERT_TRUE(text != NULL);
	/* user-space owners with their pid; names drivers gave without */
	snprintf(want, sizeof(want), "%-20s %7d %8d %10d\n%-20s %7s %8d %10d\n"
		 "%-20s %7s %8d %10d\n%-20s %7s %8d %10d\n",
		 "rk_heap_info", getpid(), 1, 1024, "ff660000.npu", "-", 1, 100,
		 "ffa00000.rkisp", "-", 1, 68, "rkisp-vir0", "-", 1, 8);
	EXPECT_TRUE(strstr(text, want) != NULL) TH_LOG("usage:\n%s", text);
	snprintf(want, sizeof(want), "used %llu KiB, free %llu KiB, largest free block ",
		 sum >> 10, (size - sum) >> 10);
	EXPECT_TRUE(strstr(text, want) != NULL) TH_LOG("usage:\n%s", text);
	/* nobody else allocates from the region here: nothing held outside */
	EXPECT_TRUE(strstr(text, "held outside") == NULL) TH_LOG("usage:\n%s", text);
	free(text);

	/* freeing everything: Total 0, Used 0 */
	ASSERT_EQ(0, client(NPU, "free 0"));
	ASSERT_EQ(0, client(ISP, "free 0"));
	ASSERT_EQ(0, client(ISP, "free 1"));
	ASSERT_EQ(0, client(ISP, "free 2"));
	ASSERT_EQ(0, client(VENC, "free 1"));
	close(buf);
	close(drm);
	close(heap);
	EXPECT_EQ(0LL, rk_info_total());
	text = rk_read_text("/proc/rk_dma_heap/alloc_bitmap", NULL);
	ASSERT_TRUE(text != NULL);
	snprintf(want, sizeof(want), "Total: %llu KiB\n Used: 0 KiB\n\n",
		 (unsigned long long)size >> 10);
	EXPECT_EQ(0, strncmp(text, want, strlen(want))) TH_LOG("%s", text);
	free(text);
}

RK_TEST(bufferfd_alloc_and_vmap_from_a_driver)
{
	struct rk_info info;
	unsigned char *p;
	int fd;

	/* rk_dma_heap_bufferfd_alloc() installs the fd in the calling process */
	ASSERT_EQ(0, client(VENC, "allocfd 3 8192"));
	fd = client_result(VENC, "fd");
	ASSERT_LT(2, fd);
	EXPECT_EQ(O_RDWR, fcntl(fd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(0, rk_info_lookup(rk_ino(fd), &info));
	EXPECT_EQ(8192ULL, info.size);
	EXPECT_STREQ("rk_heap_info", info.owner);

	/* the kernel mapping (dma_buf_vmap) sees what user space wrote */
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	memset(p, 2, 8192);
	munmap(p, 8192);
	ASSERT_EQ(0, client(VENC, "import 3 %d", fd));
	ASSERT_EQ(0, client(VENC, "vmap 3"));
	EXPECT_EQ(2ULL * 8192, client_result(VENC, "sum"));
	/* mapping again after the unmap works: the count went back to 0 */
	ASSERT_EQ(0, client(VENC, "vmap 3"));
	EXPECT_EQ(2ULL * 8192, client_result(VENC, "sum"));
	ASSERT_EQ(0, client(VENC, "free 3"));
	close(fd);
	EXPECT_EQ(0LL, rk_info_total());
}

RK_TEST(bitmap_shows_allocated_pages)
{
	int heap = open(RK_HEAP_NODE, O_RDWR), buf, n, i, bits = 0;
	uint64_t base, size, page;
	static uint32_t w[16384];
	struct rk_info a;
	char *text;

	ASSERT_LE(0, heap);
	rk_region(&base, &size);
	ASSERT_LT(0ULL, size) TH_LOG("region unknown");
	/* the region is empty: exactly the buffer's five pages are set */
	buf = rk_alloc(heap, 5 * RK_PAGE);
	ASSERT_LE(0, buf);
	ASSERT_EQ(0, rk_info_lookup(rk_ino(buf), &a));
	page = (a.start - base) / RK_PAGE;
	text = rk_read_text(RK_BITMAP_NODE, NULL);
	ASSERT_TRUE(text != NULL);
	EXPECT_TRUE(strstr(text, " Used: 20 KiB\n\n") != NULL);
	n = rk_bitmap_parse(text, w, 16384);
	ASSERT_EQ((int)(size / RK_PAGE / 32), n);
	for (i = 0; i < n; i++)
		bits += __builtin_popcount(w[i]);
	EXPECT_EQ(5, bits);
	for (i = 0; i < 5; i++)
		EXPECT_TRUE(w[(page + i) / 32] & (1U << ((page + i) % 32)))
			TH_LOG("page %llu of the buffer not set",
			       (unsigned long long)page + i);
	free(text);
	close(buf);
	close(heap);
}

RK_TEST(unprivileged_reader_gets_eacces)
{
	static const char *const secret[] = {
		RK_INFO_NODE, "/proc/rk_dma_heap/dma_heap_info",
		"/proc/rk_dma_heap/alloc_bitmap",
	};
	int status, i;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(10);
		for (i = 0; i < 3; i++) {
			int fd = open(secret[i], O_RDONLY);

			if (fd >= 0 || errno != EACCES)
				_exit(1 + i);
		}
		/* the usage node has no addresses: anyone may read it */
		if (open("/proc/rk_dma_heap/rk-dma-heap-usage", O_RDONLY) < 0)
			_exit(errno == EACCES ? 5 : 7);
		if (open(RK_HEAP_NODE, O_RDWR) >= 0 || errno != EACCES)
			_exit(6);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("1-3: a node with addresses opened; 5/7: usage node (EACCES/other); 6: device node");
}

/*
 * The usage node for a user without CAP_SYS_ADMIN: the region's totals and
 * the rows of its own processes; other users' buffers only as one sum.
 */
RK_TEST(usage_node_hides_other_users_rows)
{
	int heap, mine, status;
	char *text;
	pid_t pid;

	heap = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, heap);
	mine = rk_alloc(heap, 3 * RK_PAGE);
	ASSERT_LE(0, mine);
	ASSERT_EQ(0, ioctl(mine, DMA_BUF_SET_NAME, "root-secret"));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		/* the heap fd was opened by root; the buffer is nobody's */
		if (setgid(65534) || setuid(65534))
			_exit(10);
		fd = rk_alloc(heap, 5 * RK_PAGE);
		if (fd < 0 || ioctl(fd, DMA_BUF_SET_NAME, "nobody-buf"))
			_exit(11);
		text = rk_read_text("/proc/rk_dma_heap/rk-dma-heap-usage", NULL);
		if (!text)
			_exit(12);
		if (strstr(text, "root-secret"))
			_exit(1);
		if (!strstr(text, "\nnobody-buf "))
			_exit(2);
		if (!strstr(text, "\n(other users)              -        1         12\n"))
			_exit(3);
		if (!strstr(text, "\nregion "))
			_exit(4);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("1: root's row shown; 2: own row missing; 3: no sum of the others; 4: no totals");

	/* root sees every row */
	text = rk_read_text("/proc/rk_dma_heap/rk-dma-heap-usage", NULL);
	ASSERT_TRUE(text != NULL);
	EXPECT_TRUE(strstr(text, "\nroot-secret ") != NULL) TH_LOG("usage:\n%s", text);
	EXPECT_TRUE(strstr(text, "(other users)") == NULL) TH_LOG("usage:\n%s", text);
	free(text);
	close(mine);
	close(heap);
	EXPECT_EQ(0LL, rk_info_total());
}

/* Walks of the heap's region (kprobe on rk_cma_region_walk) while @fn runs. */
static int count_walks(const char *tracing, void (*fn)(void))
{
	char path[128], *text, *p;
	int n = 0;

	if (trace_write(tracing, "trace", "", O_TRUNC) ||
	    trace_write(tracing, "events/kprobes/rkwalk/enable", "1", 0))
		return -1;
	fn();
	trace_write(tracing, "events/kprobes/rkwalk/enable", "0", 0);
	snprintf(path, sizeof(path), "%s/trace", tracing);
	text = rk_read_text(path, NULL);
	for (p = text; p && (p = strstr(p, "rkwalk:")); p++)
		n++;
	free(text);
	return n;
}

/* 20 reads of the usage node by a user without CAP_SYS_ADMIN */
static void read_usage_as_nobody(void)
{
	int i, status;
	pid_t pid = fork();

	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(1);
		for (i = 0; i < 20; i++)
			free(rk_read_text(RK_USAGE_NODE, NULL));
		_exit(0);
	}
	waitpid(pid, &status, 0);
}

static void read_usage_three_times(void)
{
	int i;

	for (i = 0; i < 3; i++)
		free(rk_read_text(RK_USAGE_NODE, NULL));
}

/*
 * Anyone may read the usage node, and its free-space figures come from a
 * walk of every page of the region, under the heap's lock: what a reader
 * without CAP_SYS_ADMIN asks costs a walk only after the heap changed.
 * Root's reads are fresh each time.
 */
/* Heaps with a region: the usage node's region lines. */
static int usage_regions(void)
{
	char *text = rk_read_text(RK_USAGE_NODE, NULL), *p;
	int n = 0;

	for (p = text; p && (p = strstr(p, "\nregion ")); p++)
		n++;
	free(text);
	return n;
}

RK_TEST(unprivileged_usage_reads_walk_the_region_once)
{
	const char *tracing = tracefs();
	int heap, fd, walks, regions = usage_regions();

	if (!tracing)
		SKIP(return, "kernel without kprobe events (CONFIG_KPROBE_EVENTS)");
	ASSERT_EQ(0, trace_write(tracing, "kprobe_events",
				 "p:rkwalk rk_dma_heap:rk_cma_region_walk\n",
				 O_APPEND)) TH_LOG("no walk function to probe");
	heap = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, heap);
	fd = rk_alloc(heap, 64 << 10);
	ASSERT_LE(0, fd);

	/* each heap's region (two in the high-memory boot) at most once */
	walks = count_walks(tracing, read_usage_as_nobody);
	EXPECT_LE(0, walks);
	EXPECT_GE(regions, walks) TH_LOG("20 unprivileged reads walked the regions %d times", walks);
	walks = count_walks(tracing, read_usage_three_times);
	EXPECT_EQ(3 * regions, walks);
	/* a change of the heap: the next unprivileged read walks again */
	close(fd);
	walks = count_walks(tracing, read_usage_as_nobody);
	EXPECT_EQ(1, walks);

	trace_write(tracing, "kprobe_events", "-:rkwalk\n", O_APPEND);
	close(heap);
}

RK_TEST(enomem_says_why_in_dmesg)
{
	int heap = open(RK_HEAP_NODE, O_RDWR), fds[80], n = 0, i;
	uint64_t base, size;
	char cmd[200];

	ASSERT_LE(0, heap);
	rk_region(&base, &size);
	while (n < 80 && (fds[n] = rk_alloc(heap, 1 << 20)) >= 0)
		n++;
	ASSERT_EQ(-ENOMEM, fds[n]);
	/* nothing held outside the heap: the line ends there */
	snprintf(cmd, sizeof(cmd),
		 "dmesg | tail -n 5 | grep -q 'rk_dma_heap: rk-dma-heap-cma: cannot allocate 1024 KiB for rk_heap_info: 0 KiB free, largest free block 0 KiB$'");
	EXPECT_EQ(0, system(cmd));
	for (i = 0; i < n; i++)
		close(fds[i]);
	close(heap);
}

static int cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/*
 * 10,000 allocations take a minute or more in an emulated guest (each goes
 * through CMA), far longer under KASAN or beside a busy host: a wide
 * timeout of its own instead of the harness's 30 s. The slowest guest,
 * the PREEMPT_RT KASAN kernel with every trace event on, took 587 s on a
 * host at load 8 (2026-12-07).
 */
FIXTURE(many) {
};

FIXTURE_SETUP(many)
{
	ASSERT_EQ(0LL, rk_info_total()) TH_LOG("the heap is not empty at the start");
}

FIXTURE_TEARDOWN_PARENT(many)
{
	rk_fixture_check(_metadata);
}

TEST_F_TIMEOUT(many, ten_thousand_buffers_list_completely, 1800)
{
	struct rlimit rl = { 12000, 12000 };
	int heap, i, n = 10000, *fds, found = 0, listed = 0;
	unsigned long long sum;
	unsigned long *inos;
	char *text, *p, want[80];
	size_t len;

	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	heap = open(RK_HEAP_NODE, O_RDWR);
	ASSERT_LE(0, heap);
	fds = calloc(n, sizeof(*fds));
	for (i = 0; i < n; i++) {
		fds[i] = rk_alloc(heap, RK_PAGE);
		ASSERT_LE(0, fds[i]) TH_LOG("buffer %d: %s", i, strerror(-fds[i]));
	}
	text = rk_read_text(RK_INFO_NODE, &len);
	ASSERT_TRUE(text != NULL);
	EXPECT_EQ(n, sum_allocs(text, &sum));
	EXPECT_EQ((unsigned long long)n * RK_PAGE, sum);
	/* every buffer's inode is listed exactly once */
	inos = calloc(n, sizeof(*inos));
	for (p = text; (p = strstr(p, "-dmabuf i_ino = ")); p++)
		if (listed < n)
			inos[listed++] = strtoul(p + 16, NULL, 10);
	EXPECT_EQ(n, listed);
	qsort(inos, listed, sizeof(*inos), cmp_ulong);
	for (i = 0; i < n; i++) {
		unsigned long ino = rk_ino(fds[i]);

		found += bsearch(&ino, inos, listed, sizeof(*inos),
				 cmp_ulong) != NULL;
	}
	EXPECT_EQ(n, found);
	free(inos);
	snprintf(want, sizeof(want), "\nTotal : 0x%x (%d KiB)\n",
		 n * 4096, n * 4);
	/*
	 * complete: the heap's Total line is there, and the node ends with
	 * a Total line (its own, or that of a heap listed after it)
	 */
	p = strstr(text, want);
	EXPECT_TRUE(p != NULL);
	EXPECT_TRUE(p && !strstr(p, "dma-heap:<rk-dma-heap-cma> "))
		TH_LOG("buffers listed after the heap's Total line");
	p = text + len - 1;
	while (p > text && p[-1] != '\n')
		p--;
	EXPECT_TRUE(!strncmp(p, "Total : 0x", 10) && text[len - 1] == '\n')
		TH_LOG("node does not end with a Total line");
	free(text);
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	close(heap);
	EXPECT_EQ(0LL, rk_info_total());
}

TEST_HARNESS_MAIN
