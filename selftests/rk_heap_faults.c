// SPDX-License-Identifier: GPL-2.0
/*
 * Every memory allocation behind the heap's operations, failed one at a
 * time. The kernel's fault injection fails the Nth slab or page allocation
 * of the calling thread (/proc/thread-self/fail-nth, with failslab and
 * fail_page_alloc); from 6.12 on it counts only allocations made while the
 * module's code is on the stack. For each operation N counts up from 1
 * until the operation gets through without a failure. Every failure must
 * come back to the caller as ENOMEM and leave nothing behind: no buffer,
 * no page of the region, no fd. An operation that absorbs a failure (the
 * kernel has a fallback) must still work.
 *
 * Needs CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC and
 * FAULT_INJECTION_DEBUG_FS (the debug test kernels have them; Debian's
 * kernels do not, and the test is skipped there).
 */
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "rk_test.h"
#include "rk_fixture.h"

#define FAILSLAB	"/sys/kernel/debug/failslab/"
#define FAIL_PAGE	"/sys/kernel/debug/fail_page_alloc/"
#define MAX_NTH		5000
#define NR_OPS		7

/* The fault-injection settings the test changes, and their values for it. */
static const char *const fi_settings[][2] = {
	/* fail GFP_KERNEL allocations too, of any order, quietly */
	{ FAILSLAB "ignore-gfp-wait", "N" },
	{ FAILSLAB "verbose", "0" },
	{ FAIL_PAGE "ignore-gfp-wait", "N" },
	{ FAIL_PAGE "ignore-gfp-highmem", "N" },
	{ FAIL_PAGE "min-order", "0" },
	{ FAIL_PAGE "verbose", "0" },
};

#define NR_SETTINGS	ARRAY_SIZE(fi_settings)

static int read_str(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* A text symbol of /proc/kallsyms: its address, name and module ("" if none). */
static int next_text_symbol(FILE *f, unsigned long *addr, char *name, char *mod)
{
	char line[256], type;
	int n;

	while (fgets(line, sizeof(line), f)) {
		mod[0] = '\0';
		n = sscanf(line, "%lx %c %127s [%63[^]]]", addr, &type, name, mod);
		if (n >= 3 && (type == 't' || type == 'T') && *addr)
			return 0;
	}
	return -1;
}

/*
 * The text of the functions that @match accepts (one object file or one
 * module: their code is contiguous), up to the symbol that follows the
 * last of them.
 */
static int text_range(bool (*match)(const char *name, const char *mod),
		      unsigned long *start, unsigned long *end)
{
	unsigned long addr, last = 0;
	char name[128], mod[64];
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return -1;
	*start = ~0UL;
	while (!next_text_symbol(f, &addr, name, mod)) {
		if (!match(name, mod))
			continue;
		if (addr < *start)
			*start = addr;
		if (addr > last)
			last = addr;
	}
	rewind(f);
	*end = last + 4096;
	while (!next_text_symbol(f, &addr, name, mod))
		if (addr > last && addr < *end)
			*end = addr;
	fclose(f);
	return last ? 0 : -1;
}

static bool in_module(const char *name, const char *mod)
{
	return !strcmp(mod, "rk_dma_heap");
}

/* kernel/dma/debug.c: DMA-API debugging turns itself off when it cannot allocate */
static bool in_dma_debug(const char *name, const char *mod)
{
	return !mod[0] && (!strncmp(name, "debug_dma_", 10) ||
			   !strcmp(name, "add_dma_entry") ||
			   !strcmp(name, "dma_entry_alloc"));
}

static int fi_range(const char *what, unsigned long start, unsigned long end)
{
	static const char *const dirs[] = { FAILSLAB, FAIL_PAGE };
	char path[96], val[32];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s%s-start", dirs[i], what);
		snprintf(val, sizeof(val), "0x%lx", start);
		if (rk_write_file(path, val, O_WRONLY))
			return -1;
		snprintf(path, sizeof(path), "%s%s-end", dirs[i], what);
		snprintf(val, sizeof(val), "0x%lx", end);
		if (rk_write_file(path, val, O_WRONLY))
			return -1;
	}
	return 0;
}

/*
 * Fail only allocations with the module's code on the stack, and none of
 * DMA-API debugging's own, where the kernel applies the stack-trace
 * filter to fail-nth (6.12 on; before, every allocation counts).
 */
static int fi_limit_to_module(struct __test_metadata *_metadata)
{
	unsigned long start, end;

	if (access(FAILSLAB "require-start", W_OK))
		return 0;
	if (text_range(in_module, &start, &end) ||
	    fi_range("require", start, end))
		return -1;
	TH_LOG("stack-trace filter: the module at 0x%lx-0x%lx", start, end);
	if (!text_range(in_dma_debug, &start, &end)) {
		if (fi_range("reject", start, end))
			return -1;
		TH_LOG("stack-trace filter: not DMA-API debugging at 0x%lx-0x%lx",
		       start, end);
	}
	return 0;
}

static void fi_unlimit(void)
{
	fi_range("require", 0, ~0UL);
	fi_range("reject", 0, 0);
}

FIXTURE(faults) {
	int heap;	/* the heap node */
	int nth;	/* this thread's fail-nth */
	int npu;	/* the test client's NPU device */
	int fds;	/* open fds before the test */
	int fired;	/* failures injected by the last fi_run() */
	long attempts;	/* operations run with a failure armed */
	char saved[NR_SETTINGS][32];	/* the settings before the test */
};

FIXTURE_SETUP(faults)
{
	unsigned int i;

	if (access("/proc/thread-self/fail-nth", W_OK) ||
	    access(FAILSLAB "ignore-gfp-wait", W_OK) ||
	    access(FAIL_PAGE "ignore-gfp-wait", W_OK))
		SKIP(return, "kernel without fault injection (CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC, FAULT_INJECTION_DEBUG_FS)");
	ASSERT_EQ(0LL, rk_info_total()) TH_LOG("the heap is not empty at the start");
	for (i = 0; i < NR_SETTINGS; i++) {
		ASSERT_EQ(0, read_str(fi_settings[i][0], self->saved[i],
				      sizeof(self->saved[i])));
		ASSERT_EQ(0, rk_write_file(fi_settings[i][0], fi_settings[i][1],
					   O_WRONLY))
			TH_LOG("cannot set %s", fi_settings[i][0]);
	}
	ASSERT_EQ(0, fi_limit_to_module(_metadata))
		TH_LOG("cannot limit fault injection to the module's code");
	self->heap = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->heap);
	self->npu = open(NPU, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->npu);
	self->nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth);
	self->fds = rk_count_fds();
}

/* the test's process is gone: put the settings back, check the heap */
FIXTURE_TEARDOWN_PARENT(faults)
{
	unsigned int i;

	fi_unlimit();
	for (i = 0; i < NR_SETTINGS; i++)
		if (self->saved[i][0])
			rk_write_file(fi_settings[i][0], self->saved[i], O_WRONLY);
	rk_fixture_check(_metadata);
}

/* Arm the Nth allocation of this thread to fail. */
static void fi_arm(int nth, unsigned int n)
{
	char s[16];

	snprintf(s, sizeof(s), "%u", n);
	if (pwrite(nth, s, strlen(s), 0) < 0)
		abort();
}

/* Disarm; returns whether the failure was injected. */
static bool fi_disarm(int nth)
{
	char s[16] = "";

	if (pread(nth, s, sizeof(s) - 1, 0) <= 0)
		abort();
	if (atoi(s) == 0)
		return true;
	if (pwrite(nth, "0", 1, 0) < 0)
		abort();
	return false;
}

/* A command to the test client through the fd the fixture holds. */
static int npu_cmd(int npu, const char *fmt, ...)
{
	char cmd[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return pwrite(npu, cmd, strlen(cmd), 0) < 0 ? -errno : 0;
}

/*
 * One operation under test: run() does it and returns 0 or -errno; undo()
 * checks what a successful run() made and takes it back.
 */
struct fi_op {
	const char *name;
	int (*run)(FIXTURE_DATA(faults) *self, size_t len);
	bool (*undo)(FIXTURE_DATA(faults) *self, size_t len);
};

/*
 * What the operations work on: the buffer of those that need one,
 * allocated before any failure is armed (slot 0 of the client for the
 * in-kernel ones), and what the last run() made.
 */
static int fi_buf = -1;
static int fi_fd = -1;
static void *fi_addr;

/* A new buffer must have the size asked for; it is closed. */
static bool fi_close(int fd, size_t len)
{
	bool ok = lseek(fd, 0, SEEK_END) == (off_t)len;

	close(fd);
	return ok;
}

static int op_alloc(FIXTURE_DATA(faults) *self, size_t len)
{
	fi_fd = rk_alloc(self->heap, len);
	return fi_fd < 0 ? fi_fd : 0;
}

static bool undo_alloc(FIXTURE_DATA(faults) *self, size_t len)
{
	return fi_close(fi_fd, len);
}

static int op_mmap(FIXTURE_DATA(faults) *self, size_t len)
{
	fi_addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fi_buf, 0);
	return fi_addr == MAP_FAILED ? -errno : 0;
}

/* the mapping reaches the buffer: what it writes the client reads */
static bool undo_mmap(FIXTURE_DATA(faults) *self, size_t len)
{
	unsigned long long sum;

	memset(fi_addr, 1, len);
	munmap(fi_addr, len);
	if (client(NPU, "vmap 0"))
		return false;
	sum = client_result(NPU, "sum");
	return sum == len;
}

static int op_kernel_alloc(FIXTURE_DATA(faults) *self, size_t len)
{
	return npu_cmd(self->npu, "alloc 1 %zu", len);
}

static int op_contig(FIXTURE_DATA(faults) *self, size_t len)
{
	return npu_cmd(self->npu, "contig 1 %zu", len);
}

static bool undo_free1(FIXTURE_DATA(faults) *self, size_t len)
{
	return npu_cmd(self->npu, "free 1") == 0;
}

static int op_allocfd(FIXTURE_DATA(faults) *self, size_t len)
{
	return npu_cmd(self->npu, "allocfd 1 %zu", len);
}

static bool undo_allocfd(FIXTURE_DATA(faults) *self, size_t len)
{
	int fd = client_result(NPU, "fd");

	return fd > 2 && fi_close(fd, len);
}

static int op_attach(FIXTURE_DATA(faults) *self, size_t len)
{
	return npu_cmd(self->npu, "attach 0");
}

static bool undo_attach(FIXTURE_DATA(faults) *self, size_t len)
{
	return client_result(NPU, "nents") > 0 &&
	       npu_cmd(self->npu, "detach 0") == 0;
}

static char fi_info[1 << 16];

static int op_info(FIXTURE_DATA(faults) *self, size_t len)
{
	int fd = open(RK_INFO_NODE, O_RDONLY | O_CLOEXEC), ret = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, fi_info, sizeof(fi_info) - 1);
	if (n < 0)
		ret = -errno;
	else
		fi_info[n] = '\0';
	close(fd);
	return ret;
}

/* the dump lists the test's buffer */
static bool undo_info(FIXTURE_DATA(faults) *self, size_t len)
{
	char want[96];

	snprintf(want, sizeof(want), "-dmabuf i_ino = %lu\n", rk_ino(fi_buf));
	return strstr(fi_info, want) != NULL;
}

/*
 * Run @op with the 1st, 2nd, ... allocation failing until it gets through
 * without a failure; check after each step that a failure was reported as
 * ENOMEM and that the heap, the region and the fd table are as before.
 * Returns the number of failures the operation reported.
 */
static int fi_run(struct __test_metadata *_metadata,
		  FIXTURE_DATA(faults) *self, struct fi_op *op, size_t len)
{
	long long total = rk_info_total();
	unsigned long used = rk_cma_used_pages();
	int reported = 0, ret;
	unsigned int n;
	bool fired;

	/* once without failures: code and stack pages fault in now */
	ASSERT_EQ(0, op->run(self, len)) TH_LOG("%s of %zu bytes", op->name, len);
	ASSERT_TRUE(op->undo(self, len)) TH_LOG("%s of %zu bytes", op->name, len);
	self->fired = 0;
	for (n = 1; n <= MAX_NTH; n++) {
		fi_arm(self->nth, n);
		ret = op->run(self, len);
		fired = fi_disarm(self->nth);
		self->attempts++;
		self->fired += fired;
		if (ret) {
			EXPECT_EQ(-ENOMEM, ret)
				TH_LOG("%s of %zu bytes, allocation %u failed: %s",
				       op->name, len, n, strerror(-ret));
			EXPECT_TRUE(fired)
				TH_LOG("%s of %zu bytes failed with no failure injected",
				       op->name, len);
			EXPECT_EQ(total, rk_info_total())
				TH_LOG("%s of %zu bytes, allocation %u failed: a buffer was left",
				       op->name, len, n);
			EXPECT_EQ(used, rk_cma_used_pages())
				TH_LOG("%s of %zu bytes, allocation %u failed: pages of the region were left",
				       op->name, len, n);
			EXPECT_EQ(self->fds, rk_count_fds())
				TH_LOG("%s of %zu bytes, allocation %u failed: an fd was left",
				       op->name, len, n);
			reported++;
			if (_metadata->exit_code)
				break;
			continue;
		}
		EXPECT_TRUE(op->undo(self, len))
			TH_LOG("%s of %zu bytes absorbed failure %u but does not work",
			       op->name, len, n);
		if (!fired)
			break;
	}
	EXPECT_GE(MAX_NTH, n) TH_LOG("%s never got through", op->name);
	return reported;
}

/*
 * Allocation through the heap node, mapping, the in-kernel API (buffer,
 * fd, contiguous pages, attach and map for a device) and reading the info
 * node, with buffers of one page to 4 MiB, until over a thousand attempts
 * are made. Every operation must see at least one failure. About 60 s in
 * the KASAN guest on a busy host; the timeout leaves a tenfold margin.
 */
TEST_F_TIMEOUT(faults, every_allocation_failure_is_reported_and_undone, 600)
{
	struct fi_op ops[] = {
		{ "heap node allocation", op_alloc, undo_alloc },
		{ "mmap", op_mmap, undo_mmap },
		{ "in-kernel buffer allocation", op_kernel_alloc, undo_free1 },
		{ "in-kernel fd allocation", op_allocfd, undo_allocfd },
		{ "contiguous pages allocation", op_contig, undo_free1 },
		{ "attach and map", op_attach, undo_attach },
		{ "info node read", op_info, undo_info },
	};
	int reported[NR_OPS] = { 0 };
	unsigned int s, i;
	size_t len;

	for (s = 0; s < 64 && self->attempts < 1000; s++) {
		/* 1 page to 4 MiB, and one page more every other round */
		len = (RK_PAGE << (s % 11)) + (s & 1) * RK_PAGE;
		fi_buf = rk_alloc(self->heap, len);
		ASSERT_LE(0, fi_buf);
		ASSERT_EQ(0, client(NPU, "import 0 %d", fi_buf));
		self->fds = rk_count_fds();
		for (i = 0; i < NR_OPS; i++) {
			reported[i] += fi_run(_metadata, self, &ops[i], len);
			if (_metadata->exit_code)
				break;
		}
		ASSERT_EQ(0, client(NPU, "free 0"));
		close(fi_buf);
		if (_metadata->exit_code)
			return;
	}
	for (i = 0; i < NR_OPS; i++) {
		EXPECT_LT(0, reported[i])
			TH_LOG("%s: no allocation of it could be made to fail",
			       ops[i].name);
		TH_LOG("%s: %d failures reported", ops[i].name, reported[i]);
	}
	EXPECT_LE(1000, self->attempts);
	TH_LOG("%ld attempts in %u rounds", self->attempts, s);
}

TEST_HARNESS_MAIN
