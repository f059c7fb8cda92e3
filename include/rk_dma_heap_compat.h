/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place that compares kernel versions: rk_dma_heap is built out of
 * tree for the Rockchip BSP (5.10) and for mainline kernels from 5.10 on,
 * so the code guards API changes with RK_KERNEL_AT_LEAST().
 */
#ifndef _RK_DMA_HEAP_COMPAT_H
#define _RK_DMA_HEAP_COMPAT_H

#include <linux/version.h>

#define RK_KERNEL_AT_LEAST(major, minor, sub) \
	(LINUX_VERSION_CODE >= KERNEL_VERSION(major, minor, sub))

#endif /* _RK_DMA_HEAP_COMPAT_H */
