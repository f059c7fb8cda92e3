// SPDX-License-Identifier: GPL-2.0
/*
 * A new buffer's zeroes reach memory before any device can read the
 * buffer. The CPU zeroes it through its cache; on ARM the cache must then
 * be cleaned to memory, or a device reading the buffer (or the CPU
 * invalidating the cache to map it for DMA_FROM_DEVICE) finds the page's
 * previous contents: another process's data. QEMU models no cache, so the
 * test watches the kernel's cache maintenance instead. A kprobe event on
 * the function that makes a range consistent for a device must fire during
 * the allocation for exactly the new buffer's physical range, in a
 * direction that cleans (to the device, or both ways).
 *
 * Needs CONFIG_KPROBE_EVENTS (the debug test kernels and Debian's have it).
 */
#include <sys/mount.h>
#include <sys/utsname.h>
#include "kselftest_harness.h"
#include "rk_test.h"
#include "rk_fixture.h"

#define GROUP		"rk_writeback"
#define EVENT		GROUP "/clean"
#define DMA_FROM_DEVICE	2

static const char *tracefs(void)
{
	static const char *const dirs[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	unsigned int i;

	if (access("/sys/kernel/tracing/kprobe_events", F_OK))
		mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL);
	for (i = 0; i < 2; i++) {
		char path[64];

		snprintf(path, sizeof(path), "%s/kprobe_events", dirs[i]);
		if (!access(path, W_OK))
			return dirs[i];
	}
	return NULL;
}

static int trace_write(const char *dir, const char *file, const char *s,
		       int flags)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return rk_write_file(path, s, O_WRONLY | flags);
}

static bool in_kallsyms(const char *name)
{
	char line[256], sym[128];
	FILE *f = fopen("/proc/kallsyms", "r");
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%*s %*s %127s", sym) == 1 &&
			!strcmp(sym, name);
	fclose(f);
	return found;
}

/*
 * The probes: where the kernel makes a range consistent for a device,
 * with its DMA address, length and direction. ARM32 kernels before 5.19
 * do it in arm_dma_ops, whose dma_addr_t is 64-bit on some 32-bit
 * configurations (Debian's: the handle then takes r2 and r3, the rest
 * goes on the stack): one probe for each layout, only one can match.
 * Later ARM32 kernels, and arm64, do it in dma-direct's
 * arch_sync_dma_for_device().
 */
static int probe_defs(char defs[2][160])
{
	struct utsname u;

	uname(&u);
	if (!strcmp(u.machine, "aarch64")) {
		snprintf(defs[0], 160, "p:%s arch_sync_dma_for_device addr=%%x0:x64 size=%%x1:x64 dir=%%x2:s32\n",
			 EVENT);
		return 1;
	}
	if (!in_kallsyms("arm_dma_sync_single_for_device")) {
		snprintf(defs[0], 160, "p:%s arch_sync_dma_for_device addr=%%r0:x32 size=%%r1:x32 dir=%%r2:s32\n",
			 EVENT);
		return 1;
	}
	snprintf(defs[0], 160, "p:%s arm_dma_sync_single_for_device addr=%%r1:x32 size=%%r2:x32 dir=%%r3:s32\n",
		 EVENT);
	snprintf(defs[1], 160, "p:%s64 arm_dma_sync_single_for_device addr=%%r2:x32 size=$stack0:x32 dir=$stack1:s32\n",
		 EVENT);
	return 2;
}

FIXTURE(wb) {
	const char *tracing;
	int heap;
};

static void remove_probes(const char *tracing)
{
	trace_write(tracing, "events/" GROUP "/enable", "0", 0);
	trace_write(tracing, "kprobe_events", "-:" EVENT "\n", O_APPEND);
	trace_write(tracing, "kprobe_events", "-:" EVENT "64\n", O_APPEND);
}

FIXTURE_SETUP(wb)
{
	char defs[2][160];
	int i, n;

	self->tracing = tracefs();
	if (!self->tracing)
		SKIP(return, "kernel without kprobe events (CONFIG_KPROBE_EVENTS)");
	ASSERT_EQ(0LL, rk_info_total()) TH_LOG("the heap is not empty at the start");
	remove_probes(self->tracing);
	n = probe_defs(defs);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, trace_write(self->tracing, "kprobe_events",
					 defs[i], O_APPEND))
			TH_LOG("cannot add the probe %s", defs[i]);
	self->heap = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->heap);
}

/* the test's process is gone: remove the probes, check the heap */
FIXTURE_TEARDOWN_PARENT(wb)
{
	if (self->tracing)
		remove_probes(self->tracing);
	rk_fixture_check(_metadata);
}

/* Start recording this process's cleans. */
static int record(const char *tracing)
{
	char pid[16];

	snprintf(pid, sizeof(pid), "%d", getpid());
	if (trace_write(tracing, "trace", "", O_TRUNC) ||
	    trace_write(tracing, "set_event_pid", pid, O_TRUNC))
		return -1;
	return trace_write(tracing, "events/" GROUP "/enable", "1", 0);
}

/* the first recorded clean that did not match, for the failure message */
static char other_clean[256];

/*
 * Stop recording; returns the number of recorded cleans that cover
 * [@addr, @addr + @len) exactly, and in @others the events that do not
 * (with two probes, each clean is also recorded once in the wrong layout).
 */
static int recorded(const char *tracing, uint64_t addr, uint64_t len,
		    int *others)
{
	unsigned long long a, l;
	char path[128], line[512], *p;
	int dir, exact = 0;
	FILE *f;

	*others = 0;
	other_clean[0] = '\0';
	trace_write(tracing, "events/" GROUP "/enable", "0", 0);
	trace_write(tracing, "set_event_pid", "", O_TRUNC);
	snprintf(path, sizeof(path), "%s/trace", tracing);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, " addr=");
		if (line[0] == '#' || !p ||
		    sscanf(p, " addr=0x%llx size=0x%llx dir=%d", &a, &l, &dir) != 3)
			continue;
		if (a == addr && l == len && dir != DMA_FROM_DEVICE)
			exact++;
		else if (!(*others)++)
			snprintf(other_clean, sizeof(other_clean), "%s", p + 1);
	}
	fclose(f);
	return exact;
}

/*
 * Buffers through the heap node, of one page to 4 MiB: each is cleaned to
 * memory once, over its whole range, before the ioctl returns.
 */
TEST_F_TIMEOUT(wb, new_buffer_is_written_back_before_it_is_handed_out, RK_TIMEOUT)
{
	static const uint64_t sizes[] = { RK_PAGE, 64 << 10, (1 << 20) + RK_PAGE, 4 << 20 };
	struct rk_info info;
	unsigned int i;
	int fd, n, others;

	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, record(self->tracing));
		fd = rk_alloc(self->heap, sizes[i]);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, rk_info_lookup(rk_ino(fd), &info));
		n = recorded(self->tracing, info.start, sizes[i], &others);
		EXPECT_EQ(1, n)
			TH_LOG("%llu bytes at 0x%llx: written back %d times (%d other cleans: %s)",
			       (unsigned long long)sizes[i],
			       (unsigned long long)info.start, n, others,
			       other_clean);
		close(fd);
	}
}

/* The same for contiguous pages from the in-kernel API. */
TEST_F_TIMEOUT(wb, new_contiguous_pages_are_written_back, RK_TIMEOUT)
{
	unsigned long long phys;
	int n, others;

	ASSERT_EQ(0, record(self->tracing));
	ASSERT_EQ(0, client(NPU, "contig 0 %lu", 2UL << 20));
	phys = client_result(NPU, "phys");
	n = recorded(self->tracing, phys, 2 << 20, &others);
	EXPECT_EQ(1, n)
		TH_LOG("2 MiB at 0x%llx: written back %d times (%d other cleans: %s)",
		       phys, n, others, other_clean);
	ASSERT_EQ(0, client(NPU, "free 0"));
}

TEST_HARNESS_MAIN
