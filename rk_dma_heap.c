// SPDX-License-Identifier: GPL-2.0
/*
 * rk_dma_heap core: the registry of heaps, their character devices under
 * /dev/rk_dma_heap/, the allocation ioctl and the in-kernel API of the
 * Rockchip BSP (<linux/rk-dma-heap.h>), and the tracking of every live
 * allocation for the /proc/rk_dma_heap nodes.
 *
 * A heap added by another module (rk_dma_heap_add()) runs that module's
 * code: every call into its operations holds the module, and when the
 * module goes the heap goes with it (a module notifier), its operations
 * replaced by ours.
 *
 * Locks, outermost first: rk_dma_heap_list_lock (the registry), then a
 * heap's lock (its tracking, its removal, its owner and operations).
 */
#define pr_fmt(fmt) "rk_dma_heap: " fmt

#include <linux/cred.h>
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/ratelimit.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/xarray.h>
#include <uapi/linux/rk-dma-heap.h>

#include "rk_dma_heap_priv.h"
#define CREATE_TRACE_POINTS
#include "rk_dma_heap_trace.h"

/*
 * The registry, under rk_dma_heap_list_lock: every registered heap, the
 * removed heaps that something still references, and the minor number of
 * each registered heap's node.
 */
DEFINE_MUTEX(rk_dma_heap_list_lock);
LIST_HEAD(rk_dma_heap_list);
static LIST_HEAD(rk_dma_heap_removed);
static DEFINE_XARRAY_ALLOC(rk_dma_heap_minors);

static dev_t rk_dma_heap_devt;
static struct class *rk_dma_heap_class;
/*
 * The mode devtmpfs gives the nodes, where no udev rule or mdev line sets
 * one: 0600 (root only) unless the user asks for more.
 */
static uint rk_dma_heap_node_mode = 0600;
module_param_named(node_mode, rk_dma_heap_node_mode, uint, 0444);
MODULE_PARM_DESC(node_mode,
		 "Mode of the /dev/rk_dma_heap nodes, in octal, read and write bits only (default 0600); udev and mdev rules override it");

static DEFINE_RATELIMIT_STATE(rk_dma_heap_enomem_rs, DEFAULT_RATELIMIT_INTERVAL,
			      DEFAULT_RATELIMIT_BURST);

/* ---------------------------------------------------------------- tracking */

/*
 * A buffer's trace event, with its owner found beforehand: the dma-buf's
 * name lock may sleep on PREEMPT_RT, and an event's fast assignment runs
 * with preemption off.
 */
#define rk_dma_heap_trace_buffer(event, heap, a, dev, value)		\
	do {								\
		struct rk_dma_heap_alloc *__a = (a);			\
		char owner[RK_DMA_HEAP_OWNER_LEN];			\
									\
		if (trace_rk_dma_heap_##event##_enabled()) {		\
			rk_dma_heap_owner(__a, owner, sizeof(owner));	\
			trace_rk_dma_heap_##event(heap, __a, owner, dev, \
						  value);		\
		}							\
	} while (0)

/**
 * rk_dma_heap_track() - start tracking a new allocation
 * @heap:	the heap it came from
 * @a:		the record, embedded in the implementation's buffer
 * @start:	physical address
 * @size:	size in bytes
 * @name:	owner given by the caller, or NULL for the current thread
 * @dmabuf:	the exported dma-buf, or NULL for contiguous pages
 */
void rk_dma_heap_track(struct rk_dma_heap *heap, struct rk_dma_heap_alloc *a,
		       phys_addr_t start, size_t size, const char *name,
		       struct dma_buf *dmabuf)
{
	char comm[TASK_COMM_LEN];

	a->start = start;
	a->size = size;
	a->dmabuf = dmabuf;
	a->ino = dmabuf ? file_inode(dmabuf->file)->i_ino : 0;
	a->born = ktime_get();
	a->pid = task_tgid_nr(current);
	a->uid = current_euid();
	a->named = name && name[0];
	if (!a->named)
		name = get_task_comm(comm, current);
	strscpy(a->owner, name, sizeof(a->owner));
	INIT_LIST_HEAD(&a->attachments);

	mutex_lock(&heap->lock);
	list_add(&a->node, &heap->allocs);
	heap->used += size;
	mutex_unlock(&heap->lock);
}

/*
 * A call into the heap's operations holds the module they live in: the
 * operations to call, or NULL if that module is going away. Ours have no
 * owner; a heap whose module went has ours in their place. Called with
 * heap->lock held.
 */
static const struct rk_dma_heap_ops *rk_dma_heap_ops_get_locked(struct rk_dma_heap *heap)
{
	lockdep_assert_held(&heap->lock);
	return try_module_get(heap->owner) ? heap->ops : NULL;
}

static const struct rk_dma_heap_ops *rk_dma_heap_ops_get(struct rk_dma_heap *heap)
{
	const struct rk_dma_heap_ops *ops;

	mutex_lock(&heap->lock);
	ops = rk_dma_heap_ops_get_locked(heap);
	mutex_unlock(&heap->lock);
	return ops;
}

/*
 * An allocation holds the heap from before the implementation is asked
 * until its memory is back, and so does a free while it runs: a removed
 * heap refuses new allocations, and its implementation's state goes with
 * the last one. While it calls the operations it holds their module too;
 * both are taken under one lock. Returns the operations, NULL with the
 * heap held (rk_dma_heap_put_alloc() drops it) when their module is going
 * away, or ERR_PTR(-ENODEV) with nothing held when the heap cannot be.
 */
static const struct rk_dma_heap_ops *rk_dma_heap_get_alloc(struct rk_dma_heap *heap, bool freeing)
{
	const struct rk_dma_heap_ops *ops = ERR_PTR(-ENODEV);

	mutex_lock(&heap->lock);
	if (!heap->removed || (freeing && heap->nr_allocs)) {
		heap->nr_allocs++;
		refcount_inc(&heap->users);
		ops = rk_dma_heap_ops_get_locked(heap);
	}
	mutex_unlock(&heap->lock);
	return ops;
}

static void rk_dma_heap_ops_put(struct rk_dma_heap *heap)
{
	module_put(heap->owner);
}

/*
 * What the implementation gave is no longer handed out
 * (rk_dma_heap_get_drvdata(), rk_dma_heap_get_dev()): it was released.
 */
static void rk_dma_heap_forget(struct rk_dma_heap *heap)
{
	mutex_lock(&heap->lock);
	WRITE_ONCE(heap->priv, NULL);
	WRITE_ONCE(heap->heap_dev, NULL);
	mutex_unlock(&heap->lock);
}

/*
 * The heap was removed and its last allocation is gone: the
 * implementation frees what served them.
 */
static void rk_dma_heap_release_impl(struct rk_dma_heap *heap)
{
	const struct rk_dma_heap_ops *ops = rk_dma_heap_ops_get(heap);

	if (ops && ops->release)
		ops->release(heap);
	if (ops)
		rk_dma_heap_ops_put(heap);
	rk_dma_heap_forget(heap);
}

static void rk_dma_heap_put_alloc(struct rk_dma_heap *heap)
{
	bool gone;

	mutex_lock(&heap->lock);
	gone = !--heap->nr_allocs && heap->removed;
	mutex_unlock(&heap->lock);
	if (gone)
		rk_dma_heap_release_impl(heap);
	rk_dma_heap_put(heap);
}

/*
 * A new allocation holds the heap and, while its operations run, their
 * module. Returns the operations, or an ERR_PTR().
 */
static const struct rk_dma_heap_ops *rk_dma_heap_get_new_alloc(struct rk_dma_heap *heap)
{
	const struct rk_dma_heap_ops *ops = rk_dma_heap_get_alloc(heap, false);

	if (IS_ERR(ops)) {
		pr_warn_ratelimited("%s: allocation refused: the heap's device is gone\n",
				    heap->name);
		return ops;
	}
	if (ops)
		return ops;
	rk_dma_heap_put_alloc(heap);
	pr_warn_ratelimited("%s: allocation refused: the module that added the heap is going away\n",
			    heap->name);
	return ERR_PTR(-ENODEV);
}

/**
 * rk_dma_heap_hold() - hold a registered heap for a reader of its state
 * @heap:	the heap
 *
 * Its implementation's state and module stay until rk_dma_heap_unhold().
 *
 * Return: the heap's operations, or NULL if it is no longer registered or
 * its module is going away.
 */
const struct rk_dma_heap_ops *rk_dma_heap_hold(struct rk_dma_heap *heap)
{
	const struct rk_dma_heap_ops *ops = rk_dma_heap_get_alloc(heap, false);

	if (IS_ERR(ops))
		return NULL;
	if (!ops)
		rk_dma_heap_put_alloc(heap);
	return ops;
}

/**
 * rk_dma_heap_unhold() - drop what rk_dma_heap_hold() held
 * @heap:	the heap
 */
void rk_dma_heap_unhold(struct rk_dma_heap *heap)
{
	rk_dma_heap_ops_put(heap);
	rk_dma_heap_put_alloc(heap);
}

/**
 * rk_dma_heap_get_all() - hold every registered heap, for a reader
 * @heaps:	room for RK_DMA_HEAP_MAX_HEAPS heaps
 *
 * The registry's lock is not held while the caller reads them: a reader
 * of a node never delays the frees, which take it.
 *
 * Return: the number of heaps held: rk-dma-heap-cma first, the heap whose
 * sections Rockchip's tools read first in the nodes, then the others in
 * registration order; give them back with rk_dma_heap_put_all().
 */
unsigned int rk_dma_heap_get_all(struct rk_dma_heap **heaps)
{
	struct rk_dma_heap *heap;
	unsigned int i, n = 0, held = 0;

	/* a reference each here; the holds outside: a failed one puts what it took */
	mutex_lock(&rk_dma_heap_list_lock);
	list_for_each_entry(heap, &rk_dma_heap_list, list) {
		if (n == RK_DMA_HEAP_MAX_HEAPS)
			break;
		refcount_inc(&heap->users);
		if (!strcmp(heap->name, RK_DMA_HEAP_CMA_NAME)) {
			memmove(&heaps[1], &heaps[0], n * sizeof(*heaps));
			heaps[0] = heap;
			n++;
		} else {
			heaps[n++] = heap;
		}
	}
	mutex_unlock(&rk_dma_heap_list_lock);
	for (i = 0; i < n; i++) {
		heap = heaps[i];
		if (rk_dma_heap_hold(heap))
			heaps[held++] = heap;
		rk_dma_heap_put(heap);
	}
	return held;
}

/**
 * rk_dma_heap_put_all() - release the heaps of rk_dma_heap_get_all()
 * @heaps:	the heaps
 * @n:		their number
 */
void rk_dma_heap_put_all(struct rk_dma_heap **heaps, unsigned int n)
{
	while (n--)
		rk_dma_heap_unhold(heaps[n]);
}

/**
 * rk_dma_heap_untrack() - stop tracking an allocation that is being freed
 * @heap:	the heap
 * @a:		the record
 *
 * Called once the allocation's memory is back: with the last allocation of
 * a removed heap, the implementation's release operation runs here.
 */
void rk_dma_heap_untrack(struct rk_dma_heap *heap, struct rk_dma_heap_alloc *a)
{
	mutex_lock(&heap->lock);
	rk_dma_heap_trace_buffer(free, heap, a, NULL,
				 ktime_ms_delta(ktime_get(), a->born));
	list_del(&a->node);
	heap->used -= a->size;
	mutex_unlock(&heap->lock);
	rk_dma_heap_put_alloc(heap);
}

/**
 * rk_dma_heap_track_attach() - list a device as attached to an allocation
 * @heap:	the heap
 * @a:		the record of the buffer
 * @att:	the entry to link, embedded in the implementation's attachment
 * @dev:	the attached device
 */
void rk_dma_heap_track_attach(struct rk_dma_heap *heap,
			      struct rk_dma_heap_alloc *a,
			      struct rk_dma_heap_attach *att, struct device *dev)
{
	att->dev = dev;
	att->alloc = a;
	mutex_lock(&heap->lock);
	list_add_tail(&att->node, &a->attachments);
	heap->nr_attachments++;
	rk_dma_heap_trace_buffer(attach, heap, a, dev, 0);
	mutex_unlock(&heap->lock);
}

/**
 * rk_dma_heap_track_detach() - remove a device from an allocation's list
 * @heap:	the heap
 * @att:	the entry linked by rk_dma_heap_track_attach()
 */
void rk_dma_heap_track_detach(struct rk_dma_heap *heap,
			      struct rk_dma_heap_attach *att)
{
	mutex_lock(&heap->lock);
	rk_dma_heap_trace_buffer(detach, heap, att->alloc, att->dev, 0);
	list_del(&att->node);
	heap->nr_attachments--;
	mutex_unlock(&heap->lock);
}

/**
 * rk_dma_heap_owner() - the owner name to show for an allocation
 * @a:		the record; the caller holds the heap's lock
 * @buf:	where to write the name
 * @len:	size of @buf
 *
 * The name the allocating driver gave wins; otherwise a name set on the
 * dma-buf with DMA_BUF_SET_NAME; otherwise the allocating thread's name.
 */
void rk_dma_heap_owner(struct rk_dma_heap_alloc *a, char *buf, size_t len)
{
	struct dma_buf *dmabuf = a->dmabuf;

	if (!a->named && dmabuf) {
		spin_lock(&dmabuf->name_lock);
		if (dmabuf->name && dmabuf->name[0]) {
			strscpy(buf, dmabuf->name, len);
			spin_unlock(&dmabuf->name_lock);
			return;
		}
		spin_unlock(&dmabuf->name_lock);
	}
	strscpy(buf, a->owner, len);
}

/* ---------------------------------------------------------------- registry */

static struct rk_dma_heap *rk_dma_heap_lookup(const char *name)
{
	struct rk_dma_heap *heap;

	lockdep_assert_held(&rk_dma_heap_list_lock);
	list_for_each_entry(heap, &rk_dma_heap_list, list)
		if (!strcmp(heap->name, name))
			return heap;
	return NULL;
}

static void rk_dma_heap_free(struct rk_dma_heap *heap)
{
	kfree_const(heap->name);
	kfree(heap);
}

/**
 * rk_dma_heap_find() - look up a heap by name
 * @name:	heap name, e.g. "rk-dma-heap-cma"
 *
 * Takes a reference that rk_dma_heap_put() drops. The reference keeps the
 * heap's structure valid; it does not pin any module, so a driver that never
 * calls rk_dma_heap_put() only costs a dmesg line when the heap goes away.
 *
 * Return: the heap, or NULL if no heap of that name is registered.
 */
struct rk_dma_heap *rk_dma_heap_find(const char *name)
{
	struct rk_dma_heap *heap;

	if (!name)
		return NULL;
	mutex_lock(&rk_dma_heap_list_lock);
	heap = rk_dma_heap_lookup(name);
	if (heap)
		refcount_inc(&heap->users);
	mutex_unlock(&rk_dma_heap_list_lock);
	return heap;
}
EXPORT_SYMBOL_GPL(rk_dma_heap_find);

/**
 * rk_dma_heap_put() - drop a reference taken by rk_dma_heap_find()
 * @heap:	the heap; NULL is ignored
 *
 * The registry's own reference keeps a registered heap: a put without a
 * matching find is ignored with a dmesg line. A removed heap goes with its
 * last reference.
 */
void rk_dma_heap_put(struct rk_dma_heap *heap)
{
	bool last;

	if (!heap)
		return;
	mutex_lock(&rk_dma_heap_list_lock);
	if (!heap->removed && refcount_read(&heap->users) == 1) {
		mutex_unlock(&rk_dma_heap_list_lock);
		pr_warn("%s: %s() without a matching rk_dma_heap_find(), ignored\n",
			heap->name, __func__);
		return;
	}
	last = refcount_dec_and_test(&heap->users);
	if (last)
		list_del(&heap->list);
	mutex_unlock(&rk_dma_heap_list_lock);
	if (last)
		rk_dma_heap_free(heap);
}
EXPORT_SYMBOL_GPL(rk_dma_heap_put);

/**
 * rk_dma_heap_get_dev() - the device that allocates and maps a heap's memory
 * @heap:	the heap
 *
 * Return: the device, or NULL if @heap is NULL or was removed and has
 * released its memory.
 */
struct device *rk_dma_heap_get_dev(struct rk_dma_heap *heap)
{
	return heap ? READ_ONCE(heap->heap_dev) : NULL;
}
EXPORT_SYMBOL_GPL(rk_dma_heap_get_dev);

/**
 * rk_dma_heap_get_name() - the name of a heap
 * @heap:	the heap
 *
 * Return: the name, or NULL if @heap is NULL.
 */
const char *rk_dma_heap_get_name(struct rk_dma_heap *heap)
{
	return heap ? heap->name : NULL;
}
EXPORT_SYMBOL_GPL(rk_dma_heap_get_name);

/**
 * rk_dma_heap_get_drvdata() - the private data a heap was registered with
 * @heap:	the heap
 *
 * Return: &rk_dma_heap_export_info.priv, or NULL if @heap is NULL or was
 * removed and has released its memory.
 */
void *rk_dma_heap_get_drvdata(struct rk_dma_heap *heap)
{
	return heap ? READ_ONCE(heap->priv) : NULL;
}
EXPORT_SYMBOL_GPL(rk_dma_heap_get_drvdata);

/**
 * rk_dma_heap_set_dev() - prepare a device to map buffers of any heap
 * @heap_dev:	the device, usually the calling driver's own
 *
 * Sets a 64-bit DMA mask (coherent and streaming), as the Rockchip BSP does
 * for the devices that use the heaps, and, where the device has no limit
 * of its own yet, the largest segment size, so that a whole contiguous
 * buffer maps as few segments as possible. A segment limit the driver set
 * is kept.
 *
 * Return: 0, -EINVAL for a NULL device, -ENOMEM if the device had no DMA
 * parameters and they could not be allocated, or the error of
 * dma_coerce_mask_and_coherent().
 */
int rk_dma_heap_set_dev(struct device *heap_dev)
{
	int ret;

	if (!heap_dev)
		return -EINVAL;
	ret = dma_coerce_mask_and_coherent(heap_dev, DMA_BIT_MASK(64));
	if (ret) {
		dev_err(heap_dev, "rk_dma_heap: cannot set a 64-bit DMA mask: %d\n",
			ret);
		return ret;
	}
	if (!heap_dev->dma_parms) {
		heap_dev->dma_parms = devm_kzalloc(heap_dev,
						   sizeof(*heap_dev->dma_parms),
						   GFP_KERNEL);
		if (!heap_dev->dma_parms)
			return -ENOMEM;
	}
	if (!heap_dev->dma_parms->max_segment_size)
		dma_set_max_seg_size(heap_dev, UINT_MAX);
	return 0;
}
EXPORT_SYMBOL_GPL(rk_dma_heap_set_dev);

/* ------------------------------------------------------------ char device */

/*
 * An open file holds the heap; a node opened as its heap goes away finds
 * no heap under its minor number.
 */
static int rk_dma_heap_open(struct inode *inode, struct file *file)
{
	struct rk_dma_heap *heap;

	mutex_lock(&rk_dma_heap_list_lock);
	heap = xa_load(&rk_dma_heap_minors, iminor(inode));
	if (heap)
		refcount_inc(&heap->users);
	mutex_unlock(&rk_dma_heap_list_lock);
	if (!heap)
		return -ENODEV;
	file->private_data = heap;
	return nonseekable_open(inode, file);
}

static int rk_dma_heap_release(struct inode *inode, struct file *file)
{
	rk_dma_heap_put(file->private_data);
	return 0;
}

/*
 * The checks every allocation request passes, from user space or from a
 * driver: one dmesg line per rejection. The arguments are as wide as the
 * ioctl's, so that nothing is truncated before it is checked.
 */
static int rk_dma_heap_check_request(struct rk_dma_heap *heap, u64 len,
				     u32 fd_flags, u64 heap_flags)
{
	if (fd_flags & ~RK_DMA_HEAP_VALID_FD_FLAGS) {
		pr_warn_ratelimited("%s: allocation rejected: fd_flags 0x%x has bits other than O_CLOEXEC and the access mode\n",
				    heap->name, fd_flags);
		return -EINVAL;
	}
	if (heap_flags & ~RK_DMA_HEAP_VALID_HEAP_FLAGS) {
		pr_warn_ratelimited("%s: allocation rejected: unknown heap_flags 0x%llx\n",
				    heap->name, heap_flags);
		return -EINVAL;
	}
	if (!len || len > SIZE_MAX - PAGE_SIZE) {
		pr_warn_ratelimited("%s: allocation rejected: invalid length %llu\n",
				    heap->name, len);
		return -EINVAL;
	}
	return 0;
}

static struct dma_buf *
rk_dma_heap_ioctl_alloc(struct rk_dma_heap *heap,
			const struct rk_dma_heap_allocation_data *data)
{
	int ret;

	if (data->fd) {
		pr_warn_ratelimited("%s: allocation rejected: fd must be 0 on input, got %u\n",
				    heap->name, data->fd);
		return ERR_PTR(-EINVAL);
	}
	/* before len and heap_flags are narrowed to the API's types */
	ret = rk_dma_heap_check_request(heap, data->len, data->fd_flags,
					data->heap_flags);
	if (ret)
		return ERR_PTR(ret);

	return rk_dma_heap_buffer_alloc(heap, data->len, data->fd_flags,
					data->heap_flags, NULL);
}

static long rk_dma_heap_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct rk_dma_heap *heap = file->private_data;
	struct rk_dma_heap_allocation_data data;
	unsigned int in_size, out_size, ksize = sizeof(data);
	struct dma_buf *dmabuf;
	int fd, ret;

	/*
	 * Like the Rockchip BSP, accept the request under the Rockchip magic
	 * and under mainline's dma-heap magic. Like mainline, accept callers
	 * built with a shorter or longer argument: copy what both know and
	 * zero the rest.
	 */
	if (_IOC_NR(cmd) != _IOC_NR(RK_DMA_HEAP_IOCTL_ALLOC) ||
	    (_IOC_TYPE(cmd) != RK_DMA_HEAP_IOC_MAGIC &&
	     _IOC_TYPE(cmd) != DMA_HEAP_IOC_MAGIC))
		return -ENOTTY;

	out_size = _IOC_SIZE(cmd);
	in_size = out_size;
	if (!(_IOC_DIR(cmd) & _IOC_READ))
		out_size = 0;
	if (!(_IOC_DIR(cmd) & _IOC_WRITE))
		in_size = 0;
	in_size = min(in_size, ksize);
	out_size = min(out_size, ksize);

	/* a request that cannot return the fd would leave it to nobody */
	if (out_size < offsetofend(struct rk_dma_heap_allocation_data, fd)) {
		pr_warn_ratelimited("%s: allocation rejected: request 0x%x cannot return the fd (no read direction, or %u bytes)\n",
				    heap->name, cmd, _IOC_SIZE(cmd));
		return -EINVAL;
	}

	memset(&data, 0, sizeof(data));
	if (copy_from_user(&data, (void __user *)arg, in_size))
		return -EFAULT;

	dmabuf = rk_dma_heap_ioctl_alloc(heap, &data);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);

	/*
	 * The fd is reserved, told to the caller, and only then installed: a
	 * caller that cannot receive it is left with neither fd nor buffer.
	 */
	fd = get_unused_fd_flags(data.fd_flags);
	if (fd < 0) {
		ret = fd;
		goto err_put;
	}
	data.fd = fd;
	if (copy_to_user((void __user *)arg, &data, out_size)) {
		ret = -EFAULT;
		goto err_fd;
	}
	fd_install(fd, dmabuf->file);
	return 0;

err_fd:
	put_unused_fd(fd);
err_put:
	dma_buf_put(dmabuf);
	return ret;
}

static const struct file_operations rk_dma_heap_fops = {
	.owner		= THIS_MODULE,
	.open		= rk_dma_heap_open,
	.release	= rk_dma_heap_release,
	.unlocked_ioctl	= rk_dma_heap_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static char *rk_dma_heap_devnode(RK_DEVNODE_CONST struct device *dev,
				 umode_t *mode)
{
	if (mode)
		*mode = rk_dma_heap_node_mode;
	return kasprintf(GFP_KERNEL, "rk_dma_heap/%s", dev_name(dev));
}

/**
 * rk_dma_heap_register() - register a heap whose memory a given device maps
 * @exp_info:	name, operations and private data of the heap
 * @heap_dev:	the device that allocates and maps the heap's memory
 *		(rk_dma_heap_get_dev()); NULL for the heap's own class device
 * @owner:	the module of the operations, held around every call into
 *		them; NULL for this module's own heaps
 *
 * Everything about the heap is in place before anyone can reach it: it is
 * listed for rk_dma_heap_find() and its device node appears last.
 *
 * Return: the heap, or an ERR_PTR() as for rk_dma_heap_add().
 */
struct rk_dma_heap *rk_dma_heap_register(const struct rk_dma_heap_export_info *exp_info,
					 struct device *heap_dev,
					 struct module *owner)
{
	struct rk_dma_heap *heap;
	struct device *dev;
	u32 minor;
	int ret;

	if (!exp_info || !exp_info->name || !exp_info->name[0] ||
	    !exp_info->ops || !exp_info->ops->allocate) {
		pr_err("cannot add a heap without a name or an allocate operation\n");
		return ERR_PTR(-EINVAL);
	}
	if (!rk_dma_heap_class)
		return ERR_PTR(-ENODEV);

	heap = kzalloc(sizeof(*heap), GFP_KERNEL);
	if (!heap)
		return ERR_PTR(-ENOMEM);
	heap->name = kstrdup_const(exp_info->name, GFP_KERNEL);
	if (!heap->name) {
		kfree(heap);
		return ERR_PTR(-ENOMEM);
	}
	heap->ops = exp_info->ops;
	heap->priv = exp_info->priv;
	heap->support_cma = exp_info->support_cma;
	heap->heap_dev = heap_dev;
	heap->owner = owner;
	refcount_set(&heap->users, 1);
	mutex_init(&heap->lock);
	INIT_LIST_HEAD(&heap->allocs);

	mutex_lock(&rk_dma_heap_list_lock);
	if (rk_dma_heap_lookup(heap->name)) {
		pr_err("a heap named %s is already registered\n", heap->name);
		ret = -EEXIST;
		goto err_unlock;
	}

	/* found by its minor number once the node can be opened */
	ret = xa_alloc(&rk_dma_heap_minors, &minor, heap,
		       XA_LIMIT(0, RK_DMA_HEAP_MAX_HEAPS - 1), GFP_KERNEL);
	if (ret == -EBUSY) {
		pr_err("cannot add heap %s: all %d device numbers are used\n",
		       heap->name, RK_DMA_HEAP_MAX_HEAPS);
		ret = -ENOSPC;
	}
	if (ret)
		goto err_unlock;
	heap->devt = MKDEV(MAJOR(rk_dma_heap_devt), minor);

	/* its own object: files opened on it may outlive the heap */
	heap->cdev = cdev_alloc();
	if (!heap->cdev) {
		ret = -ENOMEM;
		goto err_minor;
	}
	heap->cdev->ops = &rk_dma_heap_fops;
	heap->cdev->owner = THIS_MODULE;
	ret = cdev_add(heap->cdev, heap->devt, 1);
	if (ret) {
		pr_err("cannot add the character device of heap %s: %d\n",
		       heap->name, ret);
		kobject_put(&heap->cdev->kobj);
		goto err_minor;
	}

	/* the device node appears here: the heap must be complete */
	dev = device_create(rk_dma_heap_class, NULL, heap->devt, heap, "%s",
			    heap->name);
	if (IS_ERR(dev)) {
		ret = PTR_ERR(dev);
		pr_err("cannot create the device of heap %s: %d\n",
		       heap->name, ret);
		goto err_cdev;
	}
	heap->dev = dev;
	if (!heap->heap_dev)
		heap->heap_dev = dev;
	list_add_tail(&heap->list, &rk_dma_heap_list);
	mutex_unlock(&rk_dma_heap_list_lock);
	return heap;

err_cdev:
	cdev_del(heap->cdev);
err_minor:
	xa_erase(&rk_dma_heap_minors, minor);
err_unlock:
	mutex_unlock(&rk_dma_heap_list_lock);
	rk_dma_heap_free(heap);
	return ERR_PTR(ret);
}

/**
 * __rk_dma_heap_add() - register a heap and create /dev/rk_dma_heap/<name>
 * @exp_info:	name, operations and private data of the heap
 * @owner:	the caller's module (rk_dma_heap_add() passes THIS_MODULE)
 *
 * The heap's memory is allocated and mapped by its own class device. Every
 * call into its operations holds @owner; when @owner is unloaded, the heap
 * is removed with it (its node goes, open files of it refuse further
 * allocations). Its dma-bufs hold @owner themselves; contiguous pages it
 * still has then can no longer be freed.
 *
 * Return: the heap, or ERR_PTR(-EINVAL) for a missing name or allocate
 * operation, ERR_PTR(-EEXIST) if the name is taken, ERR_PTR(-ENOSPC) when
 * all device numbers are used, ERR_PTR(-ENOMEM), or the error of the
 * device creation.
 */
struct rk_dma_heap *__rk_dma_heap_add(const struct rk_dma_heap_export_info *exp_info,
				      struct module *owner)
{
	return rk_dma_heap_register(exp_info, NULL, owner);
}
EXPORT_SYMBOL_GPL(__rk_dma_heap_add);

/*
 * Unregister @heap and remove its node; new allocations are refused from
 * here on. Returns whether it has no allocation left.
 */
static bool rk_dma_heap_unregister(struct rk_dma_heap *heap)
{
	bool gone;

	mutex_lock(&rk_dma_heap_list_lock);
	mutex_lock(&heap->lock);
	heap->removed = true;
	gone = !heap->nr_allocs;
	mutex_unlock(&heap->lock);
	list_move(&heap->list, &rk_dma_heap_removed);
	xa_erase(&rk_dma_heap_minors, MINOR(heap->devt));
	mutex_unlock(&rk_dma_heap_list_lock);

	device_destroy(rk_dma_heap_class, heap->devt);
	cdev_del(heap->cdev);
	/*
	 * A heap of rk_dma_heap_add() maps with its class device, gone now;
	 * one of rk_dma_heap_register() keeps the device its caller holds.
	 */
	if (heap->heap_dev == heap->dev)
		WRITE_ONCE(heap->heap_dev, NULL);
	heap->dev = NULL;
	return gone;
}

/**
 * rk_dma_heap_remove() - unregister a heap and remove its device node
 * @heap:	a heap returned by rk_dma_heap_register()
 *
 * New allocations are refused from here on. Live ones keep working: the
 * implementation's release operation runs when the last is gone (or right
 * here if there is none), and the structure goes with the last reference
 * (rk_dma_heap_find(), open files, allocations).
 */
void rk_dma_heap_remove(struct rk_dma_heap *heap)
{
	if (rk_dma_heap_unregister(heap))
		rk_dma_heap_release_impl(heap);
	rk_dma_heap_put(heap);	/* the registry's */
}

/*
 * What stands in for the operations of a heap whose module went: the
 * contiguous pages it still had can no longer be freed.
 */
static void rk_dma_heap_orphan_contig_free(struct rk_dma_heap *heap,
					   struct page *pages, size_t len,
					   const char *name)
{
	pr_err_ratelimited("%s: refusing to free %zu bytes at pfn 0x%lx: the module that added the heap is gone\n",
			   heap->name, len, page_to_pfn(pages));
}

static const struct rk_dma_heap_ops rk_dma_heap_orphan_ops = {
	.contig_free	= rk_dma_heap_orphan_contig_free,
};

/*
 * @heap's module is going: its exit has run, its code is still there, and
 * nothing runs in it (a call into the heap holds the module). Our
 * operations take the place of its own, then the heap is removed; its
 * release runs here if nothing of it is left, or never.
 */
static void rk_dma_heap_orphan(struct rk_dma_heap *heap)
{
	const struct rk_dma_heap_ops *ops;

	mutex_lock(&heap->lock);
	ops = heap->ops;
	heap->ops = &rk_dma_heap_orphan_ops;
	heap->owner = NULL;
	mutex_unlock(&heap->lock);

	if (rk_dma_heap_unregister(heap) && ops->release)
		ops->release(heap);
	/* what it gave may be the module's own memory */
	rk_dma_heap_forget(heap);
	rk_dma_heap_put(heap);	/* the registry's */
}

/* A registered heap of @mod, with a reference, or NULL. */
static struct rk_dma_heap *rk_dma_heap_of_module(struct module *mod)
{
	struct rk_dma_heap *heap, *found = NULL;

	mutex_lock(&rk_dma_heap_list_lock);
	list_for_each_entry(heap, &rk_dma_heap_list, list) {
		mutex_lock(&heap->lock);
		if (heap->owner == mod)
			found = heap;
		mutex_unlock(&heap->lock);
		if (found) {
			refcount_inc(&found->users);
			break;
		}
	}
	mutex_unlock(&rk_dma_heap_list_lock);
	return found;
}

/* A module that added heaps is going: they go with it. */
static int rk_dma_heap_module_notify(struct notifier_block *nb,
				     unsigned long action, void *data)
{
	struct module *mod = data;
	struct rk_dma_heap *heap;

	if (action != MODULE_STATE_GOING)
		return NOTIFY_DONE;
	while ((heap = rk_dma_heap_of_module(mod))) {
		pr_info("%s: removed with module %s, which added it\n",
			heap->name, mod->name);
		rk_dma_heap_orphan(heap);
		rk_dma_heap_put(heap);
	}
	return NOTIFY_OK;
}

static struct notifier_block rk_dma_heap_module_nb = {
	.notifier_call = rk_dma_heap_module_notify,
};

/*
 * At unload: every driver that looked a heap up uses our symbols, so it
 * has been unloaded before us, and dma-bufs and open nodes pin us. What
 * is left are references never dropped (videobuf2-cma-sg never puts its
 * heap): nobody can use them.
 */
static void rk_dma_heap_free_removed(void)
{
	struct rk_dma_heap *heap, *tmp;

	list_for_each_entry_safe(heap, tmp, &rk_dma_heap_removed, list) {
		pr_info("%s: %u reference(s) from rk_dma_heap_find() were never released with rk_dma_heap_put()\n",
			heap->name, refcount_read(&heap->users));
		list_del(&heap->list);
		rk_dma_heap_free(heap);
	}
}

/* ------------------------------------------------------------ allocation */

/*
 * The alloc trace event of the allocation that started at @t0: the
 * record of @dmabuf, or of the contiguous pages at @start. The newest
 * record is normally the one.
 */
static void rk_dma_heap_trace_alloc(struct rk_dma_heap *heap,
				    struct dma_buf *dmabuf, phys_addr_t start,
				    ktime_t t0)
{
	struct rk_dma_heap_alloc *a;
	u32 us;

	if (!trace_rk_dma_heap_alloc_enabled())
		return;
	us = ktime_us_delta(ktime_get(), t0);
	mutex_lock(&heap->lock);
	list_for_each_entry(a, &heap->allocs, node) {
		if (a->dmabuf == dmabuf && (dmabuf || a->start == start)) {
			rk_dma_heap_trace_buffer(alloc, heap, a, NULL, us);
			break;
		}
	}
	mutex_unlock(&heap->lock);
}

/*
 * One rate-limited line per failed allocation: who asked for how much, and
 * what the region can still give (a buffer needs one free block of its
 * size), including what others hold in it.
 */
static void rk_dma_heap_report_enomem(struct rk_dma_heap *heap,
				      const struct rk_dma_heap_ops *ops,
				      size_t len, const char *name, ktime_t t0)
{
	struct rk_dma_heap_region_info info = { };
	char comm[TASK_COMM_LEN], outside[48] = "";
	bool say;
	u32 us;

	if (!ops->region_info)
		return;
	say = __ratelimit(&rk_dma_heap_enomem_rs);
	if (!say && !trace_rk_dma_heap_enomem_enabled())
		return;
	us = ktime_us_delta(ktime_get(), t0);
	if (!name || !name[0])
		name = get_task_comm(comm, current);
	ops->region_info(heap, &info);
	trace_rk_dma_heap_enomem(heap, len, name, us, &info);
	if (!say)
		return;
	if (info.outside)
		snprintf(outside, sizeof(outside), ", %zu KiB held outside the heap",
			 info.outside >> 10);
	pr_warn("%s: cannot allocate %zu KiB for %s: %zu KiB free, largest free block %zu KiB%s\n",
		heap->name, len >> 10, name,
		(info.size - info.used - info.outside) >> 10,
		info.largest_free >> 10, outside);
}

/**
 * rk_dma_heap_buffer_alloc() - allocate a dma-buf from a heap
 * @heap:	the heap, from rk_dma_heap_find()
 * @len:	size in bytes, rounded up to whole pages
 * @fd_flags:	O_CLOEXEC and the access mode (O_RDWR, ...) for the buffer's
 *		file; they apply when the buffer is later given an fd
 * @heap_flags:	0, or RK_DMA_HEAP_UNCACHED for a write-combined buffer
 * @name:	owner shown in /proc/rk_dma_heap/rk-dma-heap-info (usually
 *		dev_name() of the caller's device); NULL for the current thread
 *
 * The memory is physically contiguous and zeroed; cached unless
 * @heap_flags has RK_DMA_HEAP_UNCACHED.
 *
 * Return: the dma-buf, or ERR_PTR(-EINVAL) for a NULL heap, a zero or
 * oversized @len, or unknown flags; ERR_PTR(-ENOMEM) when the heap's region
 * cannot satisfy the request; ERR_PTR(-ENODEV) when the heap's device is
 * gone. Never NULL.
 */
struct dma_buf *rk_dma_heap_buffer_alloc(struct rk_dma_heap *heap, size_t len,
					 unsigned int fd_flags,
					 unsigned int heap_flags,
					 const char *name)
{
	const struct rk_dma_heap_ops *ops;
	struct dma_buf *dmabuf;
	ktime_t t0;
	int ret;

	if (!heap) {
		pr_err("buffer allocation from a NULL heap\n");
		return ERR_PTR(-EINVAL);
	}
	ret = rk_dma_heap_check_request(heap, len, fd_flags, heap_flags);
	if (ret)
		return ERR_PTR(ret);
	ops = rk_dma_heap_get_new_alloc(heap);
	if (IS_ERR(ops))
		return ERR_CAST(ops);

	t0 = ktime_get();
	dmabuf = ops->allocate(heap, PAGE_ALIGN(len), fd_flags, heap_flags,
			       name);
	if (PTR_ERR_OR_ZERO(dmabuf) == -ENOMEM)
		rk_dma_heap_report_enomem(heap, ops, PAGE_ALIGN(len), name, t0);
	else if (!IS_ERR(dmabuf))
		rk_dma_heap_trace_alloc(heap, dmabuf, 0, t0);
	rk_dma_heap_ops_put(heap);
	if (IS_ERR(dmabuf))
		rk_dma_heap_put_alloc(heap);
	return dmabuf;
}
EXPORT_SYMBOL_GPL(rk_dma_heap_buffer_alloc);

/**
 * rk_dma_heap_buffer_free() - drop the reference returned by
 *			       rk_dma_heap_buffer_alloc()
 * @dmabuf:	the dma-buf; NULL and error pointers are ignored
 *
 * The memory returns to the heap when the last reference (fds, mappings,
 * importers) is gone.
 */
void rk_dma_heap_buffer_free(struct dma_buf *dmabuf)
{
	if (!IS_ERR_OR_NULL(dmabuf))
		dma_buf_put(dmabuf);
}
EXPORT_SYMBOL_GPL(rk_dma_heap_buffer_free);

/**
 * rk_dma_heap_bufferfd_alloc() - allocate a dma-buf and install it as an fd
 * @heap:	the heap
 * @len:	size in bytes, rounded up to whole pages
 * @fd_flags:	O_CLOEXEC and the access mode for the new fd
 * @heap_flags:	0, or RK_DMA_HEAP_UNCACHED for a write-combined buffer
 * @name:	owner name, or NULL for the current thread
 *
 * Return: the new file descriptor in the current process, or a negative
 * errno: the errors of rk_dma_heap_buffer_alloc(), or -EMFILE.
 */
int rk_dma_heap_bufferfd_alloc(struct rk_dma_heap *heap, size_t len,
			       unsigned int fd_flags,
			       unsigned int heap_flags,
			       const char *name)
{
	struct dma_buf *dmabuf;
	int fd;

	dmabuf = rk_dma_heap_buffer_alloc(heap, len, fd_flags, heap_flags,
					  name);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);

	fd = dma_buf_fd(dmabuf, fd_flags);
	if (fd < 0)
		dma_buf_put(dmabuf);
	return fd;
}
EXPORT_SYMBOL_GPL(rk_dma_heap_bufferfd_alloc);

/**
 * rk_dma_heap_alloc_contig_pages() - allocate contiguous pages, no dma-buf
 * @heap:	the heap
 * @len:	size in bytes, rounded up to whole pages
 * @name:	owner name (usually dev_name() of the caller's device), or NULL
 *		for the current thread
 *
 * The pages are physically contiguous, zeroed and in lowmem; free them with
 * rk_dma_heap_free_contig_pages() and the same @len.
 *
 * Return: the first page, or ERR_PTR(-EINVAL) for a NULL heap or a bad
 * @len, ERR_PTR(-EOPNOTSUPP) if the heap cannot do it, ERR_PTR(-ENOMEM),
 * ERR_PTR(-ENODEV) when the heap's device is gone.
 */
struct page *rk_dma_heap_alloc_contig_pages(struct rk_dma_heap *heap,
					    size_t len, const char *name)
{
	const struct rk_dma_heap_ops *ops;
	struct page *page;
	ktime_t t0;
	int ret;

	if (!heap) {
		pr_err("contiguous page allocation from a NULL heap\n");
		return ERR_PTR(-EINVAL);
	}
	ret = rk_dma_heap_check_request(heap, len, 0, 0);
	if (ret)
		return ERR_PTR(ret);
	ops = rk_dma_heap_get_new_alloc(heap);
	if (IS_ERR(ops))
		return ERR_CAST(ops);

	t0 = ktime_get();
	page = ops->contig_alloc ? ops->contig_alloc(heap, PAGE_ALIGN(len), name) :
				   ERR_PTR(-EOPNOTSUPP);
	if (PTR_ERR_OR_ZERO(page) == -ENOMEM)
		rk_dma_heap_report_enomem(heap, ops, PAGE_ALIGN(len), name, t0);
	else if (!IS_ERR(page))
		rk_dma_heap_trace_alloc(heap, NULL, page_to_phys(page), t0);
	rk_dma_heap_ops_put(heap);
	if (IS_ERR(page))
		rk_dma_heap_put_alloc(heap);
	return page;
}
EXPORT_SYMBOL_GPL(rk_dma_heap_alloc_contig_pages);

/**
 * rk_dma_heap_free_contig_pages() - free pages of
 *				     rk_dma_heap_alloc_contig_pages()
 * @heap:	the heap they came from
 * @pages:	the first page
 * @len:	the length given at allocation
 * @name:	unused; kept for the BSP signature
 *
 * Pages that did not come from @heap, or a @len that does not match, are
 * refused with a dmesg line and left alone.
 */
void rk_dma_heap_free_contig_pages(struct rk_dma_heap *heap,
				   struct page *pages, size_t len,
				   const char *name)
{
	const struct rk_dma_heap_ops *ops;

	if (!heap || IS_ERR_OR_NULL(pages))
		return;
	ops = rk_dma_heap_get_alloc(heap, true);
	if (IS_ERR(ops)) {
		pr_err("%s: refusing to free %zu bytes at pfn 0x%lx: the heap's device is gone and none of its pages are allocated\n",
		       heap->name, PAGE_ALIGN(len), page_to_pfn(pages));
		return;
	}
	/* where the heap's module went, ours refuse: nothing can free them */
	if (ops && ops->contig_free)
		ops->contig_free(heap, pages, PAGE_ALIGN(len), name);
	if (ops)
		rk_dma_heap_ops_put(heap);
	rk_dma_heap_put_alloc(heap);
}
EXPORT_SYMBOL_GPL(rk_dma_heap_free_contig_pages);

/**
 * rk_vmap_contig_pfn() - map physically contiguous pages into kernel space
 * @pfn:	first page frame number
 * @count:	number of pages
 * @prot:	protection, e.g. PAGE_KERNEL or pgprot_writecombine(PAGE_KERNEL)
 *
 * Works on every kernel: it builds the page array and calls vmap(), which
 * modules may use everywhere (the BSP's vmap_pfn() route is not exported on
 * mainline). The pfns must have struct pages (RAM). Unmap with vunmap().
 *
 * Return: the kernel address, or NULL for zero @count, an invalid pfn or no
 * memory.
 */
void *rk_vmap_contig_pfn(unsigned long pfn, unsigned int count, pgprot_t prot)
{
	struct page **pages;
	unsigned int i;
	void *vaddr;

	if (!count || !pfn_valid(pfn) || !pfn_valid(pfn + count - 1))
		return NULL;
	pages = kvmalloc_array(count, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return NULL;
	for (i = 0; i < count; i++)
		pages[i] = pfn_to_page(pfn + i);
	vaddr = vmap(pages, count, VM_MAP, prot);
	kvfree(pages);
	return vaddr;
}
EXPORT_SYMBOL_GPL(rk_vmap_contig_pfn);

/* ------------------------------------------------------------ module */

static int __init rk_dma_heap_init(void)
{
	int ret;

	if (rk_dma_heap_node_mode & ~0666) {
		pr_err("node_mode %#o refused: give it in octal (e.g. 0660), read and write bits only\n",
		       rk_dma_heap_node_mode);
		return -EINVAL;
	}
	ret = alloc_chrdev_region(&rk_dma_heap_devt, 0, RK_DMA_HEAP_MAX_HEAPS,
				  "rk_dma_heap");
	if (ret) {
		pr_err("cannot allocate device numbers: %d\n", ret);
		return ret;
	}
	rk_dma_heap_class = rk_class_create("rk_dma_heap");
	if (IS_ERR(rk_dma_heap_class)) {
		ret = PTR_ERR(rk_dma_heap_class);
		rk_dma_heap_class = NULL;
		pr_err("cannot create the device class: %d\n", ret);
		goto err_chrdev;
	}
	rk_dma_heap_class->devnode = rk_dma_heap_devnode;

	ret = register_module_notifier(&rk_dma_heap_module_nb);
	if (ret)
		goto err_class;
	ret = rk_dma_heap_procfs_init();
	if (ret)
		goto err_notifier;
	ret = rk_dma_heap_cma_init();
	if (ret)
		goto err_procfs;
	/* once the heap's device is bound: the -dma32 names need its region */
	rk_dma_heap_mainline_init();
	return 0;

err_procfs:
	rk_dma_heap_procfs_exit();
err_notifier:
	unregister_module_notifier(&rk_dma_heap_module_nb);
err_class:
	class_destroy(rk_dma_heap_class);
	rk_dma_heap_class = NULL;
err_chrdev:
	unregister_chrdev_region(rk_dma_heap_devt, RK_DMA_HEAP_MAX_HEAPS);
	return ret;
}
module_init(rk_dma_heap_init);

static void __exit rk_dma_heap_exit(void)
{
	rk_dma_heap_cma_exit();
	rk_dma_heap_procfs_exit();
	unregister_module_notifier(&rk_dma_heap_module_nb);
	class_destroy(rk_dma_heap_class);
	unregister_chrdev_region(rk_dma_heap_devt, RK_DMA_HEAP_MAX_HEAPS);
	rk_dma_heap_free_removed();
	xa_destroy(&rk_dma_heap_minors);
}
module_exit(rk_dma_heap_exit);

MODULE_DESCRIPTION("Rockchip dma-buf heaps (rk-dma-heap-cma) for BSP and mainline kernels");
MODULE_LICENSE("GPL");
RK_MODULE_IMPORT_DMA_BUF();
RK_MODULE_IMPORT_DMA_BUF_HEAP();
