#!/bin/sh
# make demo: a few allocations from user space and from the test client
# devices, and what the device node and the info node show.
H=/sys/kernel/debug/rk_dma_heap_test
echo "==== ls -l /dev/rk_dma_heap/"
ls -l /dev/rk_dma_heap/
insmod /lib/modules/rk/rk_dma_heap_test_client.ko
modprobe vgem 2>/dev/null
# driver-side allocations, as rkvenc, rkisp and the NPU make them
echo "alloc 0 102400" > $H/ff660000.npu
echo "alloc 0 409600" > $H/ffa50000.rkvenc
echo "attach 0" > $H/ffa50000.rkvenc
echo "contig 0 69632" > $H/ffa00000.rkisp
echo "contig 1 16384 rkisp-vir0" > $H/ffa00000.rkisp
echo "==== user space allocates 100 KiB (named vmpi), 432 KiB and 1 MiB"
rk_heap_demo -c "echo '==== cat /proc/rk_dma_heap/rk-dma-heap-info'; cat /proc/rk_dma_heap/rk-dma-heap-info; echo '==== cat /proc/rk_dma_heap/rk-dma-heap-usage'; cat /proc/rk_dma_heap/rk-dma-heap-usage" 100:vmpi 432 1024
echo "free 0" > $H/ff660000.npu
echo "free 0" > $H/ffa50000.rkvenc
echo "free 0" > $H/ffa00000.rkisp
echo "free 1" > $H/ffa00000.rkisp
echo "==== after freeing everything"
cat /proc/rk_dma_heap/rk-dma-heap-info
head -n 2 /proc/rk_dma_heap/alloc_bitmap
