// SPDX-License-Identifier: GPL-2.0
/*
 * Kbuild cannot link an object named like its module into a composite
 * module, so the core, rk_dma_heap.c, is compiled through this file.
 */
#include "rk_dma_heap.c"
