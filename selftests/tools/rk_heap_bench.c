// SPDX-License-Identifier: GPL-2.0
/*
 * rk_heap_bench: rk-dma-heap-cma side by side with mainline's CMA heap and
 * system heap, and with rk-dma-heap-carveout ("carve": the same heap on a
 * carve-out region instead of a CMA one, where the boot has it), in one
 * boot. Every figure is a median (or a mean over a loop) of wall-clock
 * time in microseconds; "zero" is the floor any heap pays for a zeroed
 * buffer, a memset of a mapped buffer of the same size. "rk cold" and
 * "carve cold" empty the heaps' pools before each allocation: what an
 * allocation costs that the pool cannot serve.
 *
 * Prints one "RK-BENCH name heap size value" line per figure (the raw
 * figures, kept by scripts/bench.sh) and then the tables with the ratios.
 * Measures, prints; asserts nothing.
 *
 * Usage: rk_heap_bench [-q]   (-q: the quick set, for a smoke run)
 *        rk_heap_bench -a HEAP SIZE COUNT   (only COUNT alloc+free of SIZE
 *        bytes from HEAP, rk, cma, system or carve: something to profile)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "rk_test.h"

/* The same heap on a carve-out region (dts/qemu-virt-overlay-bench.dts). */
#define RK_CARVE_NODE	"/dev/rk_dma_heap/rk-dma-heap-carveout"

/* Only those before HEAP_SYSTEM have the churn figures. */
enum { HEAP_RK, HEAP_CMA, HEAP_SYSTEM, HEAP_CARVE, NR_HEAPS };

static const char *const heap_name[NR_HEAPS] = {
	"rk", "cma", "system", "carve",
};
static const char *const heap_node[NR_HEAPS][2] = {
	{ RK_HEAP_NODE, NULL },
	{ "/dev/dma_heap/linux,cma", "/dev/dma_heap/reserved" },
	{ "/dev/dma_heap/system", NULL },
	{ RK_CARVE_NODE, NULL },
};
static int heap_fd[NR_HEAPS] = { -1, -1, -1, -1 };

static const size_t sizes[] = {
	4 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 8 << 20,
};
#define NR_SIZES	(sizeof(sizes) / sizeof(sizes[0]))

static int reps = 31;		/* samples per median */
static int loop = 1000;		/* same-size reallocations */
static int many = 10000;	/* live buffers for the scale figures */

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static int heap_alloc(int heap, size_t len)
{
	return rk_alloc_cmd(heap_fd[heap], RK_DMA_HEAP_IOCTL_ALLOC, len,
			    O_RDWR | O_CLOEXEC);
}

static void report(const char *name, int heap, size_t len, double us)
{
	printf("RK-BENCH %s %s %zu %.1f\n", name,
	       heap < 0 ? "-" : heap_name[heap], len, us);
	fflush(stdout);
}

/*
 * Median time of an alloc+free of @len, or -1 if the heap cannot. @cold
 * (rk and carve): the heaps' pools are emptied before each (not timed), so
 * that every allocation takes new memory from the heap's region.
 */
static double alloc_free(int heap, size_t len, bool cold)
{
	double t[64], t0;
	int i, fd;

	for (i = -3; i < reps; i++) {
		if (cold)
			rk_pool_drain();
		t0 = now_us();
		fd = heap_alloc(heap, len);
		if (fd < 0)
			return -1;
		close(fd);
		if (i >= 0)
			t[i] = now_us() - t0;
	}
	return median(t, reps);
}

/*
 * The scale figures compare two states measured apart (empty heap and
 * 10,000 live buffers, without and with a reader): the best of 5 medians of
 * a 4 KiB alloc+free, as one median takes well under a millisecond, which
 * one hiccup of a busy host can cover whole.
 */
static double alloc_free_best(void)
{
	double best = -1, t;
	int i;

	for (i = 0; i < 5; i++) {
		t = alloc_free(HEAP_RK, RK_PAGE, false);
		if (best < 0 || t < best)
			best = t;
	}
	return best;
}

/*
 * Right after boot the guest is busy for a moment more, and QEMU translates
 * each code path the first time it runs: exercise every heap for three
 * seconds before anything is measured (the first figure came out up to 70
 * times too high without).
 */
static void settle(void)
{
	double end = now_us() + 3e6;
	unsigned int h;
	int fd;

	while (now_us() < end)
		for (h = 0; h < NR_HEAPS; h++) {
			fd = heap_fd[h] < 0 ? -1 : heap_alloc(h, RK_PAGE);
			if (fd >= 0)
				close(fd);
		}
}

/* Median time of zeroing a mapped buffer of @len. */
static double zero_floor(size_t len)
{
	double t[64], t0;
	void *p;
	int i, fd = heap_alloc(HEAP_RK, len);

	if (fd < 0)
		return -1;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return -1;
	}
	for (i = -3; i < reps; i++) {
		t0 = now_us();
		memset(p, 0, len);
		if (i >= 0)
			t[i] = now_us() - t0;
	}
	munmap(p, len);
	close(fd);
	return median(t, reps);
}

/* Mean time of @loop alloc+free of one size, back to back. */
static double same_size(int heap, size_t len)
{
	double t0 = now_us();
	int i, fd;

	for (i = 0; i < loop; i++) {
		fd = heap_alloc(heap, len);
		if (fd < 0)
			return -1;
		close(fd);
	}
	return (now_us() - t0) / loop;
}

/*
 * Time of reading the whole info node: the fastest of 9 reads. What is
 * compared is the cost of the dump at 1,000 and 10,000 buffers, and a
 * busy host preempts a read of 60 ms far more often than one of 6 ms: a
 * median would keep that in the long read only, and inflate the ratio.
 */
static double info_read(void)
{
	static char buf[1 << 16];
	double best = -1, t0, t;
	int i, fd;

	for (i = 0; i < 9; i++) {
		t0 = now_us();
		fd = open(RK_INFO_NODE, O_RDONLY);
		if (fd < 0)
			return -1;
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
		t = now_us() - t0;
		if (best < 0 || t < best)
			best = t;
	}
	return best;
}

/* Hold @n more 4 KiB buffers of the rk heap in @fds from @have on. */
static int hold(int *fds, int have, int n)
{
	for (; have < n; have++) {
		fds[have] = heap_alloc(HEAP_RK, RK_PAGE);
		if (fds[have] < 0)
			break;
	}
	return have;
}

static void release(int *fds, int n)
{
	while (n--)
		close(fds[n]);
}

/* Reads the info node until killed. */
static pid_t start_reader(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			info_read();
	}
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * The allocation set of the Rockchip guide's RV1106 dump (44 buffers,
 * 22,736 KiB: encoder, NPU and ISP), in the order of their addresses.
 */
static const unsigned int guide_kib[] = {
	100, 100, 432, 64, 64, 1024, 8, 8, 200, 4, 32, 4, 32, 808, 596, 60,
	60, 1800, 8, 232, 8, 232, 6308, 432, 20, 20, 20, 72, 72, 72, 1952,
	12, 68, 68, 4, 4, 5852, 452, 16, 16, 16, 16, 1352, 16,
};
#define NR_GUIDE	(sizeof(guide_kib) / sizeof(guide_kib[0]))

/* A figure of mainline's CMA area in the CMA debugfs, or ~0UL. */
static unsigned long cma_area_ulong(const char *file)
{
	static const char *const dirs[] = { "linux,cma", "reserved" };
	unsigned long v = ~0UL;
	char path[96];
	unsigned int i;

	for (i = 0; i < 2 && v == ~0UL; i++) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/cma/%s/%s",
			 dirs[i], file);
		v = rk_read_ulong(path);
	}
	return v;
}

/* The region's largest free block in KiB, where the kernel shows it. */
static long long largest_free_kib(int heap)
{
	struct rk_usage u;
	unsigned long v;

	if (heap == HEAP_RK)
		return rk_usage(&u) ? -1 : (long long)u.largest;
	v = cma_area_ulong("maxchunk");
	return v == ~0UL ? -1 : (long long)v * (RK_PAGE >> 10);
}

struct churn {
	double step_us;
	int failures, with_room;
	long long largest_kib;
};

/*
 * The guide's set allocated, then twice @loop steps that each free a
 * random buffer and allocate a random size of the set (fixed seed): the
 * mean step time, the failures, those while the free space would have
 * sufficed, and the largest free block at the end. Returns -1 if the set
 * itself does not fit.
 */
static int guide_churn(int heap, unsigned long long region, struct churn *c)
{
	int fds[NR_GUIDE], i, k, steps = loop * 2;
	unsigned long long live = 0;
	size_t lens[NR_GUIDE];
	uint32_t seed = 0x1106;
	double t0;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < (int)NR_GUIDE; i++) {
		lens[i] = guide_kib[i] << 10;
		fds[i] = heap_alloc(heap, lens[i]);
		if (fds[i] < 0) {
			release(fds, i);
			return -1;
		}
		live += lens[i];
	}
	t0 = now_us();
	for (k = 0; k < steps; k++) {
		i = rk_rand(&seed) % NR_GUIDE;
		if (fds[i] >= 0) {
			close(fds[i]);
			live -= lens[i];
		}
		lens[i] = guide_kib[rk_rand(&seed) % NR_GUIDE] << 10;
		fds[i] = heap_alloc(heap, lens[i]);
		if (fds[i] >= 0) {
			live += lens[i];
			continue;
		}
		c->failures++;
		if (region - live >= lens[i])
			c->with_room++;
	}
	c->step_us = (now_us() - t0) / steps;
	c->largest_kib = largest_free_kib(heap);
	for (i = 0; i < (int)NR_GUIDE; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	report("guide_step", heap, 0, c->step_us);
	report("guide_failures", heap, 0, c->failures);
	report("guide_failures_with_room", heap, 0, c->with_room);
	report("guide_largest_free_kib", heap, 0, c->largest_kib);
	return 0;
}

static unsigned long long region_bytes(int heap)
{
	struct rk_usage u;
	unsigned long v;

	if (heap == HEAP_RK)
		return rk_usage(&u) ? 0 : u.region << 10;
	v = cma_area_ulong("count");
	return v == ~0UL ? 0 : v * RK_PAGE;
}

static void print_ratio(const char *what, double a, double b)
{
	if (a > 0 && b > 0)
		printf("  %-44s %10.1f %10.1f %8.2f\n", what, a, b, a / b);
	else
		printf("  %-44s %10.1f %10.1f %8s\n", what, a, b, "-");
}

/* A ratio column: " %8.2f", or a dash where a figure is missing. */
static void print_quot(double a, double b)
{
	if (a > 0 && b > 0)
		printf(" %8.2f", a / b);
	else
		printf(" %8s", "-");
}

/* rk-dma-heap-carveout beside rk-dma-heap-cma, where the boot has it. */
static void print_carve(double af[][NR_SIZES], double cold[][NR_SIZES],
			double ss[][NR_SIZES])
{
	unsigned int s;

	if (heap_fd[HEAP_CARVE] < 0) {
		printf("\ncarve-out vs CMA region: %s is not in this boot\n",
		       RK_CARVE_NODE);
		return;
	}
	printf("\ncarve-out vs CMA region, alloc+free median us\n");
	printf("  %11s %10s %10s %10s %10s %8s %18s\n", "", "rk (CMA)",
	       "carve", "rk cold", "carve cold", "carve/rk",
	       "carve cold/rk cold");
	for (s = 0; s < NR_SIZES; s++) {
		printf("  %7zu KiB %10.1f %10.1f %10.1f %10.1f",
		       sizes[s] >> 10, af[HEAP_RK][s], af[HEAP_CARVE][s],
		       cold[HEAP_RK][s], cold[HEAP_CARVE][s]);
		print_quot(af[HEAP_CARVE][s], af[HEAP_RK][s]);
		printf("%10s", "");
		print_quot(cold[HEAP_CARVE][s], cold[HEAP_RK][s]);
		printf("\n");
	}
	printf("\ncarve-out vs CMA region, same size x%d, mean us\n", loop);
	printf("  %11s %10s %10s %8s\n", "", "rk (CMA)", "carve",
	       "carve/rk");
	for (s = 0; s < 4; s++) {
		printf("  %7zu KiB %10.1f %10.1f", sizes[s] >> 10,
		       ss[HEAP_RK][s], ss[HEAP_CARVE][s]);
		print_quot(ss[HEAP_CARVE][s], ss[HEAP_RK][s]);
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	struct rlimit rl = { 65536, 65536 };
	double af[NR_HEAPS][NR_SIZES], zf[NR_SIZES], ss[NR_HEAPS][NR_SIZES];
	double cold[NR_HEAPS][NR_SIZES];
	double idle, busy, loaded, info1k, info10k, reader;
	struct churn churn[HEAP_SYSTEM] = { { -1 }, { -1 } };
	int churned[HEAP_SYSTEM] = { -1, -1 };
	unsigned int h, s, j;
	int *fds, n;
	pid_t pid;

	if (argc == 5 && !strcmp(argv[1], "-a")) {
		for (h = 0; h < NR_HEAPS && strcmp(argv[2], heap_name[h]); h++)
			;
		for (j = 0; h < NR_HEAPS && j < 2 && heap_fd[h] < 0 && heap_node[h][j]; j++)
			heap_fd[h] = open(heap_node[h][j], O_RDWR | O_CLOEXEC);
		if (h == NR_HEAPS || heap_fd[h] < 0)
			return 2;
		for (n = atoi(argv[4]); n > 0; n--)
			close(heap_alloc(h, strtoul(argv[3], NULL, 0)));
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "-q")) {
		reps = 5;
		loop = 100;
		many = 1000;
	}
	for (h = 0; h < NR_HEAPS; h++)
		for (j = 0; j < 2 && heap_fd[h] < 0 && heap_node[h][j]; j++)
			heap_fd[h] = open(heap_node[h][j], O_RDWR | O_CLOEXEC);
	if (heap_fd[HEAP_RK] < 0) {
		perror(RK_HEAP_NODE);
		return 1;
	}
	setrlimit(RLIMIT_NOFILE, &rl);
	fds = calloc(many + 16, sizeof(*fds));
	if (!fds)
		return 1;

	settle();
	for (s = 0; s < NR_SIZES; s++) {
		for (h = 0; h < NR_HEAPS; h++) {
			af[h][s] = heap_fd[h] < 0 ? -1 : alloc_free(h, sizes[s], false);
			report("alloc_free", h, sizes[s], af[h][s]);
		}
		for (h = 0; h < NR_HEAPS; h++) {
			cold[h][s] = -1;
			if (h != HEAP_RK && h != HEAP_CARVE)
				continue;
			if (heap_fd[h] >= 0)
				cold[h][s] = alloc_free(h, sizes[s], true);
			report("alloc_free_cold", h, sizes[s], cold[h][s]);
		}
		zf[s] = zero_floor(sizes[s]);
		report("zero", -1, sizes[s], zf[s]);
	}
	for (s = 0; s < 4; s++)
		for (h = 0; h < NR_HEAPS; h++) {
			ss[h][s] = heap_fd[h] < 0 ? -1 : same_size(h, sizes[s]);
			report("same_size", h, sizes[s], ss[h][s]);
		}

	/* scale: the info node and allocations with many live buffers */
	idle = alloc_free_best();
	n = hold(fds, 0, many / 10);
	info1k = info_read();
	pid = start_reader();
	reader = alloc_free_best();
	stop(pid);
	n = hold(fds, n, many);
	info10k = info_read();
	busy = alloc_free_best();
	pid = start_reader();
	loaded = alloc_free_best();
	stop(pid);
	release(fds, n);
	report("alloc_free_empty", HEAP_RK, RK_PAGE, idle);
	report("info_read_few", HEAP_RK, many / 10, info1k);
	report("alloc_free_reader_few", HEAP_RK, many / 10, reader);
	report("info_read_many", HEAP_RK, n, info10k);
	report("alloc_free_live_many", HEAP_RK, n, busy);
	report("alloc_free_reader_many", HEAP_RK, n, loaded);

	for (h = 0; h < HEAP_SYSTEM; h++)
		if (heap_fd[h] >= 0)
			churned[h] = guide_churn(h, region_bytes(h), &churn[h]);

	printf("\nalloc+free, median us%*s%10s %10s %10s %10s %10s %8s %8s %8s\n",
	       1, "", "rk", "rk cold", "cma", "system", "zero", "rk/cma",
	       "cold/cma", "rk/zero");
	for (s = 0; s < NR_SIZES; s++)
		printf("  %7zu KiB%13s%10.1f %10.1f %10.1f %10.1f %10.1f %8.2f %8.2f %8.2f\n",
		       sizes[s] >> 10, "", af[HEAP_RK][s], cold[HEAP_RK][s],
		       af[HEAP_CMA][s], af[HEAP_SYSTEM][s], zf[s],
		       af[HEAP_CMA][s] > 0 ? af[HEAP_RK][s] / af[HEAP_CMA][s] : 0,
		       af[HEAP_CMA][s] > 0 ?
		       cold[HEAP_RK][s] / af[HEAP_CMA][s] : 0,
		       zf[s] > 0 ? af[HEAP_RK][s] / zf[s] : 0);
	printf("\nsame size x%d, mean us%*s%10s %10s %10s %8s\n", loop, 11, "",
	       "rk", "cma", "system", "rk/cma");
	for (s = 0; s < 4; s++)
		printf("  %7zu KiB%24s%10.1f %10.1f %10.1f %8.2f\n",
		       sizes[s] >> 10, "", ss[HEAP_RK][s], ss[HEAP_CMA][s],
		       ss[HEAP_SYSTEM][s],
		       ss[HEAP_CMA][s] > 0 ? ss[HEAP_RK][s] / ss[HEAP_CMA][s] : 0);
	printf("\nscale (rk, 4 KiB; %d and %d live buffers)%*s %10s %10s %8s\n",
	       many / 10, many, 4, "", "value", "base", "ratio");
	print_ratio("alloc+free, many live / empty (us)", busy, idle);
	print_ratio("alloc+free, reader, few live / idle (us)", reader, idle);
	print_ratio("alloc+free, reader, many live / idle (us)", loaded, busy);
	print_ratio("info read, many / few buffers (us)", info10k, info1k);

	printf("\nguide's RV1106 set, %d churn steps%*s%10s %10s\n", loop * 2,
	       14, "", "rk", "cma");
	for (h = 0; h < HEAP_SYSTEM; h++)
		if (churned[h])
			churn[h].step_us = -1;
	printf("  %-44s %10.1f %10.1f\n", "step (free + alloc), mean us",
	       churn[HEAP_RK].step_us, churn[HEAP_CMA].step_us);
	printf("  %-44s %10d %10d\n", "failed allocations",
	       churn[HEAP_RK].failures, churn[HEAP_CMA].failures);
	printf("  %-44s %10d %10d\n", "... with enough free space",
	       churn[HEAP_RK].with_room, churn[HEAP_CMA].with_room);
	printf("  %-44s %10lld %10lld\n", "largest free block at the end, KiB",
	       churn[HEAP_RK].largest_kib, churn[HEAP_CMA].largest_kib);
	print_carve(af, cold, ss);
	free(fds);
	return 0;
}
