// SPDX-License-Identifier: GPL-2.0
/*
 * The trace events (tracefs, events/rk_dma_heap/): enabled, each operation
 * done once, the trace buffer holds one event for each, with the buffer's
 * physical start as the info node shows it, its size, owner and process.
 */
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "rk_test.h"
#include "rk_fixture.h"
#include "rk_clean_probe.h"

#define LEN	(64 << 10)

FIXTURE(tr) {
	const char *tracing;
	char comm[32];
	bool were_on;	/* every event was on before the test */
};

static void events_off(const char *tracing)
{
	trace_write(tracing, "events/rk_dma_heap/enable", "0", 0);
	trace_write(tracing, "set_event_pid", "", O_TRUNC);
}

/*
 * Whether every event of the module is on: its "enable" reads 1 (0 for
 * none, X for some). run-all.sh keeps them all on through the suite on a
 * real-time kernel, and the test must leave them as it found them.
 */
static bool events_on(const char *tracing)
{
	char path[128], *text;
	bool on;

	snprintf(path, sizeof(path), "%s/events/rk_dma_heap/enable", tracing);
	text = rk_read_text(path, NULL);
	on = text && text[0] == '1';
	free(text);
	return on;
}

FIXTURE_SETUP(tr)
{
	char path[128], pid[16];
	FILE *f;

	self->tracing = tracefs();
	if (!self->tracing)
		SKIP(return, "kernel without tracefs (CONFIG_FTRACE)");
	snprintf(path, sizeof(path), "%s/events/rk_dma_heap/enable", self->tracing);
	if (access(path, W_OK))
		SKIP(return, "kernel without trace events (CONFIG_EVENT_TRACING)");
	ASSERT_EQ(0LL, rk_info_total()) TH_LOG("the heap is not empty at the start");
	self->were_on = events_on(self->tracing);
	f = fopen("/proc/self/comm", "r");
	ASSERT_TRUE(f && fgets(self->comm, sizeof(self->comm), f));
	fclose(f);
	self->comm[strcspn(self->comm, "\n")] = '\0';
	snprintf(pid, sizeof(pid), "%d", getpid());
	ASSERT_EQ(0, trace_write(self->tracing, "trace", "", O_TRUNC));
	ASSERT_EQ(0, trace_write(self->tracing, "set_event_pid", pid, O_TRUNC));
	ASSERT_EQ(0, trace_write(self->tracing, "events/rk_dma_heap/enable", "1", 0));
}

FIXTURE_TEARDOWN_PARENT(tr)
{
	if (self->tracing) {
		events_off(self->tracing);
		if (self->were_on)
			trace_write(self->tracing, "events/rk_dma_heap/enable", "1", 0);
	}
	rk_fixture_check(_metadata);
}

/*
 * The one line of event @event in the trace whose fields start with
 * @fields, copied to @line; returns how many such lines there are.
 */
static int trace_lines(const char *tracing, const char *event,
		       const char *fields, char *line, size_t len)
{
	char path[128], buf[512], want[96], *p;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/trace", tracing);
	snprintf(want, sizeof(want), " %s: ", event);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(buf, sizeof(buf), f)) {
		p = strstr(buf, want);
		if (buf[0] == '#' || !p)
			continue;
		p += strlen(want);
		if (strncmp(p, fields, strlen(fields)))
			continue;
		if (!n++)
			snprintf(line, len, "%s", p);
	}
	fclose(f);
	return n;
}

/*
 * Allocate, attach a driver, detach it, free: alloc, attach, detach and
 * free, once each, for exactly this buffer.
 */
TEST_F_TIMEOUT(tr, one_event_per_operation, RK_TIMEOUT)
{
	static const char *const events[] = {
		"rk_dma_heap_alloc", "rk_dma_heap_attach",
		"rk_dma_heap_detach", "rk_dma_heap_free",
	};
	char fields[192], line[512];
	struct rk_info info;
	unsigned int i;
	int heap, fd, n;

	heap = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, heap);
	fd = rk_alloc(heap, LEN);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rk_info_lookup(rk_ino(fd), &info));
	ASSERT_EQ(0, client(NPU, "import 0 %d", fd));
	ASSERT_EQ(0, client(NPU, "attach 0"));
	ASSERT_EQ(0, client(NPU, "detach 0"));
	ASSERT_EQ(0, client(NPU, "free 0"));
	close(fd);
	close(heap);
	events_off(self->tracing);

	snprintf(fields, sizeof(fields),
		 "heap=rk-dma-heap-cma start=0x%llx size=%d owner=%s pid=%d ",
		 (unsigned long long)info.start, LEN, self->comm, getpid());
	for (i = 0; i < 4; i++) {
		n = trace_lines(self->tracing, events[i], fields, line, sizeof(line));
		EXPECT_EQ(1, n) TH_LOG("%s lines starting '%s': %d", events[i], fields, n);
	}
	ASSERT_EQ(1, trace_lines(self->tracing, "rk_dma_heap_attach", fields, line, sizeof(line)));
	EXPECT_TRUE(strstr(line, " dev=ff660000.npu\n") != NULL) TH_LOG("%s", line);
	ASSERT_EQ(1, trace_lines(self->tracing, "rk_dma_heap_alloc", fields, line, sizeof(line)));
	EXPECT_TRUE(strstr(line, " latency_us=") != NULL) TH_LOG("%s", line);
}

/* Contiguous pages of a driver: alloc and free, under the driver's name. */
TEST_F_TIMEOUT(tr, contiguous_pages_too, RK_TIMEOUT)
{
	char fields[192], line[512];
	unsigned long long phys;

	ASSERT_EQ(0, client(NPU, "contig 0 %d trace-npu", LEN));
	phys = client_result(NPU, "phys");
	ASSERT_EQ(0, client(NPU, "free 0"));
	events_off(self->tracing);
	snprintf(fields, sizeof(fields),
		 "heap=rk-dma-heap-cma start=0x%llx size=%d owner=trace-npu pid=%d ",
		 phys, LEN, getpid());
	EXPECT_EQ(1, trace_lines(self->tracing, "rk_dma_heap_alloc", fields, line, sizeof(line)));
	EXPECT_EQ(1, trace_lines(self->tracing, "rk_dma_heap_free", fields, line, sizeof(line)));
}

/*
 * A request larger than the largest free block: one enomem event, with
 * the request, its owner, and the region's free space then.
 */
TEST_F_TIMEOUT(tr, enomem_says_what_was_free, RK_TIMEOUT)
{
	char fields[192], line[512];
	struct rk_usage u;
	int heap, fd, big;

	heap = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, heap);
	fd = rk_alloc(heap, RK_PAGE);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rk_usage(&u));
	big = rk_alloc(heap, u.region << 10);
	EXPECT_EQ(-ENOMEM, big);
	if (big >= 0)
		close(big);
	close(fd);
	close(heap);
	events_off(self->tracing);
	snprintf(fields, sizeof(fields), "heap=rk-dma-heap-cma size=%llu owner=%s pid=%d ",
		 u.region << 10, self->comm, getpid());
	ASSERT_EQ(1, trace_lines(self->tracing, "rk_dma_heap_enomem", fields, line, sizeof(line)));
	EXPECT_TRUE(strstr(line, " largest_free=") != NULL) TH_LOG("%s", line);
}

TEST_HARNESS_MAIN
