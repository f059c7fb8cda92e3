// SPDX-License-Identifier: GPL-2.0
/*
 * The debug nodes of rk_dma_heap, in the formats of the Rockchip allocator
 * guide:
 *
 *   /proc/rk_dma_heap/rk-dma-heap-info	every live allocation (0400)
 *   /proc/rk_dma_heap/dma_heap_info	the same, under the BSP code's name
 *   /proc/rk_dma_heap/alloc_bitmap	region size, use and bitmap (0400)
 *   /proc/rk_dma_heap/pool_bitmap	the same for the pool's pages (0400)
 *   /proc/rk_dma_heap/rk-dma-heap-usage use per owner, free space (0444;
 *					other users' rows summed up)
 *   /sys/kernel/rk_dma_heap/rk_total_pools_kb
 */
#define pr_fmt(fmt) "rk_dma_heap: " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/dma-buf.h>
#include <linux/kobject.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/sysfs.h>

#include "rk_dma_heap_priv.h"

#define RK_PROC_DIR		"rk_dma_heap"
/* Bytes one record takes in the info node, to size the buffer up front. */
#define RK_INFO_BYTES_PER_ALLOC	192
#define RK_INFO_BYTES_PER_ATTACH 48

static struct proc_dir_entry *rk_proc_dir;
static struct kobject *rk_sys_kobj;

/* ---------------------------------------------------------- info node */

/*
 * The nodes read the heaps that rk_dma_heap_get_all() holds, without the
 * registry's lock, which every free takes. The info node copies what it
 * shows under each heap's lock and formats it afterwards: a dump of
 * thousands of buffers never stalls allocations or frees for its
 * formatting.
 */

/* longest device name the info node shows */
#define RK_INFO_DEV_LEN		64

/* what the info node shows of one allocation */
struct rk_info_rec {
	char owner[RK_DMA_HEAP_OWNER_LEN];
	u64 ino;
	phys_addr_t start;
	size_t size;
	bool dmabuf;
	unsigned int nr_devs;	/* its attached devices, next in the snapshot */
};

/* one heap's part of the info node */
struct rk_info_snap {
	struct list_head node;
	const char *name;
	size_t used;
	unsigned long nr_recs;
	struct rk_info_rec *recs;
	char (*devs)[RK_INFO_DEV_LEN];
};

static void rk_info_snap_free(struct rk_info_snap *snap)
{
	kvfree(snap->devs);
	kvfree(snap->recs);
	kfree(snap->name);
	kfree(snap);
}

/* Room for @nr_recs records and @nr_devs device names. */
static struct rk_info_snap *rk_info_snap_alloc(const char *name,
					       unsigned long nr_recs,
					       unsigned long nr_devs)
{
	struct rk_info_snap *snap;

	snap = kzalloc(sizeof(*snap), GFP_KERNEL);
	if (!snap)
		return NULL;
	snap->name = kstrdup(name, GFP_KERNEL);
	snap->recs = kvcalloc(max(nr_recs, 1UL), sizeof(*snap->recs),
			      GFP_KERNEL);
	snap->devs = kvcalloc(max(nr_devs, 1UL), sizeof(*snap->devs),
			      GFP_KERNEL);
	if (!snap->name || !snap->recs || !snap->devs) {
		rk_info_snap_free(snap);
		return NULL;
	}
	return snap;
}

/* Copy the records of @dmabufs (or of contiguous pages); heap->lock held. */
static void rk_info_snap_copy(struct rk_info_snap *snap,
			      struct rk_dma_heap *heap, bool dmabufs,
			      unsigned long *dev)
{
	struct rk_dma_heap_attach *att;
	struct rk_dma_heap_alloc *a;
	struct rk_info_rec *r;

	list_for_each_entry(a, &heap->allocs, node) {
		if (!!a->dmabuf != dmabufs)
			continue;
		r = &snap->recs[snap->nr_recs++];
		rk_dma_heap_owner(a, r->owner, sizeof(r->owner));
		r->ino = a->ino;
		r->start = a->start;
		r->size = a->size;
		r->dmabuf = !!a->dmabuf;
		list_for_each_entry(att, &a->attachments, node) {
			strscpy(snap->devs[(*dev)++], dev_name(att->dev),
				RK_INFO_DEV_LEN);
			r->nr_devs++;
		}
	}
}

/*
 * A copy of @heap's records, dma-bufs first, then contiguous pages, as the
 * BSP lists them. The room is sized with the lock dropped, and sized again
 * if the heap grew meanwhile.
 */
static struct rk_info_snap *rk_info_snap_heap(struct rk_dma_heap *heap)
{
	unsigned long nr_recs, nr_devs, dev = 0;
	struct rk_info_snap *snap;

	for (;;) {
		mutex_lock(&heap->lock);
		nr_recs = heap->nr_allocs;
		nr_devs = heap->nr_attachments;
		mutex_unlock(&heap->lock);

		snap = rk_info_snap_alloc(heap->name, nr_recs, nr_devs);
		if (!snap)
			return NULL;
		mutex_lock(&heap->lock);
		if (heap->nr_allocs <= nr_recs &&
		    heap->nr_attachments <= nr_devs)
			break;
		mutex_unlock(&heap->lock);
		rk_info_snap_free(snap);
	}
	rk_info_snap_copy(snap, heap, true, &dev);
	rk_info_snap_copy(snap, heap, false, &dev);
	snap->used = heap->used;
	mutex_unlock(&heap->lock);
	return snap;
}

static void rk_info_show_snap(struct seq_file *m, struct rk_info_snap *snap)
{
	struct rk_info_rec *r;
	unsigned long i, dev = 0;
	unsigned int j;

	for (i = 0; i < snap->nr_recs; i++) {
		r = &snap->recs[i];
		if (r->dmabuf)
			seq_printf(m, "dma-heap:<%s> -dmabuf i_ino = %llu\n",
				   snap->name, r->ino);
		else
			seq_printf(m, "dma-heap:<%s> -non dmabuf\n", snap->name);
		seq_printf(m, "  Alloc by (%-20s) [0x%08llx-0x%08llx] 0x%08zx (%zu KiB)\n",
			   r->owner, (u64)r->start, (u64)(r->start + r->size - 1),
			   r->size, r->size >> 10);
		if (!r->dmabuf)
			continue;
		seq_puts(m, "  Attached Devices:\n");
		for (j = 0; j < r->nr_devs; j++)
			seq_printf(m, "    %s\n", snap->devs[dev++]);
		seq_printf(m, "Total %u devices attached\n\n", r->nr_devs);
	}
	seq_printf(m, "\nTotal : 0x%zx (%zu KiB)\n", snap->used,
		   snap->used >> 10);
}

static int rk_info_show(struct seq_file *m, void *v)
{
	struct rk_dma_heap *heaps[RK_DMA_HEAP_MAX_HEAPS];
	struct rk_info_snap *snap, *tmp;
	unsigned int i, n;
	LIST_HEAD(snaps);
	int ret = 0;

	n = rk_dma_heap_get_all(heaps);
	for (i = 0; i < n; i++) {
		snap = rk_info_snap_heap(heaps[i]);
		if (!snap) {
			ret = -ENOMEM;
			break;
		}
		list_add_tail(&snap->node, &snaps);
	}
	rk_dma_heap_put_all(heaps, n);

	list_for_each_entry_safe(snap, tmp, &snaps, node) {
		if (!ret)
			rk_info_show_snap(m, snap);
		rk_info_snap_free(snap);
	}
	return ret;
}

static int rk_info_open(struct inode *inode, struct file *file)
{
	struct rk_dma_heap *heap;
	size_t size = PAGE_SIZE;

	/*
	 * Size the buffer for one pass: seq_file would otherwise print the
	 * whole dump again each time it has to grow the buffer.
	 */
	mutex_lock(&rk_dma_heap_list_lock);
	list_for_each_entry(heap, &rk_dma_heap_list, list) {
		mutex_lock(&heap->lock);
		size += heap->nr_allocs * RK_INFO_BYTES_PER_ALLOC +
			heap->nr_attachments * RK_INFO_BYTES_PER_ATTACH;
		mutex_unlock(&heap->lock);
	}
	mutex_unlock(&rk_dma_heap_list_lock);
	return single_open_size(file, rk_info_show, NULL, size);
}

static const struct proc_ops rk_info_ops = {
	.proc_open	= rk_info_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_release	= single_release,
};

/* -------------------------------------------------------- bitmap node */

/*
 * One bit per page of each heap's region: set while the page is taken
 * (ours or others'), or with @pooled while the heap's pool keeps it.
 */
static void rk_bitmap_print(struct seq_file *m, bool pooled)
{
	struct rk_dma_heap *heaps[RK_DMA_HEAP_MAX_HEAPS], *heap;
	struct rk_dma_heap_region_info info = { };
	unsigned int i, n;

	n = rk_dma_heap_get_all(heaps);
	for (i = 0; i < n; i++) {
		heap = heaps[i];
		if (!heap->ops->region_info || !heap->ops->show_bitmap)
			continue;
		heap->ops->region_info(heap, &info);
		seq_printf(m, "Total: %zu KiB\n", info.size >> 10);
		if (pooled)
			seq_printf(m, " Base: %pa\nPooled: %zu KiB\n\n",
				   &info.base, info.pooled >> 10);
		else
			seq_printf(m, " Used: %zu KiB\n\n",
				   (info.used + info.outside) >> 10);
		heap->ops->show_bitmap(heap, m, pooled);
	}
	rk_dma_heap_put_all(heaps, n);
}

static int rk_bitmap_show(struct seq_file *m, void *v)
{
	rk_bitmap_print(m, false);
	return 0;
}

static int rk_pool_bitmap_show(struct seq_file *m, void *v)
{
	rk_bitmap_print(m, true);
	return 0;
}

/* --------------------------------------------------------- usage node */

struct rk_owner_sum {
	char owner[RK_DMA_HEAP_OWNER_LEN];
	pid_t pid;
	unsigned long buffers;
	size_t bytes;
};

static int rk_owner_cmp_name(const void *a, const void *b)
{
	const struct rk_owner_sum *x = a, *y = b;
	int ret = strcmp(x->owner, y->owner);

	if (ret || x->pid == y->pid)
		return ret;
	return x->pid < y->pid ? -1 : 1;
}

static int rk_owner_cmp_bytes(const void *a, const void *b)
{
	const struct rk_owner_sum *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return strcmp(x->owner, y->owner);
}

/*
 * Anyone may read the usage node: the totals are for everyone, the rows of
 * other users' processes (names, pids, dma-buf names) only for readers
 * with CAP_SYS_ADMIN; others see them summed up in one row.
 */
static bool rk_usage_row_visible(struct seq_file *m,
				 struct rk_dma_heap_alloc *a)
{
	return uid_eq(a->uid, m->file->f_cred->euid) ||
	       file_ns_capable(m->file, &init_user_ns, CAP_SYS_ADMIN);
}

static void rk_usage_show_rows(struct seq_file *m, struct rk_owner_sum *sums,
			       unsigned long n, struct rk_owner_sum *others)
{
	unsigned long i;

	seq_printf(m, "%-20s %7s %8s %10s\n", "owner", "pid", "buffers", "KiB");
	for (i = 0; i < n; i++) {
		seq_printf(m, "%-20s ", sums[i].owner);
		if (sums[i].pid)
			seq_printf(m, "%7d", sums[i].pid);
		else
			seq_printf(m, "%7s", "-");
		seq_printf(m, " %8lu %10zu\n", sums[i].buffers,
			   sums[i].bytes >> 10);
	}
	if (others->buffers)
		seq_printf(m, "%-20s %7s %8lu %10zu\n", "(other users)", "-",
			   others->buffers, others->bytes >> 10);
	seq_putc(m, '\n');
}

static void rk_usage_show_heap(struct seq_file *m, struct rk_dma_heap *heap)
{
	struct rk_owner_sum others = { }, *sums;
	struct rk_dma_heap_region_info info = { };
	struct rk_dma_heap_alloc *a;
	unsigned long i = 0, j, n = 0;

	seq_printf(m, "heap %s\n", heap->name);
	/* what anyone may read costs a walk of the region only after a change */
	info.may_reuse = !file_ns_capable(m->file, &init_user_ns, CAP_SYS_ADMIN);
	if (heap->ops->region_info) {
		heap->ops->region_info(heap, &info);
		seq_printf(m, "region %zu KiB, used %zu KiB, free %zu KiB, largest free block %zu KiB, pooled %zu KiB",
			   info.size >> 10, info.used >> 10,
			   (info.size - info.used - info.outside) >> 10,
			   info.largest_free >> 10, info.pooled >> 10);
		if (info.outside)
			seq_printf(m, ", held outside the heap %zu KiB",
				   info.outside >> 10);
		seq_putc(m, '\n');
	}

	mutex_lock(&heap->lock);
	sums = kvcalloc(max(heap->nr_allocs, 1UL), sizeof(*sums), GFP_KERNEL);
	if (!sums) {
		mutex_unlock(&heap->lock);
		seq_puts(m, "(out of memory)\n");
		return;
	}
	list_for_each_entry(a, &heap->allocs, node) {
		if (!rk_usage_row_visible(m, a)) {
			others.buffers++;
			others.bytes += a->size;
			continue;
		}
		rk_dma_heap_owner(a, sums[i].owner, sizeof(sums[i].owner));
		/* a name a driver gave is not a process: no pid for it */
		sums[i].pid = a->named ? 0 : a->pid;
		sums[i].buffers = 1;
		sums[i].bytes = a->size;
		i++;
	}
	mutex_unlock(&heap->lock);

	/* Merge the entries of each owner, then put the largest first. */
	sort(sums, i, sizeof(*sums), rk_owner_cmp_name, NULL);
	for (j = 0; j < i; j++) {
		if (n && !rk_owner_cmp_name(&sums[n - 1], &sums[j])) {
			sums[n - 1].buffers += sums[j].buffers;
			sums[n - 1].bytes += sums[j].bytes;
		} else {
			sums[n++] = sums[j];
		}
	}
	sort(sums, n, sizeof(*sums), rk_owner_cmp_bytes, NULL);
	rk_usage_show_rows(m, sums, n, &others);
	kvfree(sums);
}

static int rk_usage_show(struct seq_file *m, void *v)
{
	struct rk_dma_heap *heaps[RK_DMA_HEAP_MAX_HEAPS];
	unsigned int i, n;

	n = rk_dma_heap_get_all(heaps);
	for (i = 0; i < n; i++)
		rk_usage_show_heap(m, heaps[i]);
	rk_dma_heap_put_all(heaps, n);
	return 0;
}

/* -------------------------------------------------------------- sysfs */

static ssize_t rk_total_pools_kb_show(struct kobject *kobj,
				      struct kobj_attribute *attr, char *buf)
{
	struct rk_dma_heap *heaps[RK_DMA_HEAP_MAX_HEAPS];
	unsigned int i, n;
	u64 total = 0;

	n = rk_dma_heap_get_all(heaps);
	for (i = 0; i < n; i++)
		if (heaps[i]->ops->get_pool_size)
			total += heaps[i]->ops->get_pool_size(heaps[i]);
	rk_dma_heap_put_all(heaps, n);
	return sysfs_emit(buf, "%llu\n", total >> 10);
}

static struct kobj_attribute rk_total_pools_kb_attr =
	__ATTR(rk_total_pools_kb, 0444, rk_total_pools_kb_show, NULL);

static struct attribute *rk_sys_attrs[] = {
	&rk_total_pools_kb_attr.attr,
	NULL,
};

static const struct attribute_group rk_sys_group = {
	.attrs = rk_sys_attrs,
};

/* --------------------------------------------------------------- setup */

/**
 * rk_dma_heap_procfs_init() - create the /proc and /sys nodes
 *
 * Return: 0 or -ENOMEM.
 */
int rk_dma_heap_procfs_init(void)
{
	int ret;

	rk_proc_dir = proc_mkdir(RK_PROC_DIR, NULL);
	if (!rk_proc_dir)
		goto err_proc;
	if (!proc_create("rk-dma-heap-info", 0400, rk_proc_dir, &rk_info_ops) ||
	    !proc_create("dma_heap_info", 0400, rk_proc_dir, &rk_info_ops) ||
	    !proc_create_single("alloc_bitmap", 0400, rk_proc_dir,
				rk_bitmap_show) ||
	    !proc_create_single("pool_bitmap", 0400, rk_proc_dir,
				rk_pool_bitmap_show) ||
	    !proc_create_single("rk-dma-heap-usage", 0444, rk_proc_dir,
				rk_usage_show))
		goto err_proc;

	rk_sys_kobj = kobject_create_and_add("rk_dma_heap", kernel_kobj);
	if (!rk_sys_kobj)
		goto err_proc;
	ret = sysfs_create_group(rk_sys_kobj, &rk_sys_group);
	if (ret) {
		kobject_put(rk_sys_kobj);
		goto err_proc;
	}
	return 0;

err_proc:
	pr_err("cannot create /proc/%s or /sys/kernel/rk_dma_heap\n",
	       RK_PROC_DIR);
	proc_remove(rk_proc_dir);
	return -ENOMEM;
}

/**
 * rk_dma_heap_procfs_exit() - remove the /proc and /sys nodes
 */
void rk_dma_heap_procfs_exit(void)
{
	sysfs_remove_group(rk_sys_kobj, &rk_sys_group);
	kobject_put(rk_sys_kobj);
	proc_remove(rk_proc_dir);
}
