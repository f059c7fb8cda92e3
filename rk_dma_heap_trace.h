/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trace events of rk_dma_heap, in tracefs under events/rk_dma_heap/: what
 * happened to the heap's memory, one event per allocation, free, attach,
 * detach and failed allocation. Every event names the heap, the buffer's
 * size, its owner (as in the info node) and the owner's process; those of
 * a buffer also its physical start.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM rk_dma_heap

#if !defined(_RK_DMA_HEAP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _RK_DMA_HEAP_TRACE_H

#include <linux/device.h>
#include <linux/tracepoint.h>
#include "rk_dma_heap_priv.h"

#define RK_TRACE_NAME_LEN	32

/*
 * The events of a buffer, emitted with the heap's lock held (the record
 * cannot go meanwhile): @owner is the name the info node shows, found
 * before the event (the dma-buf's name lock may sleep on PREEMPT_RT, and
 * the assignment below runs with preemption off), @dev the device that
 * attaches or detaches (NULL for the others), @value the allocation's
 * latency in microseconds or the buffer's age at its free in milliseconds
 * (0 for the others).
 */
DECLARE_EVENT_CLASS(rk_dma_heap_buffer,
		    TP_PROTO(struct rk_dma_heap *heap,
			     struct rk_dma_heap_alloc *a, const char *owner,
			     struct device *dev, u32 value),
		    TP_ARGS(heap, a, owner, dev, value),
		    TP_STRUCT__entry(__array(char, heap, RK_TRACE_NAME_LEN)
				     __array(char, owner, RK_DMA_HEAP_OWNER_LEN)
				     __array(char, dev, RK_TRACE_NAME_LEN)
				     __field(u64, start)
				     __field(size_t, size)
				     __field(pid_t, pid)
				     __field(u32, value)),
		    TP_fast_assign(strscpy(__entry->heap, heap->name,
					   RK_TRACE_NAME_LEN);
				   strscpy(__entry->owner, owner,
					   RK_DMA_HEAP_OWNER_LEN);
				   strscpy(__entry->dev, dev ? dev_name(dev) : "",
					   RK_TRACE_NAME_LEN);
				   __entry->start = a->start;
				   __entry->size = a->size;
				   __entry->pid = a->pid;
				   __entry->value = value;),
		    TP_printk("heap=%s start=0x%llx size=%zu owner=%s pid=%d dev=%s",
			      __entry->heap, __entry->start, __entry->size,
			      __entry->owner, __entry->pid, __entry->dev)
);

#define RK_TRACE_BUFFER_FMT "heap=%s start=0x%llx size=%zu owner=%s pid=%d"

/* an allocation, value microseconds after it was asked for */
DEFINE_EVENT_PRINT(rk_dma_heap_buffer, rk_dma_heap_alloc,
		   TP_PROTO(struct rk_dma_heap *heap,
			    struct rk_dma_heap_alloc *a, const char *owner,
			    struct device *dev, u32 value),
		   TP_ARGS(heap, a, owner, dev, value),
		   TP_printk(RK_TRACE_BUFFER_FMT " latency_us=%u",
			     __entry->heap, __entry->start, __entry->size,
			     __entry->owner, __entry->pid, __entry->value)
);

/* the buffer's memory goes back to the heap, value ms after its allocation */
DEFINE_EVENT_PRINT(rk_dma_heap_buffer, rk_dma_heap_free,
		   TP_PROTO(struct rk_dma_heap *heap,
			    struct rk_dma_heap_alloc *a, const char *owner,
			    struct device *dev, u32 value),
		   TP_ARGS(heap, a, owner, dev, value),
		   TP_printk(RK_TRACE_BUFFER_FMT " age_ms=%u",
			     __entry->heap, __entry->start, __entry->size,
			     __entry->owner, __entry->pid, __entry->value)
);

/* a device attaches to the buffer, or detaches */
DEFINE_EVENT(rk_dma_heap_buffer, rk_dma_heap_attach,
	     TP_PROTO(struct rk_dma_heap *heap, struct rk_dma_heap_alloc *a,
		      const char *owner, struct device *dev, u32 value),
	     TP_ARGS(heap, a, owner, dev, value)
);

DEFINE_EVENT(rk_dma_heap_buffer, rk_dma_heap_detach,
	     TP_PROTO(struct rk_dma_heap *heap, struct rk_dma_heap_alloc *a,
		      const char *owner, struct device *dev, u32 value),
	     TP_ARGS(heap, a, owner, dev, value)
);

/*
 * An allocation of @size bytes for @owner failed for want of memory,
 * @latency_us after it was asked for, with what the region had then.
 */
TRACE_EVENT(rk_dma_heap_enomem,
	    TP_PROTO(struct rk_dma_heap *heap, size_t size, const char *owner,
		     u32 latency_us, const struct rk_dma_heap_region_info *info),
	    TP_ARGS(heap, size, owner, latency_us, info),
	    TP_STRUCT__entry(__array(char, heap, RK_TRACE_NAME_LEN)
			     __array(char, owner, RK_DMA_HEAP_OWNER_LEN)
			     __field(size_t, size)
			     __field(pid_t, pid)
			     __field(u32, latency_us)
			     __field(size_t, free)
			     __field(size_t, largest_free)),
	    TP_fast_assign(strscpy(__entry->heap, heap->name,
				   RK_TRACE_NAME_LEN);
			   strscpy(__entry->owner, owner,
				   RK_DMA_HEAP_OWNER_LEN);
			   __entry->size = size;
			   __entry->pid = task_tgid_nr(current);
			   __entry->latency_us = latency_us;
			   __entry->free = info->size - info->used -
					   info->outside;
			   __entry->largest_free = info->largest_free;),
	    TP_printk("heap=%s size=%zu owner=%s pid=%d latency_us=%u free=%zu largest_free=%zu",
		      __entry->heap, __entry->size, __entry->owner,
		      __entry->pid, __entry->latency_us, __entry->free,
		      __entry->largest_free)
);

#endif /* _RK_DMA_HEAP_TRACE_H */

/* this directory is on the include path (Kbuild) */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE rk_dma_heap_trace
#include <trace/define_trace.h>
