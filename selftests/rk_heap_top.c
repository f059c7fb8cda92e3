// SPDX-License-Identifier: GPL-2.0
/*
 * rk-dma-heap-top (tools/rk-dma-heap-top.c, in the guest's PATH): processes
 * holding known buffers by fd, by an fd passed over a Unix socket and only
 * by a mapping show exactly those buffers; a buffer two processes hold
 * counts in both rows and once in the total; drivers' allocations show as
 * kernel-side under their owner names; the region's figures are the usage
 * node's and its map is what alloc_bitmap (and pool_bitmap, where the
 * module has it) shows, and with the one heap of this boot "regions" is
 * that region alone; --once prints its three sections, one REGION; a
 * normal user gets one line and status 1.
 */
#include <grp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/dma-buf.h>
#include "kselftest_harness.h"
#include "rk_test.h"
#include "rk_fixture.h"

#define TOP		"rk-dma-heap-top"
#define POOL_NODE	"/proc/rk_dma_heap/pool_bitmap"
#define KIB		1024UL

/* The standard output of @cmd, NUL-terminated (free()); its status. */
static char *run(const char *cmd, int *status)
{
	size_t cap = 1 << 16, n = 0, r;
	char *buf = malloc(cap);
	FILE *f = popen(cmd, "r");

	*status = -1;
	if (!f) {
		free(buf);
		return NULL;
	}
	while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (cap - n < 4096)
			buf = realloc(buf, cap *= 2);
	}
	buf[n] = '\0';
	*status = pclose(f);
	return buf;
}

/* ------------------------------------------------ a little JSON reading */

/* Past the JSON string that starts at @p (its opening quote). */
static const char *skip_string(const char *p)
{
	for (p++; *p && *p != '"'; p++)
		if (*p == '\\' && p[1])
			p++;
	return *p ? p + 1 : p;
}

/*
 * The member @key of the JSON text @obj (the first at any depth; the
 * tool's keys are unique within an object): where its value starts, or
 * NULL.
 */
static const char *member(const char *obj, const char *key)
{
	size_t len = strlen(key);
	const char *p = obj, *q;

	while (*p) {
		if (*p != '"') {
			p++;
			continue;
		}
		q = skip_string(p);
		if ((size_t)(q - p) == len + 2 && !strncmp(p + 1, key, len)) {
			while (*q == ' ' || *q == '\n')
				q++;
			if (*q == ':') {
				for (q++; *q == ' ' || *q == '\n'; q++)
					;
				return q;
			}
		}
		p = q;
	}
	return NULL;
}

static long long num(const char *obj, const char *key)
{
	const char *v = obj ? member(obj, key) : NULL;

	return v ? strtoll(v, NULL, 10) : -1;
}

static double real(const char *obj, const char *key)
{
	const char *v = obj ? member(obj, key) : NULL;

	return v ? strtod(v, NULL) : -1;
}

/* The string member @key of @obj in @out (no escapes in what we look at). */
static int str(const char *obj, const char *key, char *out, size_t len)
{
	const char *v = obj ? member(obj, key) : NULL, *e;

	if (!v || *v != '"')
		return -1;
	e = skip_string(v);
	snprintf(out, len, "%.*s", (int)(e - v - 2), v + 1);
	return 0;
}

/* A copy of the flat object starting at @p ('{'); NULL at the array's end. */
static char *object_at(const char *p, const char **next)
{
	const char *q = p + 1;
	char *o;

	while (*q && *q != '}')
		q = *q == '"' ? skip_string(q) : q + 1;
	if (!*q)
		return NULL;
	o = strndup(p, q - p + 1);
	*next = q + 1;
	return o;
}

/* A copy of the object member @key of @json, or NULL (free()). */
static char *sub_object(const char *json, const char *key)
{
	const char *p = member(json, key);

	return p && *p == '{' ? object_at(p, &p) : NULL;
}

/*
 * The objects of the array member @key of @json, copies in *@objs (free()
 * each and the array). Returns how many, -1 if there is no such array.
 */
static int array_objects(const char *json, const char *key, char ***objs)
{
	const char *p = member(json, key);
	char *o;
	int n = 0;

	*objs = NULL;
	if (!p || *p != '[')
		return -1;
	for (p++;;) {
		while (*p && *p != '{' && *p != ']')
			p++;
		if (*p != '{')
			return n;
		o = object_at(p, &p);
		if (!o)
			return n;
		*objs = realloc(*objs, (n + 1) * sizeof(**objs));
		(*objs)[n++] = o;
	}
}

/*
 * The object of the array @array whose member @key has the text @val (a
 * number, or a string with its quotes); NULL if none (free()).
 */
static char *find_object(const char *json, const char *array, const char *key,
			 const char *val)
{
	char **objs, *found = NULL;
	const char *v;
	int i, n = array_objects(json, array, &objs);

	for (i = 0; i < n; i++) {
		v = member(objs[i], key);
		if (!found && v && !strncmp(v, val, strlen(val)) &&
		    strchr(",} \n", v[strlen(val)]))
			found = objs[i];
		else
			free(objs[i]);
	}
	free(objs);
	return found;
}

/* @json without the white space outside its strings (free()). */
static char *squeeze(const char *json)
{
	char *out = malloc(strlen(json) + 1), *q = out;
	const char *p = json, *e;

	while (*p) {
		if (*p == '"') {
			e = skip_string(p);
			memcpy(q, p, e - p);
			q += e - p;
			p = e;
		} else if (strchr(" \t\n", *p)) {
			p++;
		} else {
			*q++ = *p++;
		}
	}
	*q = '\0';
	return out;
}

static char *find_pid(const char *json, pid_t pid)
{
	char val[16];

	snprintf(val, sizeof(val), "%d", pid);
	return find_object(json, "processes", "pid", val);
}

static char *find_owner(const char *json, const char *owner)
{
	char val[72];

	snprintf(val, sizeof(val), "\"%s\"", owner);
	return find_object(json, "owners", "owner", val);
}

/* ------------------------------------------------- the region's bitmaps */

/*
 * What the tool read, and the nodes as they were just before and after it
 * ran: the kernel may borrow pages of the region for a moment (they show
 * as held outside the heap), so the test compares only views of a region
 * that did not change while the tool ran.
 */
struct view {
	char *json, *bitmap, *pool, *usage;
	int status;
};

static void view_free(struct view *v)
{
	free(v->json);
	free(v->bitmap);
	free(v->pool);
	free(v->usage);
	memset(v, 0, sizeof(*v));
}

static int same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Run the tool with @args until the nodes are the same before and after. */
static void view_take(struct view *v, const char *args)
{
	char cmd[64], *bitmap, *pool, *usage;
	int i;

	snprintf(cmd, sizeof(cmd), "%s %s", TOP, args);
	for (i = 0; i < 10; i++) {
		v->bitmap = rk_read_text(RK_BITMAP_NODE, NULL);
		v->pool = rk_read_text(POOL_NODE, NULL);
		v->usage = rk_read_text(RK_USAGE_NODE, NULL);
		v->json = run(cmd, &v->status);
		bitmap = rk_read_text(RK_BITMAP_NODE, NULL);
		pool = rk_read_text(POOL_NODE, NULL);
		usage = rk_read_text(RK_USAGE_NODE, NULL);
		i = same(bitmap, v->bitmap) && same(pool, v->pool) &&
		    same(usage, v->usage) ? 10 : i;
		free(bitmap);
		free(pool);
		free(usage);
		if (i == 10)
			return;
		view_free(v);
	}
	/* the nodes kept changing: the last view, which may not agree */
	v->bitmap = rk_read_text(RK_BITMAP_NODE, NULL);
	v->pool = rk_read_text(POOL_NODE, NULL);
	v->usage = rk_read_text(RK_USAGE_NODE, NULL);
	v->json = run(cmd, &v->status);
}

/*
 * A bitmap node's first section @text, one byte per page in *@bits
 * (free()): "Total: N KiB", a second line, a blank line, 32-bit words.
 * Returns the number of pages, 0 if unreadable.
 */
static unsigned long bitmap_pages(const char *text, unsigned char **bits)
{
	static uint32_t words[4096];
	unsigned long long kib;
	unsigned long n, i;
	int nwords;

	*bits = NULL;
	if (!text || sscanf(text, "Total: %llu KiB", &kib) != 1)
		return 0;
	n = kib * KIB / sysconf(_SC_PAGESIZE);
	nwords = rk_bitmap_parse(text, words, 4096);
	if (nwords < 0 || (unsigned long)nwords * 32 < n)
		return 0;
	*bits = calloc(n, 1);
	for (i = 0; i < n; i++)
		(*bits)[i] = (words[i / 32] >> (i % 32)) & 1;
	return n;
}

/*
 * What the map must be, from alloc_bitmap and pool_bitmap (where the
 * module has it), blocks of @block_kib: '#' every page taken, '+' some,
 * 'p' none but some pooled, '.' none. NULL if alloc_bitmap is unreadable.
 */
static char *expected_map(const struct view *v, unsigned long block_kib,
			  int *have_pool)
{
	unsigned long page = sysconf(_SC_PAGESIZE), bp = block_kib * KIB / page;
	unsigned char *used, *pooled = NULL;
	unsigned long n, b, j, u, pl, nb;
	char *map;

	n = bitmap_pages(v->bitmap, &used);
	if (!n || !bp)
		return NULL;
	*have_pool = bitmap_pages(v->pool, &pooled) == n;
	nb = (n + bp - 1) / bp;
	map = calloc(nb + 1, 1);
	for (b = 0; b < nb; b++) {
		u = pl = 0;
		for (j = b * bp; j < (b + 1) * bp && j < n; j++) {
			u += used[j];
			pl += !used[j] && *have_pool && pooled[j];
		}
		if (u == j - b * bp)
			map[b] = '#';
		else if (u)
			map[b] = '+';
		else
			map[b] = pl ? 'p' : '.';
	}
	free(used);
	free(pooled);
	return map;
}

/* The usage node's region line, pooled included; 0 or -1. */
static int usage_region(const char *text, unsigned long long v[5])
{
	const char *p = text ? strstr(text, "\nregion ") : NULL;

	if (p && sscanf(p, "\nregion %llu KiB, used %llu KiB, free %llu KiB, largest free block %llu KiB, pooled %llu KiB",
			&v[0], &v[1], &v[2], &v[3], &v[4]) == 5)
		return 0;
	return -1;
}

/* ------------------------------------------------------ the processes */

/* how a child holds its buffer */
enum hold {
	BY_FD,		/* allocates it and keeps the fd */
	BY_SOCKET,	/* keeps the fd it receives over a Unix socket */
	BY_MAPPING,	/* allocates it, maps it and closes the fd */
	INHERITED,	/* holds what it inherited from its parent */
};

/*
 * A child named @name that holds a buffer of @len bytes as @how says, and
 * keeps it until @go closes (or its parent dies). Once it holds the buffer
 * it writes one byte to *@ready: 0, or the step that failed.
 */
static pid_t holder(const char *name, enum hold how, int heap, size_t len,
		    int sock, int go[2], int *ready_fd)
{
	int ready[2], fd = -1;
	char c, r = 0;
	pid_t pid;
	void *p;

	if (pipe(ready))
		return -1;
	pid = fork();
	if (pid) {
		close(ready[1]);
		*ready_fd = ready[0];
		return pid;
	}
	close(go[1]);
	close(ready[0]);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, name);
	switch (how) {
	case BY_FD:
		fd = rk_alloc(heap, len);
		r = fd < 0 ? 2 : 0;
		break;
	case BY_SOCKET:
		fd = rk_recv_fd(sock);
		r = fd < 0 ? 3 : 0;
		break;
	case BY_MAPPING:
		fd = rk_alloc(heap, len);
		p = fd < 0 ? MAP_FAILED :
		    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		r = p == MAP_FAILED ? 4 : 0;
		if (fd >= 0)
			close(fd);
		break;
	case INHERITED:
		break;
	}
	if (write(ready[1], &r, 1) != 1 || r)
		_exit(1);
	/* until the parent closes go (or dies) */
	while (read(go[0], &c, 1) > 0)
		;
	_exit(0);
}

/* What the child said on @ready_fd: 0 when it holds its buffer. */
static int ready(int ready_fd)
{
	char r = 1;

	if (read(ready_fd, &r, 1) != 1)
		r = 1;
	close(ready_fd);
	return r;
}

static void check_process(struct __test_metadata *_metadata, const char *json,
			  pid_t pid, const char *comm, long long kib,
			  long long shared)
{
	char *o = find_pid(json, pid), s[64] = "";

	EXPECT_TRUE(o != NULL) TH_LOG("no row for %s (pid %d) in:\n%s", comm, pid, json);
	if (!o)
		return;
	EXPECT_EQ(0, str(o, "command", s, sizeof(s)));
	EXPECT_STREQ(comm, s);
	EXPECT_EQ(1, num(o, "buffers")) TH_LOG("%s", o);
	EXPECT_EQ(kib, num(o, "kib")) TH_LOG("%s", o);
	EXPECT_EQ(shared, num(o, "shared")) TH_LOG("%s", o);
	free(o);
}

static void check_owner(struct __test_metadata *_metadata, const char *json,
			const char *owner, long long kib, int kernel_side)
{
	char *o = find_owner(json, owner);

	EXPECT_TRUE(o != NULL) TH_LOG("no owner %s in:\n%s", owner, json);
	if (!o)
		return;
	EXPECT_EQ(1, num(o, "buffers")) TH_LOG("%s", o);
	EXPECT_EQ(kib, num(o, "kib")) TH_LOG("%s", o);
	EXPECT_EQ(kernel_side, num(o, "kernel_buffers")) TH_LOG("%s", o);
	EXPECT_EQ(kernel_side ? kib : 0, num(o, "kernel_kib")) TH_LOG("%s", o);
	free(o);
}

/* The region's figures are the usage node's; the map is the bitmaps'. */
static void check_region(struct __test_metadata *_metadata,
			 const struct view *v, unsigned long long used_kib)
{
	const char *json = v->json;
	unsigned long long u[5];
	char *map, *want, *o = NULL;
	int have_pool = 0;
	double frag;
	size_t i;

	o = sub_object(json, "region");
	ASSERT_TRUE(o != NULL) TH_LOG("no region in:\n%s", json);
	ASSERT_EQ(0, usage_region(v->usage, u));
	EXPECT_EQ((long long)u[0], num(o, "size_kib"));
	EXPECT_EQ((long long)used_kib, num(o, "used_kib"));
	EXPECT_EQ((long long)u[1], num(o, "used_kib"));
	EXPECT_EQ((long long)u[2], num(o, "free_kib"));
	EXPECT_EQ((long long)u[3], num(o, "largest_free_kib"));
	EXPECT_EQ((long long)u[4], num(o, "pooled_kib"));
	frag = u[2] ? 100.0 * (1.0 - (double)u[3] / u[2]) : 0;
	EXPECT_TRUE(real(o, "fragmentation_pct") > frag - 0.051 &&
		    real(o, "fragmentation_pct") < frag + 0.051)
		TH_LOG("fragmentation %.2f%%, the tool says %.1f%%", frag,
		       real(o, "fragmentation_pct"));

	map = calloc(strlen(o) + 1, 1);
	ASSERT_EQ(0, str(o, "map", map, strlen(o) + 1));
	want = expected_map(v, num(o, "block_kib"), &have_pool);
	ASSERT_TRUE(want != NULL) TH_LOG("block_kib %lld", num(o, "block_kib"));
	EXPECT_EQ(have_pool, strstr(o, "\"pool_map\": true") != NULL);
	/* the map fits 8 lines of 64 characters */
	EXPECT_GE(512UL, strlen(map));
	EXPECT_EQ(strlen(want), strlen(map));
	for (i = 0; want[i] && map[i]; i++)
		/* pages held outside the heap, where the tool knows them */
		if (map[i] != want[i] && !(map[i] == 'o' && want[i] == '#' &&
					   num(o, "outside_kib") > 0))
			break;
	EXPECT_EQ(strlen(want), i) TH_LOG("map differs at block %zu:\n%s\nalloc_bitmap%s says:\n%s",
					  i, map, have_pool ? " and pool_bitmap" : "", want);
	/* our buffers are in it */
	EXPECT_TRUE(strpbrk(map, "#+") != NULL);
	free(want);
	free(map);
	free(o);
}

/* The number of heaps: the nodes of /dev/rk_dma_heap. */
static int count_heaps(void)
{
	return rk_dir_entries("/dev/rk_dma_heap");
}

/*
 * "regions" holds one region per heap (the high-memory boot adds
 * rk-dma-heap-small), the first of them "region", rk-dma-heap-cma's.
 */
static void check_regions(struct __test_metadata *_metadata, const char *json)
{
	char *o = sub_object(json, "region"), **objs, *a, *b;
	int i, n = array_objects(json, "regions", &objs);

	ASSERT_TRUE(o != NULL) TH_LOG("no region in:\n%s", json);
	EXPECT_EQ(count_heaps(), n) TH_LOG("regions in:\n%s", json);
	if (n >= 1) {
		a = squeeze(o);
		b = squeeze(objs[0]);
		EXPECT_STREQ(a, b);
		free(a);
		free(b);
	}
	for (i = 0; i < n; i++)
		free(objs[i]);
	free(objs);
	free(o);
}

/*
 * A child holds a buffer by its fd, one holds a buffer the test passed it
 * over a Unix socket (and closed), one only maps its buffer; the NPU has
 * contiguous pages and the encoder a dma-buf of its own.
 */
RK_TEST(processes_owners_and_region)
{
	int heap, fd, sv[2], go[2], status, ra, rb, rc;
	struct view v;
	pid_t a, b, c;
	char *json, *o;

	heap = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, heap);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, pipe(go));

	/* the children first: none of them may inherit another's buffer */
	a = holder("top-a", BY_FD, heap, 256 * KIB, -1, go, &ra);
	ASSERT_LT(0, a);
	b = holder("top-b", BY_SOCKET, heap, 0, sv[1], go, &rb);
	ASSERT_LT(0, b);
	c = holder("top-c", BY_MAPPING, heap, 1024 * KIB, -1, go, &rc);
	ASSERT_LT(0, c);
	ASSERT_EQ(0, ready(ra)) TH_LOG("top-a: 2 no buffer");
	ASSERT_EQ(0, ready(rc)) TH_LOG("top-c: 4 no mapping");
	fd = rk_alloc(heap, 512 * KIB);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, DMA_BUF_SET_NAME, "top-b"));
	ASSERT_EQ(0, rk_send_fd(sv[0], fd));
	close(fd);
	ASSERT_EQ(0, ready(rb)) TH_LOG("top-b: 3 nothing received");
	ASSERT_EQ(0, client(NPU, "contig 0 %lu top-npu", 128 * KIB));
	ASSERT_EQ(0, client(VENC, "alloc 0 %lu top-venc", 64 * KIB));

	view_take(&v, "--json");
	json = v.json;
	ASSERT_TRUE(json != NULL);
	EXPECT_EQ(0, v.status) TH_LOG("%s --json: status %d", TOP, v.status);

	check_process(_metadata, json, a, "top-a", 256, 0);
	check_process(_metadata, json, b, "top-b", 512, 0);
	check_process(_metadata, json, c, "top-c", 1024, 0);
	o = find_pid(json, getpid());
	EXPECT_TRUE(o == NULL) TH_LOG("the test holds no buffer, yet:\n%s", o);
	free(o);
	o = sub_object(json, "processes_total");
	EXPECT_TRUE(o != NULL) TH_LOG("%s", json);
	EXPECT_EQ(3, num(o, "buffers"));
	EXPECT_EQ(1792, num(o, "kib"));
	free(o);

	check_owner(_metadata, json, "top-a", 256, 0);
	check_owner(_metadata, json, "top-b", 512, 0);
	check_owner(_metadata, json, "top-c", 1024, 0);
	check_owner(_metadata, json, "top-npu", 128, 1);
	check_owner(_metadata, json, "top-venc", 64, 1);
	o = sub_object(json, "owners_total");
	EXPECT_TRUE(o != NULL) TH_LOG("%s", json);
	EXPECT_EQ(5, num(o, "buffers"));
	EXPECT_EQ(1984, num(o, "kib"));
	EXPECT_EQ(2, num(o, "kernel_buffers"));
	EXPECT_EQ(192, num(o, "kernel_kib"));
	free(o);

	check_region(_metadata, &v, 1984);
	check_regions(_metadata, json);
	view_free(&v);

	/* the children let go of their buffers */
	close(go[1]);
	EXPECT_EQ(a, waitpid(a, &status, 0));
	EXPECT_EQ(b, waitpid(b, &status, 0));
	EXPECT_EQ(c, waitpid(c, &status, 0));
	close(go[0]);
	close(sv[0]);
	close(sv[1]);
	EXPECT_EQ(0, client(NPU, "free 0"));
	EXPECT_EQ(0, client(VENC, "free 0"));
	close(heap);
}

/*
 * A buffer the test holds by fd and by a mapping, and a child inherited:
 * one buffer in each row, each says it is shared, once in the total.
 */
RK_TEST(shared_buffer_counts_in_each_row_once_in_total)
{
	int heap, fd, go[2], status, rd;
	char *json, *o;
	void *p;
	pid_t d;

	heap = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, heap);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, prctl(PR_SET_NAME, "top-parent"));
	/* close-on-exec: the tool (run below) must not hold it too */
	fd = rk_alloc(heap, 64 * KIB);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, DMA_BUF_SET_NAME, "top-shared"));
	p = mmap(NULL, 64 * KIB, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	d = holder("top-d", INHERITED, heap, 0, -1, go, &rd);
	ASSERT_LT(0, d);
	ASSERT_EQ(0, ready(rd));

	json = run(TOP " --json", &status);
	ASSERT_TRUE(json != NULL);
	EXPECT_EQ(0, status);
	check_process(_metadata, json, getpid(), "top-parent", 64, 1);
	check_process(_metadata, json, d, "top-d", 64, 1);
	o = sub_object(json, "processes_total");
	EXPECT_TRUE(o != NULL) TH_LOG("%s", json);
	EXPECT_EQ(1, num(o, "buffers"));
	EXPECT_EQ(64, num(o, "kib"));
	free(o);
	check_owner(_metadata, json, "top-shared", 64, 0);
	free(json);

	close(go[1]);
	EXPECT_EQ(d, waitpid(d, &status, 0));
	close(go[0]);
	munmap(p, 64 * KIB);
	close(fd);
	close(heap);
}

/*
 * --once: the three sections, one REGION per heap (two in the high-memory
 * boot, which adds rk-dma-heap-small), plain text, status 0.
 */
RK_TEST(once_prints_the_three_sections)
{
	int heap, fd, status, regions = 0;
	char *text, *p;

	heap = open(RK_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, heap);
	fd = rk_alloc(heap, 128 * KIB);
	ASSERT_LE(0, fd);
	text = run(TOP " --once", &status);
	ASSERT_TRUE(text != NULL);
	EXPECT_EQ(0, status);
	EXPECT_TRUE(!strncmp(text, "rk-dma-heap-top", 15)) TH_LOG("%s", text);
	EXPECT_TRUE(strstr(text, "\nPROCESSES") != NULL) TH_LOG("%s", text);
	EXPECT_TRUE(strstr(text, "\nOWNERS") != NULL) TH_LOG("%s", text);
	EXPECT_TRUE(strstr(text, "\nREGION: rk-dma-heap-cma") != NULL) TH_LOG("%s", text);
	for (p = strstr(text, "\nREGION: "); p; p = strstr(p + 1, "\nREGION: "))
		regions++;
	EXPECT_EQ(count_heaps(), regions) TH_LOG("%s", text);
	EXPECT_TRUE(strstr(text, "fragmentation ") != NULL) TH_LOG("%s", text);
	EXPECT_TRUE(strchr(text, '\033') == NULL) TH_LOG("escape codes in --once");
	free(text);
	close(fd);
	close(heap);
}

/* A normal user: one line on stderr, nothing on stdout, status 1. */
RK_TEST(normal_user_gets_one_line_and_status_1)
{
	int out[2], err[2], status;
	char buf[512];
	ssize_t n;
	pid_t pid;

	ASSERT_EQ(0, pipe(out));
	ASSERT_EQ(0, pipe(err));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(99);
		execlp(TOP, TOP, "--once", (char *)NULL);
		_exit(98);
	}
	close(out[1]);
	close(err[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(1, WEXITSTATUS(status));
	EXPECT_EQ(0, read(out[0], buf, sizeof(buf)));
	n = read(err[0], buf, sizeof(buf) - 1);
	ASSERT_LT(0, n);
	buf[n] = '\0';
	EXPECT_TRUE(strchr(buf, '\n') == buf + n - 1) TH_LOG("not one line: %s", buf);
	EXPECT_TRUE(strstr(buf, "root") != NULL) TH_LOG("%s", buf);
	close(out[0]);
	close(err[0]);
}

TEST_HARNESS_MAIN
