/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Watching the kernel's cache maintenance from a test: QEMU models no
 * cache, so what must reach memory is checked by a kprobe event on the
 * function that makes a range consistent for a device ("a clean"), with
 * its DMA address, length and direction, recorded for the test's own
 * process. Needs CONFIG_KPROBE_EVENTS (the debug test kernels and
 * Debian's have it). Include after rk_test.h.
 */
#ifndef RK_CLEAN_PROBE_H
#define RK_CLEAN_PROBE_H

#include <sys/mount.h>
#include <sys/utsname.h>

#define GROUP		"rk_writeback"
#define EVENT		GROUP "/clean"
#define DMA_FROM_DEVICE	2

static inline const char *tracefs(void)
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

static inline int trace_write(const char *dir, const char *file,
			      const char *s, int flags)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return rk_write_file(path, s, O_WRONLY | flags);
}

static inline bool in_kallsyms(const char *name)
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
static inline int probe_defs(char defs[2][160])
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

static inline void remove_probes(const char *tracing)
{
	trace_write(tracing, "events/" GROUP "/enable", "0", 0);
	trace_write(tracing, "kprobe_events", "-:" EVENT "\n", O_APPEND);
	trace_write(tracing, "kprobe_events", "-:" EVENT "64\n", O_APPEND);
}

/*
 * Add the probes; returns tracefs's directory, or NULL where the kernel
 * has no kprobe events or refuses them.
 */
static inline const char *probes_add(void)
{
	const char *tracing = tracefs();
	char defs[2][160];
	int i, n;

	if (!tracing)
		return NULL;
	remove_probes(tracing);
	n = probe_defs(defs);
	for (i = 0; i < n; i++) {
		if (trace_write(tracing, "kprobe_events", defs[i], O_APPEND)) {
			remove_probes(tracing);
			return NULL;
		}
	}
	return tracing;
}

/* Start recording this process's cleans. */
static inline int record(const char *tracing)
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
static inline int recorded(const char *tracing, uint64_t addr,
			   uint64_t len, int *others)
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

#endif /* RK_CLEAN_PROBE_H */
