// SPDX-License-Identifier: GPL-2.0
/*
 * The debug nodes of rk_dma_heap, in the formats of the Rockchip allocator
 * guide:
 *
 *   /proc/rk_dma_heap/rk-dma-heap-info	every live allocation (0400)
 *   /proc/rk_dma_heap/dma_heap_info	the same, under the BSP code's name
 *   /proc/rk_dma_heap/alloc_bitmap	region size, use and bitmap (0400)
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

static void rk_info_show_alloc(struct seq_file *m, struct rk_dma_heap *heap,
			       struct rk_dma_heap_alloc *a)
{
	char owner[RK_DMA_HEAP_OWNER_LEN];
	struct rk_dma_heap_attach *att;
	unsigned int n = 0;

	rk_dma_heap_owner(a, owner, sizeof(owner));
	if (a->dmabuf)
		seq_printf(m, "dma-heap:<%s> -dmabuf i_ino = %llu\n", heap->name,
			   a->ino);
	else
		seq_printf(m, "dma-heap:<%s> -non dmabuf\n", heap->name);
	seq_printf(m, "  Alloc by (%-20s) [0x%08llx-0x%08llx] 0x%08zx (%zu KiB)\n",
		   owner, (u64)a->start, (u64)(a->start + a->size - 1),
		   a->size, a->size >> 10);
	if (!a->dmabuf)
		return;

	seq_puts(m, "  Attached Devices:\n");
	list_for_each_entry(att, &a->attachments, node) {
		seq_printf(m, "    %s\n", dev_name(att->dev));
		n++;
	}
	seq_printf(m, "Total %u devices attached\n\n", n);
}

static int rk_info_show(struct seq_file *m, void *v)
{
	struct rk_dma_heap *heap;
	struct rk_dma_heap_alloc *a;

	mutex_lock(&rk_dma_heap_list_lock);
	list_for_each_entry(heap, &rk_dma_heap_list, list) {
		mutex_lock(&heap->lock);
		/* dma-bufs first, then contiguous pages, as the BSP lists them */
		list_for_each_entry(a, &heap->allocs, node)
			if (a->dmabuf)
				rk_info_show_alloc(m, heap, a);
		list_for_each_entry(a, &heap->allocs, node)
			if (!a->dmabuf)
				rk_info_show_alloc(m, heap, a);
		seq_printf(m, "\nTotal : 0x%zx (%zu KiB)\n", heap->used,
			   heap->used >> 10);
		mutex_unlock(&heap->lock);
	}
	mutex_unlock(&rk_dma_heap_list_lock);
	return 0;
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

static int rk_bitmap_show(struct seq_file *m, void *v)
{
	struct rk_dma_heap_region_info info;
	struct rk_dma_heap *heap;

	mutex_lock(&rk_dma_heap_list_lock);
	list_for_each_entry(heap, &rk_dma_heap_list, list) {
		if (!heap->ops->region_info || !heap->ops->show_bitmap)
			continue;
		heap->ops->region_info(heap, &info);
		/* what the bitmap shows taken: ours and what others hold */
		seq_printf(m, "Total: %zu KiB\n", info.size >> 10);
		seq_printf(m, " Used: %zu KiB\n\n",
			   (info.used + info.outside) >> 10);
		heap->ops->show_bitmap(heap, m);
	}
	mutex_unlock(&rk_dma_heap_list_lock);
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
	struct rk_dma_heap_region_info info;
	struct rk_dma_heap_alloc *a;
	unsigned long i = 0, j, n = 0;

	seq_printf(m, "heap %s\n", heap->name);
	if (heap->ops->region_info) {
		heap->ops->region_info(heap, &info);
		seq_printf(m, "region %zu KiB, used %zu KiB, free %zu KiB, largest free block %zu KiB",
			   info.size >> 10, info.used >> 10,
			   (info.size - info.used - info.outside) >> 10,
			   info.largest_free >> 10);
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
	struct rk_dma_heap *heap;

	mutex_lock(&rk_dma_heap_list_lock);
	list_for_each_entry(heap, &rk_dma_heap_list, list)
		rk_usage_show_heap(m, heap);
	mutex_unlock(&rk_dma_heap_list_lock);
	return 0;
}

/* -------------------------------------------------------------- sysfs */

static ssize_t rk_total_pools_kb_show(struct kobject *kobj,
				      struct kobj_attribute *attr, char *buf)
{
	struct rk_dma_heap *heap;
	u64 total = 0;

	mutex_lock(&rk_dma_heap_list_lock);
	list_for_each_entry(heap, &rk_dma_heap_list, list)
		if (heap->ops->get_pool_size)
			total += heap->ops->get_pool_size(heap);
	mutex_unlock(&rk_dma_heap_list_lock);
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
