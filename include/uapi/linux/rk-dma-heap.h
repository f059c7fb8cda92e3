/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * User-space ABI of the Rockchip dma-buf heaps (/dev/rk_dma_heap/<heap>).
 *
 * One ioctl allocates a buffer and returns it as a dma-buf file descriptor.
 * It is accepted under the Rockchip magic ('R') and under the magic of
 * mainline's dma-heap header ('H'), as the Rockchip BSP does.
 */
#ifndef _UAPI_LINUX_RK_DMA_HEAP_H
#define _UAPI_LINUX_RK_DMA_HEAP_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * O_CLOEXEC and O_ACCMODE, for RK_DMA_HEAP_VALID_FD_FLAGS: in a program
 * they come from the C library's <fcntl.h>, as it expects; <linux/fcntl.h>
 * would clash with that one (both define struct flock).
 */
#ifdef __KERNEL__
#include <linux/fcntl.h>
#elif !defined(O_CLOEXEC)
#include <fcntl.h>
#endif

/* fd_flags the allocation ioctl accepts for the returned dma-buf fd */
#define RK_DMA_HEAP_VALID_FD_FLAGS (O_CLOEXEC | O_ACCMODE)

/*
 * heap_flags: RK_DMA_HEAP_UNCACHED asks for a buffer that the CPU maps
 * write-combined, in user space and in the kernel, and that needs no cache
 * maintenance: DMA_BUF_IOCTL_SYNC does nothing for it, and its zeroes are
 * in memory when the allocation returns. Any other bit is rejected with
 * EINVAL.
 */
#define RK_DMA_HEAP_UNCACHED (1ULL << 0)
#define RK_DMA_HEAP_VALID_HEAP_FLAGS (RK_DMA_HEAP_UNCACHED)

/**
 * struct rk_dma_heap_allocation_data - allocation request
 * @len:	size of the buffer in bytes, rounded up to whole pages
 * @fd:		out: the dma-buf file descriptor; must be 0 on input
 * @fd_flags:	flags for @fd: O_CLOEXEC and the access mode (O_RDWR, ...)
 * @heap_flags:	0, or RK_DMA_HEAP_UNCACHED
 *
 * Same layout as mainline's struct dma_heap_allocation_data.
 */
struct rk_dma_heap_allocation_data {
	__u64 len;
	__u32 fd;
	__u32 fd_flags;
	__u64 heap_flags;
};

#define RK_DMA_HEAP_IOC_MAGIC		'R'
#define RK_DMA_HEAP_IOCTL_ALLOC	_IOWR(RK_DMA_HEAP_IOC_MAGIC, 0x0, \
				      struct rk_dma_heap_allocation_data)

/*
 * The same request under mainline's name and magic: from <linux/dma-heap.h>
 * where there is one, so that a program may include both headers in either
 * order; else defined here as mainline defines it.
 */
#if defined(__has_include)
#if __has_include("linux/dma-heap.h")
#include <linux/dma-heap.h>
#endif
#endif

#ifndef DMA_HEAP_IOCTL_ALLOC
struct dma_heap_allocation_data {
	__u64 len;
	__u32 fd;
	__u32 fd_flags;
	__u64 heap_flags;
};

#define DMA_HEAP_IOC_MAGIC		'H'
#define DMA_HEAP_IOCTL_ALLOC	_IOWR(DMA_HEAP_IOC_MAGIC, 0x0, \
				      struct dma_heap_allocation_data)
#endif

#endif /* _UAPI_LINUX_RK_DMA_HEAP_H */
