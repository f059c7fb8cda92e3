/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces between the parts of rk_dma_heap.ko: the core
 * (registry, char device, exported API), the CMA heap and the procfs/sysfs
 * nodes. Not for other modules: they use <linux/rk-dma-heap.h>.
 */
#ifndef _RK_DMA_HEAP_PRIV_H
#define _RK_DMA_HEAP_PRIV_H

#include <linux/cdev.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include "rk_dma_heap_compat.h"
#include <linux/rk-dma-heap.h>

#define RK_DMA_HEAP_OWNER_LEN	32

/* device numbers of the nodes: heaps registered at once */
#define RK_DMA_HEAP_MAX_HEAPS	16

/* compatible of the device-tree node that gives the CMA heap its region */
#define RK_CMA_COMPATIBLE	"rockchip,rk-dma-heap-cma"

struct reserved_mem;

/**
 * struct rk_dma_heap - a registered heap
 * @name:	heap name, also the name of its device node
 * @ops:	the implementation's operations (ours in place of those of a
 *		module that went)
 * @owner:	the module of @ops, held around every call into them; NULL
 *		for our own
 * @priv:	the implementation's data
 * @support_cma: the heap allocates from CMA
 * @users:	references: the registry's, one per rk_dma_heap_find(), per
 *		open file of the node and per live allocation; the structure
 *		goes with the last
 * @removed:	no longer registered: allocations are refused
 * @list:	entry in the registry, or in the list of removed heaps that
 *		are still referenced (both under rk_dma_heap_list_lock)
 * @devt:	device number of /dev/rk_dma_heap/<name>
 * @cdev:	the character device
 * @dev:	the device behind the node
 * @heap_dev:	the device that allocates and maps the memory
 * @lock:	protects @allocs, @nr_allocs, @nr_attachments, @used, the
 *		change of @removed, @ops and @owner
 * @allocs:	live allocations (struct rk_dma_heap_alloc), newest first
 * @nr_allocs:	entries on @allocs, and allocations under way
 * @nr_attachments: attachments over all entries of @allocs
 * @used:	bytes in live allocations
 */
struct rk_dma_heap {
	const char *name;
	const struct rk_dma_heap_ops *ops;
	struct module *owner;
	void *priv;
	bool support_cma;
	refcount_t users;
	bool removed;
	struct list_head list;
	dev_t devt;
	struct cdev *cdev;
	struct device *dev;
	struct device *heap_dev;

	struct mutex lock;	/* protects the tracking fields below */
	struct list_head allocs;
	unsigned long nr_allocs;
	unsigned long nr_attachments;
	size_t used;
};

/**
 * struct rk_dma_heap_alloc - what the heap knows of one live allocation
 * @node:	entry in &rk_dma_heap.allocs
 * @start:	physical address of the first byte
 * @size:	size in bytes
 * @dmabuf:	the dma-buf, or NULL for contiguous pages
 * @ino:	inode number of the dma-buf's file (as fstat() shows it)
 * @born:	when it was tracked (its age in the free trace event)
 * @pid:	process that allocated it (thread group id)
 * @uid:	effective user of that process
 * @named:	@owner was given by the caller; otherwise it is the thread's
 *		name and a dma-buf name set later takes precedence
 * @owner:	owner name
 * @attachments: devices attached right now (struct rk_dma_heap_attach)
 */
struct rk_dma_heap_alloc {
	struct list_head node;
	phys_addr_t start;
	size_t size;
	struct dma_buf *dmabuf;
	u64 ino;
	ktime_t born;
	pid_t pid;
	kuid_t uid;
	bool named;
	char owner[RK_DMA_HEAP_OWNER_LEN];
	struct list_head attachments;
};

/**
 * struct rk_dma_heap_attach - one attachment shown in the info node
 * @node:	entry in &rk_dma_heap_alloc.attachments
 * @dev:	the attached device
 * @alloc:	the record it is listed in
 */
struct rk_dma_heap_attach {
	struct list_head node;
	struct device *dev;
	struct rk_dma_heap_alloc *alloc;
};

/* registry (rk_dma_heap.c) */
extern struct mutex rk_dma_heap_list_lock;
extern struct list_head rk_dma_heap_list;
struct rk_dma_heap *rk_dma_heap_register(const struct rk_dma_heap_export_info *exp_info,
					 struct device *heap_dev,
					 struct module *owner);
void rk_dma_heap_remove(struct rk_dma_heap *heap);
const struct rk_dma_heap_ops *rk_dma_heap_hold(struct rk_dma_heap *heap);
void rk_dma_heap_unhold(struct rk_dma_heap *heap);
unsigned int rk_dma_heap_get_all(struct rk_dma_heap **heaps);
void rk_dma_heap_put_all(struct rk_dma_heap **heaps, unsigned int n);

/* tracking (rk_dma_heap.c) */
void rk_dma_heap_track(struct rk_dma_heap *heap, struct rk_dma_heap_alloc *a,
		       phys_addr_t start, size_t size, const char *name,
		       struct dma_buf *dmabuf);
void rk_dma_heap_untrack(struct rk_dma_heap *heap, struct rk_dma_heap_alloc *a);
void rk_dma_heap_track_attach(struct rk_dma_heap *heap,
			      struct rk_dma_heap_alloc *a,
			      struct rk_dma_heap_attach *att, struct device *dev);
void rk_dma_heap_track_detach(struct rk_dma_heap *heap,
			      struct rk_dma_heap_attach *att);
void rk_dma_heap_owner(struct rk_dma_heap_alloc *a, char *buf, size_t len);

/* CMA heap (rk_dma_heap_cma.c) */
int rk_dma_heap_cma_init(void);
void rk_dma_heap_cma_exit(void);

/*
 * the area of the boot argument rk_dma_heap_cma= (rk_dma_heap_boot.c,
 * built in only)
 */
#ifdef MODULE
static inline bool rk_dma_heap_boot_register(void)
{
	return false;
}

static inline int rk_dma_heap_boot_region(struct device *dev,
					  struct reserved_mem **rmem)
{
	return -ENODEV;
}
#else
bool rk_dma_heap_boot_register(void);
int rk_dma_heap_boot_region(struct device *dev, struct reserved_mem **rmem);
#endif

/* the heaps in /dev/dma_heap (rk_dma_heap_mainline.c) */
void rk_dma_heap_mainline_init(void);

/* procfs and sysfs nodes (rk_dma_heap_procfs.c) */
int rk_dma_heap_procfs_init(void);
void rk_dma_heap_procfs_exit(void);

#endif /* _RK_DMA_HEAP_PRIV_H */
