/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place that compares kernel versions: rk_dma_heap is built out of
 * tree for the Rockchip BSP (5.10) and for mainline kernels from 5.10 on,
 * so the code guards API changes with RK_KERNEL_AT_LEAST().
 */
#ifndef _RK_DMA_HEAP_COMPAT_H
#define _RK_DMA_HEAP_COMPAT_H

#include <linux/module.h>
#include <linux/version.h>

#define RK_KERNEL_AT_LEAST(major, minor, sub) \
	(LINUX_VERSION_CODE >= KERNEL_VERSION(major, minor, sub))

/* dma-buf symbols live in the DMA_BUF namespace from 5.16 (a string from 6.13) */
#if RK_KERNEL_AT_LEAST(6, 13, 0)
#define RK_MODULE_IMPORT_DMA_BUF() MODULE_IMPORT_NS("DMA_BUF")
#elif RK_KERNEL_AT_LEAST(5, 16, 0)
#define RK_MODULE_IMPORT_DMA_BUF() MODULE_IMPORT_NS(DMA_BUF)
#else
#define RK_MODULE_IMPORT_DMA_BUF()
#endif

#endif /* _RK_DMA_HEAP_COMPAT_H */
