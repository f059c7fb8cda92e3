// SPDX-License-Identifier: GPL-2.0
/*
 * rk-dma-heap-top: who holds the memory of the rk_dma_heap heaps, and is
 * each heap's region full or only fragmented. One screen of three sections:
 *
 *   PROCESSES	per process, the dma-bufs of our heaps it holds by fd
 *		(/proc/PID/fdinfo: exp_name is the heap's name, ino the
 *		dma-buf's inode) or by mapping (/proc/PID/maps: the inode
 *		column of a "/dmabuf:" line), each buffer once per process
 *		however many fds and mappings it has of it. A buffer held by
 *		several processes (passed over a Unix socket, inherited over
 *		fork) counts in each of their rows, once in the total.
 *   OWNERS	per owner name of the info node (the allocating thread, a
 *		dma-buf name or a driver's name), and of that what is
 *		kernel-side: buffers no process holds (a driver's) and
 *		contiguous pages.
 *   REGION	per heap with a region, in the usage node's order (the
 *		order the heaps registered in): size, use, the recycling
 *		pool, the largest free block and the fragmentation (1 -
 *		largest free block / free), from the heap's lines of the
 *		usage node, and the region as a map from the heap's sections
 *		of alloc_bitmap and pool_bitmap: one character per block of
 *		pages.
 *
 * It reads /proc/rk_dma_heap/{rk-dma-heap-info,rk-dma-heap-usage,
 * alloc_bitmap,pool_bitmap} and every process's fds and maps: root only.
 * The usage node has a "heap NAME" line and a region line for each heap
 * with a region; the two bitmap nodes one section ("Total: N KiB" ...)
 * per such heap, in the same order, without the name. A region's base,
 * for the map's addresses and for telling pages held outside the heap
 * from our buffers, comes from the " Base:" line of its pool_bitmap
 * section; with modules before it (one heap, rk-dma-heap-cma), from the
 * kernel's CMA debugfs or the module's line in the kernel log; without
 * it neither is shown.
 * --json has the regions as "regions", one object per heap in that order,
 * and one of them again as "region" (rk-dma-heap-cma's, else the first
 * heap's), as before there were several.
 * It needs nothing but libc (the test guest's copy is linked static).
 *
 * Usage: rk-dma-heap-top [-d SECONDS] [--once | --json]
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define PROC_DIR	"/proc/rk_dma_heap/"
#define INFO_NODE	PROC_DIR "rk-dma-heap-info"
#define USAGE_NODE	PROC_DIR "rk-dma-heap-usage"
#define BITMAP_NODE	PROC_DIR "alloc_bitmap"
#define POOL_NODE	PROC_DIR "pool_bitmap"
#define HEAP_DEV_DIR	"/dev/rk_dma_heap"
#define DEFAULT_HEAP	"rk-dma-heap-cma"
#define CMA_DEBUGFS	"/sys/kernel/debug/cma"

/* the map: at most MAP_LINES lines of MAP_WIDTH characters */
#define MAP_WIDTH	64
#define MAP_LINES	8

#define NAME_LEN	64

static const char *prog = "rk-dma-heap-top";

/* ------------------------------------------------------------ helpers */

static void oom(void)
{
	fprintf(stderr, "%s: out of memory\n", prog);
	exit(1);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

/* Make the array @arr of @cap elements hold @n. */
#define GROW(arr, cap, n)						\
	do {								\
		if ((n) > (cap)) {					\
			(cap) = (cap) ? (cap) * 2 : 16;			\
			if ((cap) < (n))				\
				(cap) = (n);				\
			(arr) = xrealloc((arr), (cap) * sizeof(*(arr)));\
		}							\
	} while (0)

/* The whole of @path, NUL-terminated; NULL (errno set) if unreadable. */
static char *read_text(const char *path)
{
	size_t cap = 8192, n = 0;
	char *buf;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	buf = xrealloc(NULL, cap);
	for (;;) {
		if (cap - n < 4097)
			buf = xrealloc(buf, cap *= 2);
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += r;
	}
	close(fd);
	buf[n] = '\0';
	return buf;
}

/* The next line of *@p (NUL-terminated in place), or NULL at the end. */
static char *next_line(char **p)
{
	char *s = *p, *e;

	if (!s || !*s)
		return NULL;
	e = strchr(s, '\n');
	if (e) {
		*e = '\0';
		*p = e + 1;
	} else {
		*p = s + strlen(s);
	}
	return s;
}

static void copy_name(char *dst, const char *src, size_t len)
{
	snprintf(dst, NAME_LEN, "%.*s", (int)len, src);
}

/* ------------------------------------------------------------ records */

/* one allocation of the info node */
struct rec {
	char heap[NAME_LEN];
	char owner[NAME_LEN];
	unsigned long long ino;	/* 0: contiguous pages (no dma-buf) */
	unsigned long long start, size;
	unsigned int holders;	/* processes that hold it */
};

/* a dma-buf of our heaps that processes hold: a record, or one newer */
struct buf {
	unsigned long long ino, size;
	long rec;		/* index in the records, or -1 */
	unsigned int holders;
	int seen_by;		/* the last process found holding it */
};

struct proc {
	int pid;
	char comm[NAME_LEN];
	unsigned long buffers, shared;
	unsigned long long bytes;
	size_t first, n;	/* its entries in snap.held */
};

struct owner {
	char name[NAME_LEN];
	unsigned long buffers, kbuffers;
	unsigned long long bytes, kbytes;
};

/* a heap's region: its usage line, its bitmap sections */
struct region {
	char heap[NAME_LEN];	/* "": a module without the usage node */
	unsigned long long size_kib, used_kib, free_kib, largest_kib;
	unsigned long long pooled_kib, outside_kib;
	int have_base;
	unsigned long long base;
	unsigned long npages, page;
	int have_pool_map;
	char *map;
	unsigned long block_pages, nblocks;
};

struct snap {
	char (*heaps)[NAME_LEN];
	size_t nheaps, cap_heaps;
	struct rec *recs;
	size_t nrecs, cap_recs;
	struct buf *bufs;
	size_t nbufs, cap_bufs;
	size_t *hash;		/* index + 1 in bufs by inode; 0: empty */
	size_t hash_size;	/* a power of two, over twice nbufs */
	size_t *held;		/* per process: indexes in bufs */
	size_t nheld, cap_held;
	struct proc *procs;
	size_t nprocs, cap_procs;
	struct owner *owners;
	size_t nowners, cap_owners;
	struct region *regions;	/* in the usage node's order */
	size_t nregions, cap_regions;
	unsigned long long proc_bytes, kernel_bytes, total_bytes;
	unsigned long proc_buffers, kernel_buffers;
};

static void snap_free(struct snap *s)
{
	size_t i;

	free(s->heaps);
	free(s->recs);
	free(s->bufs);
	free(s->hash);
	free(s->held);
	free(s->procs);
	free(s->owners);
	for (i = 0; i < s->nregions; i++)
		free(s->regions[i].map);
	free(s->regions);
	memset(s, 0, sizeof(*s));
}

static void add_heap(struct snap *s, const char *name, size_t len)
{
	size_t i;

	if (!len || len >= NAME_LEN)
		return;
	for (i = 0; i < s->nheaps; i++)
		if (strlen(s->heaps[i]) == len && !memcmp(s->heaps[i], name, len))
			return;
	GROW(s->heaps, s->cap_heaps, s->nheaps + 1);
	copy_name(s->heaps[s->nheaps++], name, len);
}

static int is_our_heap(struct snap *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nheaps; i++)
		if (!strcmp(s->heaps[i], name))
			return 1;
	return 0;
}

/* Our heaps: the nodes of /dev/rk_dma_heap, the default name. */
static void find_heaps(struct snap *s)
{
	DIR *d = opendir(HEAP_DEV_DIR);
	struct dirent *e;

	add_heap(s, DEFAULT_HEAP, strlen(DEFAULT_HEAP));
	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			add_heap(s, e->d_name, strlen(e->d_name));
	closedir(d);
}

/*
 * The info node: blocks of
 *   dma-heap:<HEAP> -dmabuf i_ino = INO   (or: dma-heap:<HEAP> -non dmabuf)
 *     Alloc by (OWNER               ) [0xSTART-0xEND] 0xSIZE (N KiB)
 */
static void parse_info(struct snap *s, char *text)
{
	char *p = text, *line, *h, *e, *o;
	unsigned long long end;
	struct rec *r = NULL;

	while ((line = next_line(&p))) {
		if (!strncmp(line, "dma-heap:<", 10)) {
			h = line + 10;
			e = strstr(h, "> -");
			if (!e)
				continue;
			GROW(s->recs, s->cap_recs, s->nrecs + 1);
			r = &s->recs[s->nrecs++];
			memset(r, 0, sizeof(*r));
			copy_name(r->heap, h, e - h);
			add_heap(s, h, e - h);
			o = strstr(e, "i_ino = ");
			if (!strncmp(e, "> -dmabuf", 9) && o)
				r->ino = strtoull(o + 8, NULL, 10);
		} else if (r && !strncmp(line, "  Alloc by (", 12)) {
			o = line + 12;
			e = strstr(o, ") [0x");
			/* the owner may hold ") [0x" itself: take the last */
			while (e && strstr(e + 1, ") [0x"))
				e = strstr(e + 1, ") [0x");
			if (!e)
				continue;
			h = e;
			while (h > o && h[-1] == ' ')
				h--;
			copy_name(r->owner, o, h - o);
			if (sscanf(e, ") [0x%llx-0x%llx] 0x%llx",
				   &r->start, &end, &r->size) != 3)
				r->size = 0;
			r = NULL;
		}
	}
}

/* ----------------------------------------------------- dma-buf table */

/*
 * The dma-bufs by inode, in an open-addressing hash table: the info node
 * may list thousands, and every fd and mapping of every process is looked
 * up.
 */
static size_t *hash_slot(struct snap *s, unsigned long long ino)
{
	size_t mask = s->hash_size - 1, i = (size_t)(ino * 0x9e3779b97f4a7c15ULL) & mask;

	while (s->hash[i] && s->bufs[s->hash[i] - 1].ino != ino)
		i = (i + 1) & mask;
	return &s->hash[i];
}

static long find_buf(struct snap *s, unsigned long long ino)
{
	size_t slot = s->hash_size ? *hash_slot(s, ino) : 0;

	return slot ? (long)slot - 1 : -1;
}

/* A new entry of the table (a known inode keeps its first entry). */
static long add_buf(struct snap *s, unsigned long long ino,
		    unsigned long long size, long rec)
{
	size_t i, *slot;

	if (2 * (s->nbufs + 1) > s->hash_size) {
		free(s->hash);
		s->hash_size = s->hash_size ? s->hash_size * 2 : 256;
		s->hash = calloc(s->hash_size, sizeof(*s->hash));
		if (!s->hash)
			oom();
		for (i = 0; i < s->nbufs; i++)
			*hash_slot(s, s->bufs[i].ino) = i + 1;
	}
	slot = hash_slot(s, ino);
	if (*slot)
		return (long)*slot - 1;
	GROW(s->bufs, s->cap_bufs, s->nbufs + 1);
	s->bufs[s->nbufs] = (struct buf){ .ino = ino, .size = size, .rec = rec };
	*slot = ++s->nbufs;
	return (long)s->nbufs - 1;
}

/* The records' dma-bufs are the table's first entries. */
static void bufs_from_recs(struct snap *s)
{
	size_t i;

	for (i = 0; i < s->nrecs; i++)
		if (s->recs[i].ino)
			add_buf(s, s->recs[i].ino, s->recs[i].size, (long)i);
}

/* --------------------------------------------------------- processes */

static int is_dmabuf_path(const char *path)
{
	return !strncmp(path, "/dmabuf:", 8) ||
	       !strncmp(path, "anon_inode:dmabuf", 17);
}

/* Note that the process being scanned holds @ino (once). */
static void hold(struct snap *s, struct proc *pr, unsigned long long ino,
		 unsigned long long size)
{
	/* not in the table: ours by its exp_name, newer than the info node */
	long b = add_buf(s, ino, size, -1);

	if (s->bufs[b].seen_by == pr->pid)
		return;
	s->bufs[b].seen_by = pr->pid;
	GROW(s->held, s->cap_held, s->nheld + 1);
	s->held[s->nheld++] = b;
	pr->n++;
}

/*
 * The dma-bufs of our heaps that @pid holds by fd. The fdinfo of a dma-buf
 * names its exporter (exp_name) and from 5.14 on its inode (ino); before
 * that the inode is the fd's st_ino.
 */
static void scan_fds(struct snap *s, struct proc *pr)
{
	char path[64], link[128], *text, *p, *line;
	unsigned long long ino, size;
	char exp[NAME_LEN];
	struct dirent *e;
	struct stat st;
	ssize_t n;
	int fd;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pr->pid);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		fd = atoi(e->d_name);
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pr->pid, fd);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (!is_dmabuf_path(link))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pr->pid, fd);
		text = read_text(path);
		if (!text)
			continue;
		ino = 0;
		size = 0;
		exp[0] = '\0';
		p = text;
		while ((line = next_line(&p))) {
			if (!strncmp(line, "exp_name:", 9)) {
				line += 9;
				while (*line == '\t' || *line == ' ')
					line++;
				copy_name(exp, line, strlen(line));
			} else if (!strncmp(line, "ino:", 4)) {
				ino = strtoull(line + 4, NULL, 10);
			} else if (!strncmp(line, "size:", 5)) {
				size = strtoull(line + 5, NULL, 10);
			}
		}
		free(text);
		if (!ino) {
			snprintf(path, sizeof(path), "/proc/%d/fd/%d",
				 pr->pid, fd);
			if (stat(path, &st))
				continue;
			ino = st.st_ino;
		}
		/* without exp_name (never seen), a record's inode decides */
		if (exp[0] ? is_our_heap(s, exp) : find_buf(s, ino) >= 0)
			hold(s, pr, ino, size);
	}
	closedir(d);
}

/*
 * The dma-bufs of our heaps that @pid has mapped: a maps line of a
 * dma-buf shows its inode in the fifth column and a "/dmabuf:NAME" path.
 * The records tell ours from other exporters' (maps have no exp_name).
 */
static void scan_maps(struct snap *s, struct proc *pr)
{
	char path[64], *text, *p, *line;
	unsigned long long ino;
	int off;
	long b;

	snprintf(path, sizeof(path), "/proc/%d/maps", pr->pid);
	text = read_text(path);
	if (!text)
		return;
	p = text;
	while ((line = next_line(&p))) {
		off = 0;
		if (sscanf(line, "%*s %*s %*s %*s %llu %n", &ino, &off) != 1 ||
		    !off || !is_dmabuf_path(line + off))
			continue;
		b = find_buf(s, ino);
		if (b >= 0)
			hold(s, pr, ino, s->bufs[b].size);
	}
	free(text);
}

static void scan_procs(struct snap *s)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	struct proc *pr;
	char path[64], *comm;
	size_t i;
	int pid;

	if (!d)
		return;
	while ((e = readdir(d))) {
		pid = atoi(e->d_name);
		if (pid <= 0)
			continue;
		GROW(s->procs, s->cap_procs, s->nprocs + 1);
		pr = &s->procs[s->nprocs];
		memset(pr, 0, sizeof(*pr));
		pr->pid = pid;
		pr->first = s->nheld;
		scan_fds(s, pr);
		scan_maps(s, pr);
		if (!pr->n)
			continue;	/* none of ours: no row */
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		comm = read_text(path);
		if (comm) {
			comm[strcspn(comm, "\n")] = '\0';
			copy_name(pr->comm, comm, strlen(comm));
			free(comm);
		} else {
			strcpy(pr->comm, "?");
		}
		for (i = pr->first; i < pr->first + pr->n; i++)
			s->bufs[s->held[i]].holders++;
		s->nprocs++;
	}
	closedir(d);

	for (pr = s->procs; pr < s->procs + s->nprocs; pr++)
		for (i = pr->first; i < pr->first + pr->n; i++) {
			struct buf *b = &s->bufs[s->held[i]];

			pr->buffers++;
			pr->bytes += b->size;
			pr->shared += b->holders > 1;
		}
	for (i = 0; i < s->nbufs; i++) {
		if (s->bufs[i].rec >= 0)
			s->recs[s->bufs[i].rec].holders = s->bufs[i].holders;
		if (s->bufs[i].holders) {
			s->proc_buffers++;
			s->proc_bytes += s->bufs[i].size;
		}
	}
}

static int cmp_proc(const void *a, const void *b)
{
	const struct proc *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return x->pid - y->pid;
}

/* ------------------------------------------------------------ owners */

static int cmp_rec_owner(const void *a, const void *b)
{
	const struct rec *const *x = a, *const *y = b;

	return strcmp((*x)->owner, (*y)->owner);
}

/* The records by owner: sorted by name, then merged. */
static void sum_owners(struct snap *s)
{
	struct owner *o = NULL;
	struct rec *r, **by;
	size_t i;

	by = xrealloc(NULL, s->nrecs * sizeof(*by));
	for (i = 0; i < s->nrecs; i++)
		by[i] = &s->recs[i];
	qsort(by, s->nrecs, sizeof(*by), cmp_rec_owner);
	for (i = 0; i < s->nrecs; i++) {
		r = by[i];
		if (!o || strcmp(o->name, r->owner)) {
			GROW(s->owners, s->cap_owners, s->nowners + 1);
			o = &s->owners[s->nowners++];
			memset(o, 0, sizeof(*o));
			strcpy(o->name, r->owner);
		}
		o->buffers++;
		o->bytes += r->size;
		s->total_bytes += r->size;
		if (!r->holders) {
			o->kbuffers++;
			o->kbytes += r->size;
			s->kernel_buffers++;
			s->kernel_bytes += r->size;
		}
	}
	free(by);
}

static int cmp_owner(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* ------------------------------------------------------------ region */

static struct region *add_region(struct snap *s)
{
	struct region *rg;

	GROW(s->regions, s->cap_regions, s->nregions + 1);
	rg = &s->regions[s->nregions++];
	memset(rg, 0, sizeof(*rg));
	return rg;
}

/*
 * The usage node: for each heap, at the start or after a blank line,
 *   heap NAME
 *   region N KiB, used N KiB, free N KiB, largest free block N KiB,
 *     pooled N KiB[, held outside the heap N KiB]	(a heap with a region)
 * then its owner rows and a blank line. A region per region line, in the
 * node's order. The names are of our heaps too: a buffer newer than the
 * info node, of a heap without a node in /dev, is ours by its exp_name.
 */
static void parse_usage(struct snap *s, char *text)
{
	char *p = text, *line, *q, heap[NAME_LEN] = "";
	unsigned long long v[6];
	int start = 1, named = 0;
	struct region *rg;

	while ((line = next_line(&p))) {
		if (start && !strncmp(line, "heap ", 5)) {
			copy_name(heap, line + 5, strlen(line + 5));
			add_heap(s, line + 5, strlen(line + 5));
			start = 0;
			named = 1;
			continue;
		}
		start = !line[0];
		memset(v, 0, sizeof(v));
		/* a region line names no heap: the line before it does */
		if (sscanf(line, "region %llu KiB, used %llu KiB, free %llu KiB, largest free block %llu KiB, pooled %llu KiB",
			   &v[0], &v[1], &v[2], &v[3], &v[4]) < 4) {
			named = 0;
			continue;
		}
		q = strstr(line, ", held outside the heap ");
		if (q)
			sscanf(q, ", held outside the heap %llu KiB", &v[5]);
		rg = add_region(s);
		if (named)
			strcpy(rg->heap, heap);
		rg->size_kib = v[0];
		rg->used_kib = v[1];
		rg->free_kib = v[2];
		rg->largest_kib = v[3];
		rg->pooled_kib = v[4];
		rg->outside_kib = v[5];
		named = 0;
	}
}

/*
 * The sections of a bitmap node, one per heap with a region: where each
 * "Total: N KiB" line starts, in *@starts (free()). Returns how many.
 */
static size_t bitmap_sections(char *text, char ***starts)
{
	size_t n = 0, cap = 0;
	char *p = text;

	*starts = NULL;
	while (p && *p) {
		if (!strncmp(p, "Total: ", 7)) {
			GROW(*starts, cap, n + 1);
			(*starts)[n++] = p;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return n;
}

/* The size a bitmap section gives its region, 0 if none. */
static unsigned long long section_kib(const char *sec)
{
	unsigned long long kib;

	if (!sec || sscanf(sec, "Total: %llu KiB", &kib) != 1)
		return 0;
	return kib;
}

/*
 * A section of a bitmap node: "Total: N KiB", a line or two more (" Base:"
 * in pool_bitmap), a blank line, then 32-bit hex words, bit i of word w
 * for page w*32+i, up to the next section's "Total:" or the end.
 * Returns the number of pages, 0 if none; *@bits (free()) one byte per
 * page.
 */
static unsigned long parse_bitmap(const char *sec, unsigned long page,
				  unsigned char **bits)
{
	unsigned long long kib = section_kib(sec);
	unsigned long npages, w = 0, i;
	const char *p;
	char *end;
	unsigned long word;

	*bits = NULL;
	npages = kib * 1024 / page;
	p = sec ? strstr(sec, "\n\n") : NULL;
	if (!npages || !p)
		return 0;
	p += 2;
	*bits = calloc(npages, 1);
	if (!*bits)
		return 0;
	while (w * 32 < npages) {
		while (*p == ' ' || *p == '\n')
			p++;
		if (!isxdigit((unsigned char)*p))
			break;		/* the next section, or the end */
		word = strtoul(p, &end, 16);
		p = end;
		for (i = 0; i < 32 && w * 32 + i < npages; i++)
			(*bits)[w * 32 + i] = (word >> i) & 1;
		w++;
	}
	return npages;
}

/* Whether the allocation @r lies in (modules without names: may lie in) @rg. */
static int rec_in_region(const struct rec *r, const struct region *rg)
{
	return !rg->heap[0] || !strcmp(r->heap, rg->heap);
}

/*
 * The region's base from the CMA debugfs area of its size that holds its
 * buffers. Returns 1 if there is exactly one such, else 0.
 */
static int base_from_debugfs(struct snap *s, struct region *rg,
			     unsigned long long *base)
{
	char path[300], *t;
	unsigned long long count, pfn, b;
	int found = 0, have;
	struct dirent *e;
	struct rec *r;
	DIR *d = opendir(CMA_DEBUGFS);

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), CMA_DEBUGFS "/%s/count", e->d_name);
		t = read_text(path);
		count = t ? strtoull(t, NULL, 10) : 0;
		free(t);
		snprintf(path, sizeof(path), CMA_DEBUGFS "/%s/base_pfn",
			 e->d_name);
		t = read_text(path);
		have = t != NULL;
		pfn = t ? strtoull(t, NULL, 10) : 0;
		free(t);
		if (!have || count != rg->npages)
			continue;
		b = pfn * rg->page;
		for (r = s->recs; r < s->recs + s->nrecs; r++)
			if (rec_in_region(r, rg) &&
			    (r->start < b || r->start + r->size > b + rg->size_kib * 1024))
				break;
		if (r < s->recs + s->nrecs)
			continue;
		/* two areas of that size and no buffer to tell: unknown */
		if (found && b != *base) {
			closedir(d);
			return 0;
		}
		*base = b;
		found = 1;
	}
	closedir(d);
	return found;
}

/*
 * The module's registration line in the kernel log:
 * "...: heap NAME: N KiB at 0xBASE, allocated with ..."
 */
static int base_from_klog(struct region *rg, unsigned long long *base)
{
	char key[NAME_LEN + 16], *buf, *p;
	unsigned long long kib, b;
	int size, n, found = 0;

	size = klogctl(10, NULL, 0);	/* SYSLOG_ACTION_SIZE_BUFFER */
	if (size <= 0)
		return 0;
	buf = xrealloc(NULL, size + 1);
	n = klogctl(3, buf, size);	/* SYSLOG_ACTION_READ_ALL */
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	snprintf(key, sizeof(key), "heap %s: ",
		 rg->heap[0] ? rg->heap : DEFAULT_HEAP);
	for (p = strstr(buf, key); p; p = strstr(p + 1, key))
		if (sscanf(p + strlen(key), "%llu KiB at 0x%llx", &kib, &b) == 2 &&
		    kib == rg->size_kib) {
			*base = b;
			found = 1;
		}
	free(buf);
	return found;
}

/* The " Base:" line of the region's pool_bitmap section (newer modules). */
static int base_from_pool_section(const char *sec, unsigned long long *base)
{
	const char *blank, *p;

	if (!sec)
		return 0;
	blank = strstr(sec, "\n\n");
	p = strstr(sec, "\n Base: 0x");
	return p && (!blank || p < blank) &&
	       sscanf(p, "\n Base: 0x%llx", base) == 1;
}

/*
 * The base: from the region's pool_bitmap section; else, for the default
 * heap (the only one of modules without the Base line), looked for once
 * per region size (a region does not move while the module is loaded).
 */
static unsigned long long cached_base, cached_size;
static int cached_have, cached_tried;

static void find_base(struct snap *s, struct region *rg, const char *pool_sec)
{
	unsigned long long b = 0;

	if (base_from_pool_section(pool_sec, &b)) {
		rg->base = b;
		rg->have_base = 1;
		return;
	}
	if (rg->heap[0] && strcmp(rg->heap, DEFAULT_HEAP))
		return;
	if (!cached_tried || cached_size != rg->size_kib) {
		cached_tried = 1;
		cached_size = rg->size_kib;
		cached_have = base_from_debugfs(s, rg, &b) ||
			      base_from_klog(rg, &b);
		cached_base = b;
	}
	rg->base = cached_base;
	rg->have_base = cached_have;
}

/*
 * The map of @rg from its sections of alloc_bitmap and pool_bitmap (NULL:
 * none): one character per block of block_pages pages (a power of two,
 * so that MAP_WIDTH * MAP_LINES characters cover the region):
 *   '#' every page taken (in a buffer, or held outside the heap)
 *   'o' every page taken, none of them in our buffers (held outside)
 *   '+' some pages taken, some not: partly used
 *   'p' no page taken, some kept by the recycling pool
 *   '.' every page free
 */
static void build_map(struct snap *s, struct region *rg, const char *bitmap_sec,
		      const char *pool_sec, int figures)
{
	unsigned char *used, *pooled = NULL, *ours = NULL;
	unsigned long n, i, j, first, last, nb, u, pl, o;
	unsigned long long a, e;
	struct rec *r;

	rg->page = sysconf(_SC_PAGESIZE);
	n = parse_bitmap(bitmap_sec, rg->page, &used);
	if (!n) {
		free(used);
		return;
	}
	rg->npages = n;
	if (figures) {
		/* no usage line: what the bitmap shows */
		unsigned long long t = 0;

		for (i = 0; i < n; i++)
			t += used[i];
		rg->size_kib = (unsigned long long)n * rg->page / 1024;
		rg->used_kib = t * rg->page / 1024;
		rg->free_kib = rg->size_kib - rg->used_kib;
	}
	if (pool_sec && parse_bitmap(pool_sec, rg->page, &pooled) == n)
		rg->have_pool_map = 1;

	find_base(s, rg, pool_sec);
	if (rg->have_base) {
		ours = calloc(n, 1);
		for (r = s->recs; ours && r < s->recs + s->nrecs; r++) {
			if (r->start < rg->base || !r->size ||
			    !rec_in_region(r, rg))
				continue;
			a = (r->start - rg->base) / rg->page;
			e = (r->start - rg->base + r->size - 1) / rg->page;
			for (; a <= e && a < n; a++)
				ours[a] = 1;
		}
	}

	rg->block_pages = 1;
	while ((n + rg->block_pages - 1) / rg->block_pages > MAP_WIDTH * MAP_LINES)
		rg->block_pages *= 2;
	nb = (n + rg->block_pages - 1) / rg->block_pages;
	rg->nblocks = nb;
	rg->map = xrealloc(NULL, nb + 1);
	for (i = 0; i < nb; i++) {
		first = i * rg->block_pages;
		last = first + rg->block_pages;
		if (last > n)
			last = n;
		u = pl = o = 0;
		for (j = first; j < last; j++) {
			if (used[j]) {
				u++;
				o += ours && !ours[j];
			} else if (pooled && rg->have_pool_map && pooled[j]) {
				pl++;
			}
		}
		if (u == last - first)
			rg->map[i] = (ours && o == u) ? 'o' : '#';
		else if (u)
			rg->map[i] = '+';
		else if (pl)
			rg->map[i] = 'p';
		else
			rg->map[i] = '.';
	}
	rg->map[nb] = '\0';
	free(ours);
	free(pooled);
	free(used);
}

/*
 * The maps of the regions: the bitmap nodes have a section for each heap
 * with a region, in the usage node's order. A region whose size is not
 * the next section's has none (it gets no map, the section goes to the
 * next region). Without region lines (a module before the usage node),
 * a region per section, with the figures the bitmap gives.
 */
static void find_regions(struct snap *s, char *bitmap, char *pool)
{
	char **bsec, **psec = NULL;
	size_t nb, np = 0, i, j;
	unsigned long long kib;
	int figures = 0;
	const char *ps;

	nb = bitmap_sections(bitmap, &bsec);
	if (pool)
		np = bitmap_sections(pool, &psec);
	if (!s->nregions) {
		for (j = 0; j < nb; j++)
			add_region(s);
		figures = 1;
	}
	for (i = 0, j = 0; i < s->nregions && j < nb; i++) {
		kib = section_kib(bsec[j]);
		if (!kib || (!figures && kib != s->regions[i].size_kib))
			continue;
		ps = j < np && section_kib(psec[j]) == kib ? psec[j] : NULL;
		build_map(s, &s->regions[i], bsec[j], ps, figures);
		j++;
	}
	/* bitmap sections that gave no map: no regions */
	if (figures) {
		for (i = 0, j = 0; i < s->nregions; i++)
			if (s->regions[i].map)
				s->regions[j++] = s->regions[i];
		s->nregions = j;
	}
	free(bsec);
	free(psec);
}

/* The region --json shows as "region": rk-dma-heap-cma's, else the first. */
static struct region *main_region(struct snap *s)
{
	size_t i;

	for (i = 0; i < s->nregions; i++)
		if (!strcmp(s->regions[i].heap, DEFAULT_HEAP))
			return &s->regions[i];
	return s->nregions ? &s->regions[0] : NULL;
}

/* 1 - largest free block / free, in per mille */
static unsigned int frag_permille(const struct region *rg)
{
	if (!rg->free_kib || rg->largest_kib >= rg->free_kib)
		return 0;
	return (unsigned int)(1000 - (rg->largest_kib * 1000 + rg->free_kib / 2) /
			      rg->free_kib);
}

/* ---------------------------------------------------------- snapshot */

/* Returns 0, or 1 after a line on stderr. */
static int take_snapshot(struct snap *s)
{
	char *info, *usage, *bitmap, *pool;

	memset(s, 0, sizeof(*s));
	info = read_text(INFO_NODE);
	if (!info) {
		if (errno == ENOENT)
			fprintf(stderr, "%s: %s: no such node: rk_dma_heap is not loaded\n",
				prog, INFO_NODE);
		else
			fprintf(stderr, "%s: %s: %s\n", prog, INFO_NODE,
				strerror(errno));
		return 1;
	}
	bitmap = read_text(BITMAP_NODE);
	if (!bitmap) {
		fprintf(stderr, "%s: %s: %s\n", prog, BITMAP_NODE,
			strerror(errno));
		free(info);
		return 1;
	}
	usage = read_text(USAGE_NODE);
	pool = read_text(POOL_NODE);	/* newer modules only */

	find_heaps(s);
	parse_info(s, info);
	if (usage)
		parse_usage(s, usage);
	bufs_from_recs(s);
	scan_procs(s);
	sum_owners(s);
	find_regions(s, bitmap, pool);

	qsort(s->procs, s->nprocs, sizeof(*s->procs), cmp_proc);
	qsort(s->owners, s->nowners, sizeof(*s->owners), cmp_owner);
	free(info);
	free(usage);
	free(bitmap);
	free(pool);
	return 0;
}

/* ------------------------------------------------------------ output */

static unsigned long long kib(unsigned long long bytes)
{
	return bytes >> 10;
}

/* A REGION section: the region's figures and its map. */
static void print_region(FILE *f, const struct region *rg)
{
	unsigned long long block_kib, off;
	unsigned long i, j;
	unsigned int fr = frag_permille(rg);

	fprintf(f, "REGION: %s, %llu KiB", rg->heap[0] ? rg->heap : "?",
		rg->size_kib);
	if (rg->have_base)
		fprintf(f, " at 0x%08llx", rg->base);
	fprintf(f, "\n  used %llu KiB, free %llu KiB (pooled %llu KiB), largest free block %llu KiB\n"
		"  fragmentation %u.%u%% (1 - largest free block / free)",
		rg->used_kib, rg->free_kib, rg->pooled_kib, rg->largest_kib,
		fr / 10, fr % 10);
	if (rg->outside_kib)
		fprintf(f, ", held outside the heap %llu KiB", rg->outside_kib);
	fputc('\n', f);
	if (!rg->map) {
		fprintf(f, "  (no section of alloc_bitmap for this heap: no map)\n");
		return;
	}
	block_kib = (unsigned long long)rg->block_pages * rg->page / 1024;
	fprintf(f, "  map, one character per %llu KiB (%lu pages): # used  + partly used\n"
		"  p pooled, none used  . free%s\n",
		block_kib, rg->block_pages,
		rg->have_base ? "  o held outside the heap" : "");
	if (!rg->have_pool_map)
		fprintf(f, "  (no pool_bitmap in this module: pooled pages show as free)\n");
	for (i = 0; i < rg->nblocks; i += MAP_WIDTH) {
		off = i * block_kib;
		if (rg->have_base)
			fprintf(f, "  0x%08llx ", rg->base + off * 1024);
		else if (off % 1024)
			fprintf(f, "  %7lluK ", off);
		else
			fprintf(f, "  %7lluM ", off / 1024);
		for (j = i; j < i + MAP_WIDTH && j < rg->nblocks; j++)
			fputc(rg->map[j], f);
		fputc('\n', f);
	}
}

static void print_text(FILE *f, struct snap *s)
{
	struct utsname u;
	size_t i;

	uname(&u);
	fprintf(f, "rk-dma-heap-top on Linux %s\n\n", u.release);

	fprintf(f, "PROCESSES: dma-bufs of our heaps held by fd or by mapping (a buffer held by\n"
		"several processes counts in each row, SHARED says how many of the row's are)\n");
	fprintf(f, "%7s  %-16s %7s %10s %7s\n", "PID", "COMMAND", "BUFFERS",
		"KiB", "SHARED");
	for (i = 0; i < s->nprocs; i++)
		fprintf(f, "%7d  %-16s %7lu %10llu %7lu\n", s->procs[i].pid,
			s->procs[i].comm, s->procs[i].buffers,
			kib(s->procs[i].bytes), s->procs[i].shared);
	fprintf(f, "%7s  %-16s %7lu %10llu  (each buffer once)\n\n", "", "total",
		s->proc_buffers, kib(s->proc_bytes));

	fprintf(f, "OWNERS: allocations of the info node; KERNEL-SIDE: held by no process\n"
		"(drivers' buffers and contiguous pages)\n");
	fprintf(f, "%-24s %7s %10s  %7s %10s\n", "OWNER", "BUFFERS", "KiB",
		"KERNEL", "KiB");
	for (i = 0; i < s->nowners; i++)
		fprintf(f, "%-24s %7lu %10llu  %7lu %10llu\n",
			s->owners[i].name, s->owners[i].buffers,
			kib(s->owners[i].bytes), s->owners[i].kbuffers,
			kib(s->owners[i].kbytes));
	fprintf(f, "%-24s %7zu %10llu  %7lu %10llu\n", "total", s->nrecs,
		kib(s->total_bytes), s->kernel_buffers, kib(s->kernel_bytes));

	if (!s->nregions)
		fprintf(f, "\nREGION: none (no heap with a region)\n");
	for (i = 0; i < s->nregions; i++) {
		fputc('\n', f);
		print_region(f, &s->regions[i]);
	}
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/*
 * A region as a JSON object, its members indented by @indent spaces (the
 * braces by two fewer); without a map (no bitmap section for it),
 * block_kib and map are null.
 */
static void json_region(FILE *f, const struct region *rg, int indent)
{
	unsigned int fr = frag_permille(rg);

	fprintf(f, "{\n%*s\"heap\": ", indent, "");
	json_str(f, rg->heap);
	if (rg->have_base)
		fprintf(f, ",\n%*s\"base\": \"0x%llx\"", indent, "", rg->base);
	else
		fprintf(f, ",\n%*s\"base\": null", indent, "");
	fprintf(f, ",\n%*s\"size_kib\": %llu", indent, "", rg->size_kib);
	fprintf(f, ",\n%*s\"used_kib\": %llu", indent, "", rg->used_kib);
	fprintf(f, ",\n%*s\"free_kib\": %llu", indent, "", rg->free_kib);
	fprintf(f, ",\n%*s\"pooled_kib\": %llu", indent, "", rg->pooled_kib);
	fprintf(f, ",\n%*s\"largest_free_kib\": %llu", indent, "",
		rg->largest_kib);
	fprintf(f, ",\n%*s\"outside_kib\": %llu", indent, "", rg->outside_kib);
	fprintf(f, ",\n%*s\"fragmentation_pct\": %u.%u", indent, "",
		fr / 10, fr % 10);
	if (rg->map)
		fprintf(f, ",\n%*s\"block_kib\": %llu", indent, "",
			(unsigned long long)rg->block_pages * rg->page / 1024);
	else
		fprintf(f, ",\n%*s\"block_kib\": null", indent, "");
	fprintf(f, ",\n%*s\"pool_map\": %s", indent, "",
		rg->have_pool_map ? "true" : "false");
	if (rg->map)
		fprintf(f, ",\n%*s\"map\": \"%s\"", indent, "", rg->map);
	else
		fprintf(f, ",\n%*s\"map\": null", indent, "");
	fprintf(f, "\n%*s}", indent - 2, "");
}

static void print_json(FILE *f, struct snap *s)
{
	struct region *rg = main_region(s);
	struct utsname u;
	size_t i;

	uname(&u);
	fprintf(f, "{\n  \"kernel\": ");
	json_str(f, u.release);
	fprintf(f, ",\n  \"processes\": [");
	for (i = 0; i < s->nprocs; i++) {
		fprintf(f, "%s\n    {\"pid\": %d, \"command\": ", i ? "," : "",
			s->procs[i].pid);
		json_str(f, s->procs[i].comm);
		fprintf(f, ", \"buffers\": %lu, \"kib\": %llu, \"shared\": %lu}",
			s->procs[i].buffers, kib(s->procs[i].bytes),
			s->procs[i].shared);
	}
	fprintf(f, "\n  ],\n  \"processes_total\": {\"buffers\": %lu, \"kib\": %llu},\n",
		s->proc_buffers, kib(s->proc_bytes));
	fprintf(f, "  \"owners\": [");
	for (i = 0; i < s->nowners; i++) {
		fprintf(f, "%s\n    {\"owner\": ", i ? "," : "");
		json_str(f, s->owners[i].name);
		fprintf(f, ", \"buffers\": %lu, \"kib\": %llu, \"kernel_buffers\": %lu, \"kernel_kib\": %llu}",
			s->owners[i].buffers, kib(s->owners[i].bytes),
			s->owners[i].kbuffers, kib(s->owners[i].kbytes));
	}
	fprintf(f, "\n  ],\n  \"owners_total\": {\"buffers\": %zu, \"kib\": %llu, \"kernel_buffers\": %lu, \"kernel_kib\": %llu},\n",
		s->nrecs, kib(s->total_bytes), s->kernel_buffers,
		kib(s->kernel_bytes));
	fprintf(f, "  \"region\": ");
	if (rg)
		json_region(f, rg, 4);
	else
		fprintf(f, "null");
	fprintf(f, ",\n  \"regions\": [");
	for (i = 0; i < s->nregions; i++) {
		fprintf(f, "%s\n    ", i ? "," : "");
		json_region(f, &s->regions[i], 6);
	}
	fprintf(f, "%s]\n}\n", s->nregions ? "\n  " : "");
}

/* ---------------------------------------------------------------- main */

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s [-d SECONDS] [--once | --json]\n"
		"Who holds the memory of the rk_dma_heap heaps, per process and per owner,\n"
		"and each heap's region: use, fragmentation and map. Refreshes every SECONDS\n"
		"(default 1) until Ctrl-C; --once prints one snapshot, --json one JSON object.\n"
		"Needs root.\n", prog);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "delay", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	int c, once = 0, json = 0;
	double delay = 1.0;
	struct timespec ts;
	struct snap s;
	char *out;
	size_t len;
	FILE *f;
	char *end;

	while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			once = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'd':
			delay = strtod(optarg, &end);
			if (*end || !(delay > 0)) {
				fprintf(stderr, "%s: -d wants a number of seconds above 0\n",
					prog);
				return 1;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 1;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "%s: needs root (it reads %s and every process's fds)\n",
			prog, INFO_NODE);
		return 1;
	}

	for (;;) {
		if (take_snapshot(&s))
			return 1;
		f = open_memstream(&out, &len);
		if (!f) {
			fprintf(stderr, "%s: out of memory\n", prog);
			return 1;
		}
		if (json)
			print_json(f, &s);
		else
			print_text(f, &s);
		fclose(f);
		snap_free(&s);
		/* the whole screen at once: no flicker */
		if (!json && !once)
			fputs("\033[H\033[2J", stdout);
		fwrite(out, 1, len, stdout);
		fflush(stdout);
		free(out);
		if (json || once)
			return 0;
		ts.tv_sec = (time_t)delay;
		ts.tv_nsec = (long)((delay - (double)ts.tv_sec) * 1e9);
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
}
